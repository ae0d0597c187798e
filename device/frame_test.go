package device

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newTestFramer(t testing.TB, s frameSpec) framer {
	t.Helper()
	f, err := newFramer(s)
	require.NoError(t, err)
	return f
}

// result is what a framer made of a stream: frame texts and drop reasons
// with their byte counts.
type result struct {
	texts []string
	drops []string
	bytes int
}

func (r *result) add(fs []frame, ds []Drop) {
	for _, f := range fs {
		r.texts = append(r.texts, f.Text)
	}
	for _, d := range ds {
		r.drops = append(r.drops, d.Reason)
		r.bytes += d.Bytes
	}
}

// feedChunks feeds chunks all at time at, then tells the framer the line
// went quiet for good.
func feedChunks(f framer, at time.Time, chunks ...[]byte) result {
	var r result
	for _, c := range chunks {
		r.add(f.Feed(at, c))
	}
	r.add(f.Idle(at.Add(time.Hour)))
	return r
}

// checkSplits feeds stream whole, byte by byte, and split in two at every
// position, and requires the same result every time.
func checkSplits(t *testing.T, s frameSpec, stream []byte, want result) {
	t.Helper()
	got := feedChunks(newTestFramer(t, s), t0, stream)
	require.Equal(t, want.texts, got.texts, "whole")
	require.Equal(t, want.drops, got.drops, "whole")
	if want.bytes != 0 {
		require.Equal(t, want.bytes, got.bytes, "dropped bytes")
	}
	var bytewise [][]byte
	for i := range stream {
		bytewise = append(bytewise, stream[i:i+1])
	}
	assert.Equal(t, got, feedChunks(newTestFramer(t, s), t0, bytewise...), "byte by byte")
	for i := 0; i <= len(stream); i++ {
		assert.Equal(t, got, feedChunks(newTestFramer(t, s), t0, stream[:i], stream[i:]), "split at %d", i)
	}
}

func TestLineFramers(t *testing.T) {
	long := strings.Repeat("9", 20)
	tests := []struct {
		name   string
		spec   frameSpec
		stream string
		want   result
	}{
		{"crlf", frameSpec{Type: frameCRLF}, "1234\r\n5678\r\n", result{texts: []string{"1234", "5678"}}},
		{"crlf lone CR is noise", frameSpec{Type: frameCRLF}, "12\r34\r\n5678\r\n", result{
			texts: []string{"5678"}, drops: []string{"binary noise: control byte 0x0d in frame"}, bytes: 7}},
		{"crlf CR CR LF", frameSpec{Type: frameCRLF}, "12\r\r\n", result{drops: []string{"binary noise: control byte 0x0d in frame"}, bytes: 5}},
		{"cr", frameSpec{Type: frameCR}, "1234\r5678\r", result{texts: []string{"1234", "5678"}}},
		{"cr sees LF as noise", frameSpec{Type: frameCR}, "1234\r\n5678\r", result{
			texts: []string{"1234"}, drops: []string{"binary noise: control byte 0x0a in frame"}}},
		{"lf", frameSpec{Type: frameLF}, "1234\n\n5678\n", result{texts: []string{"1234", "5678"}}},
		{"line takes any", frameSpec{Type: frameLine}, "1234\r\n5678\r9012\n\n", result{texts: []string{"1234", "5678", "9012"}}},
		{"binary noise", frameSpec{Type: frameLine}, "\x00\xff\x131234\r\n5678\r\n", result{
			texts: []string{"5678"}, drops: []string{"binary noise: control byte 0x00 in frame"}, bytes: 8}},
		{"invalid UTF-8", frameSpec{Type: frameLine}, "ab\xc3(\r\n", result{drops: []string{"binary noise: byte 0xc3 is not UTF-8"}}},
		{"UTF-8 text passes", frameSpec{Type: frameLine}, "卡号42\r\n", result{texts: []string{"卡号42"}}},
		{"overlong dropped whole, tail too", frameSpec{Type: frameCRLF, Max: 10}, long + "\r\n1234\r\n", result{
			texts: []string{"1234"}, drops: []string{"overlong frame (more than 10 bytes)"}, bytes: 22}},
		{"exactly max", frameSpec{Type: frameCRLF, Max: 4}, "1234\r\n12345\r\n", result{
			texts: []string{"1234"}, drops: []string{"overlong frame (more than 4 bytes)"}, bytes: 7}},
		{"partial at the end", frameSpec{Type: frameCRLF, PartialTimeout: time.Second}, "1234\r\n56", result{
			texts: []string{"1234"}, drops: []string{"partial frame (2 bytes, then nothing for 1s)"}, bytes: 2}},
		{"partial CR at the end", frameSpec{Type: frameCRLF, PartialTimeout: time.Second}, "1234\r", result{
			drops: []string{"partial frame (5 bytes, then nothing for 1s)"}, bytes: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkSplits(t, tt.spec, []byte(tt.stream), tt.want) })
	}
}

func TestSTXFramer(t *testing.T) {
	frame := func(data string, check checkType) string {
		s := "\x02" + data + "\x03"
		var x, sum byte
		for _, c := range []byte(data + "\x03") {
			x ^= c
			sum += c
		}
		switch check {
		case checkXOR:
			s += string([]byte{x})
		case checkLRC:
			s += string([]byte{-sum})
		}
		return s
	}
	tests := []struct {
		name   string
		spec   frameSpec
		stream string
		want   result
	}{
		{"plain", frameSpec{Type: frameSTX}, frame("0012345678", "") + "\r\n" + frame("42", ""), result{texts: []string{"0012345678", "42"}}},
		{"xor", frameSpec{Type: frameSTX, Check: checkXOR}, frame("0012345678", checkXOR) + frame("42", checkXOR), result{texts: []string{"0012345678", "42"}}},
		{"lrc", frameSpec{Type: frameSTX, Check: checkLRC}, frame("0012345678", checkLRC), result{texts: []string{"0012345678"}}},
		{"xor mismatch", frameSpec{Type: frameSTX, Check: checkXOR}, "\x0212\x03\xff" + frame("34", checkXOR), result{
			texts: []string{"34"}, drops: []string{"xor check byte 0xff, want 0x00"}, bytes: 5}},
		{"noise outside", frameSpec{Type: frameSTX, PartialTimeout: time.Second}, "\xff\x00zz" + frame("42", "") + "\x01", result{
			texts: []string{"42"}, drops: []string{"binary noise: 4 bytes outside STX…ETX", "binary noise: 1 bytes outside STX…ETX"}, bytes: 5}},
		{"STX inside a frame", frameSpec{Type: frameSTX}, "\x0212" + frame("42", ""), result{
			texts: []string{"42"}, drops: []string{"partial frame: STX before ETX"}, bytes: 3}},
		{"overlong", frameSpec{Type: frameSTX, Check: checkXOR, Max: 4}, frame("123456", checkXOR) + frame("42", checkXOR), result{
			texts: []string{"42"}, drops: []string{"overlong frame (more than 4 bytes)"}, bytes: 9}},
		{"control byte inside", frameSpec{Type: frameSTX}, frame("1\r2", ""), result{drops: []string{"binary noise: control byte 0x0d in frame"}}},
		{"partial at the end", frameSpec{Type: frameSTX, PartialTimeout: time.Second}, frame("42", "") + "\x0212", result{
			texts: []string{"42"}, drops: []string{"partial frame (3 bytes, then nothing for 1s)"}, bytes: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkSplits(t, tt.spec, []byte(tt.stream), tt.want) })
	}
}

func TestFixedFramer(t *testing.T) {
	checkSplits(t, frameSpec{Type: frameFixed, Size: 4, PartialTimeout: time.Second}, []byte("12345678\x00bcd90"), result{
		texts: []string{"1234", "5678"},
		drops: []string{"binary noise: control byte 0x00 in frame", "partial frame (2 bytes, then nothing for 1s)"},
		bytes: 6,
	})
}

func TestGapFramer(t *testing.T) {
	f := newTestFramer(t, frameSpec{Type: frameGap, Gap: 50 * time.Millisecond, Max: 8})
	var r result
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r.add(f.Feed(at(0), []byte("12")))
	r.add(f.Feed(at(10), []byte("34")))
	assert.Equal(t, at(60), f.Deadline(), "a gap after the last byte")
	r.add(f.Idle(at(59)))
	assert.Empty(t, r.texts, "not quiet long enough")
	r.add(f.Idle(at(60)))
	assert.Equal(t, []string{"1234"}, r.texts)
	assert.True(t, f.Deadline().IsZero(), "nothing pending")
	// The next frame ends at the gap before a later read, idle or not.
	r.add(f.Feed(at(100), []byte("56")))
	r.add(f.Feed(at(200), []byte("78")))
	assert.Equal(t, []string{"1234", "56"}, r.texts)
	r.add(f.Feed(at(210), []byte("123456789")))
	r.add(f.Idle(at(300)))
	assert.Equal(t, []string{"1234", "56"}, r.texts)
	assert.Equal(t, []string{"overlong frame (more than 8 bytes)"}, r.drops)
	assert.Equal(t, 11, r.bytes)
}

func TestPartialTimeoutKeepsFramesApart(t *testing.T) {
	// Power-on garbage without a terminator must not be glued to the first
	// card; a frame whose bytes keep coming is not cut.
	f := newTestFramer(t, frameSpec{Type: frameCRLF, PartialTimeout: time.Second})
	var r result
	r.add(f.Feed(t0, []byte("ZZ")))
	r.add(f.Feed(t0.Add(3*time.Second), []byte("1234\r\n")))
	assert.Equal(t, []string{"1234"}, r.texts)
	assert.Equal(t, []string{"partial frame (2 bytes, then nothing for 1s)"}, r.drops)
	for i, c := range []byte("5678\r\n") {
		r.add(f.Feed(t0.Add(4*time.Second+time.Duration(i)*900*time.Millisecond), []byte{c}))
	}
	assert.Equal(t, []string{"1234", "5678"}, r.texts)
}

func TestFramerReset(t *testing.T) {
	for _, s := range []frameSpec{{Type: frameCRLF}, {Type: frameSTX}, {Type: frameFixed, Size: 8}, {Type: frameGap, Gap: time.Second}} {
		f := newTestFramer(t, s)
		fs, ds := f.Feed(t0, []byte("\x0212"))
		require.Empty(t, fs)
		require.Empty(t, ds)
		ds = f.Reset(t0, "device disconnected")
		require.Len(t, ds, 1, s.Type)
		assert.Contains(t, ds[0].Reason, "device disconnected")
		assert.Equal(t, 3, ds[0].Bytes, s.Type)
		assert.Empty(t, f.Reset(t0, "again"), "nothing left")
		assert.True(t, f.Deadline().IsZero())
	}
}

func TestNewFramerErrors(t *testing.T) {
	for _, s := range []frameSpec{
		{Type: "bogus"}, {Type: frameFixed}, {Type: frameFixed, Size: 300}, {Type: frameGap},
		{Type: frameSTX, Check: "crc"}, {Type: frameLine, Max: -1},
	} {
		_, err := newFramer(s)
		assert.Error(t, err, "%+v", s)
	}
}

func TestTextReason(t *testing.T) {
	assert.Empty(t, textReason([]byte("ABC-123 ~ é")))
	assert.NotEmpty(t, textReason([]byte{0x7f}))
	assert.NotEmpty(t, textReason([]byte("\u0085")), "C1 control")
	assert.NotEmpty(t, textReason(bytes.Repeat([]byte{0xff}, 2)))
}
