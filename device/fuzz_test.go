package device

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/device/hid"
)

// fuzzFramer checks a framer's promises on any input: frames are clean
// text within the maximum, the result does not depend on how the stream
// is split, drops carry a reason and never count more bytes than came in,
// and Idle at the deadline moves the deadline on (no busy loop).
func fuzzFramer(t *testing.T, s frameSpec, data, cuts []byte) {
	max := s.Max
	if max == 0 {
		max = defaultMaxFrame
	}
	check := func(fs []frame, ds []Drop) {
		for _, f := range fs {
			require.NotEmpty(t, f.Text)
			require.LessOrEqual(t, len(f.Text), max)
			require.Empty(t, textReason([]byte(f.Text)), "%q", f.Text)
			require.True(t, utf8.ValidString(f.Text))
		}
		for _, d := range ds {
			require.NotEmpty(t, d.Reason)
			require.Positive(t, d.Bytes, d.Reason)
		}
	}
	// Chunks from the cut positions.
	var chunks [][]byte
	rest := data
	for _, c := range cuts {
		n := int(c) % (len(rest) + 1)
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	chunks = append(chunks, rest)

	whole := newTestFramer(t, s)
	var rw result
	fs, ds := whole.Feed(t0, data)
	check(fs, ds)
	rw.add(fs, ds)
	split := newTestFramer(t, s)
	var rs result
	for _, c := range chunks {
		fs, ds := split.Feed(t0, c)
		check(fs, ds)
		rs.add(fs, ds)
	}
	require.Equal(t, rw, rs, "same stream, other split")
	require.LessOrEqual(t, rw.bytes, len(data))

	// Again with time passing between chunks (cut values as milliseconds,
	// up to 2.5 s), idling at every deadline.
	timed := newTestFramer(t, s)
	now := t0
	dropped := 0
	for i, c := range chunks {
		if i < len(cuts) {
			now = now.Add(time.Duration(cuts[i]) * 10 * time.Millisecond)
		}
		for d := timed.Deadline(); !d.IsZero() && !d.After(now); d = timed.Deadline() {
			fs, ds := timed.Idle(d)
			check(fs, ds)
			dropped += len(ds)
			next := timed.Deadline()
			require.True(t, next.IsZero() || next.After(d), "deadline %v did not move on (now %v)", d, next)
		}
		fs, ds := timed.Feed(now, c)
		check(fs, ds)
	}
	for _, d := range timed.Reset(now, "end") {
		require.Positive(t, d.Bytes)
	}
	require.True(t, timed.Deadline().IsZero(), "nothing pending after Reset")
}

func addFrameSeeds(f *testing.F, streams ...string) {
	for _, s := range streams {
		f.Add([]byte(s), []byte{3, 1, 200})
	}
}

func FuzzFrameLine(f *testing.F) {
	addFrameSeeds(f, "1234\r\n5678\r\r\n\n", "\x00\xff12\n", "卡号\n")
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		fuzzFramer(t, frameSpec{Type: frameLine, Max: 16, PartialTimeout: time.Second}, data, cuts)
	})
}

func FuzzFrameCR(f *testing.F) {
	addFrameSeeds(f, "1234\r5678\r\n", "\r\r\r", "12\x0034\r")
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		fuzzFramer(t, frameSpec{Type: frameCR, Max: 16, PartialTimeout: time.Second}, data, cuts)
	})
}

func FuzzFrameLF(f *testing.F) {
	addFrameSeeds(f, "1234\n5678\r\n", "\n\n", "12345678901234567890\n")
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		fuzzFramer(t, frameSpec{Type: frameLF, Max: 16, PartialTimeout: time.Second}, data, cuts)
	})
}

func FuzzFrameCRLF(f *testing.F) {
	addFrameSeeds(f, "1234\r\n5678\r\n", "12\r34\r\n", "\r\r\n\r", "12345678901234567890\r\n12\r\n")
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		fuzzFramer(t, frameSpec{Type: frameCRLF, Max: 16, PartialTimeout: time.Second}, data, cuts)
	})
}

func FuzzFrameSTX(f *testing.F) {
	addFrameSeeds(f, "\x021234\x03\x04\r\n", "\xff\x02\x0212\x03\x00", "\x02\x03\x03", "\x0212345678901234567890\x03\x00")
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		fuzzFramer(t, frameSpec{Type: frameSTX, Max: 16, PartialTimeout: time.Second}, data, cuts)
		fuzzFramer(t, frameSpec{Type: frameSTX, Check: checkXOR, Max: 16, PartialTimeout: time.Second}, data, cuts)
		fuzzFramer(t, frameSpec{Type: frameSTX, Check: checkLRC, Max: 16, PartialTimeout: time.Second}, data, cuts)
	})
}

func FuzzFrameFixed(f *testing.F) {
	addFrameSeeds(f, "1234567890", "\x00\x01\x02\x03\x04", "12")
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		fuzzFramer(t, frameSpec{Type: frameFixed, Size: 4, Max: 16, PartialTimeout: time.Second}, data, cuts)
	})
}

func FuzzFrameGap(f *testing.F) {
	addFrameSeeds(f, "1234", "12345678901234567890", "\x00")
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		fuzzFramer(t, frameSpec{Type: frameGap, Gap: 50 * time.Millisecond, Max: 16}, data, cuts)
	})
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"serial:/dev/ttyUSB0?baud=9600&data=8&parity=none&stop=1&frame=crlf",
		"serial:usb=0403:6001&serial=A1B2?baud=115200&frame=stx&check=xor",
		"serial:/dev/ttyS0?fixed=10&kind=card&reverse_bytes=1&hex2dec=1&pad=10&match=[0-9]{10}",
		"serial:/dev/ttyS0?gap=50ms&debounce=0s&strip_prefix=%02&strip_suffix=%03",
		"hid-keyboard:0c2e:0b61?serial=123&tab=1&layout=us&report_id=1",
		"hid-pos:0c2e:0b61?vendor_byte=1&feature=fe01&usage_page=0x8c",
		"hid-pos:0c2e:0b61?interface=1&vendor_byte=1",
		"replay:cap.txt?as=hid-pos&kind=barcode&speed=fast",
		"replay:cap.txt?as=serial&frame=crlf&speed=recorded",
		"keyboard:?tab=1",
		"keyboard:",
		"serial:?baud=x",
		"bogus",
	} {
		f.Add("reader", s)
	}
	f.Fuzz(func(t *testing.T, name, raw string) {
		s, err := ParseSpec(name, raw)
		if err != nil {
			var se *SpecError
			require.True(t, errors.As(err, &se), "%T %v", err, err)
			require.Contains(t, err.Error(), se.Option)
			return
		}
		require.Equal(t, name, s.Name)
		require.Equal(t, raw, s.Raw)
		require.Contains(t, []Type{TypeSerial, TypeHIDKeyboard, TypeHIDPOS, TypeReplay, TypeKeyboard}, s.Type)
		require.Contains(t, []Kind{KindCard, KindBarcode}, s.Kind)
		_, err = newFramer(s.frame)
		require.NoError(t, err)
		s2, err := ParseSpec(name, raw)
		require.NoError(t, err)
		require.Equal(t, s.frame, s2.frame)
		require.Equal(t, s.serial, s2.serial)
		// What Open is given: any interface, or a USB interface number.
		require.True(t, s.hid.Interface == hid.AnyInterface || s.hid.Interface >= 0 && s.hid.Interface <= 255, "interface %d", s.hid.Interface)
	})
}

func FuzzParseCapture(f *testing.F) {
	f.Add([]byte("# header\n0 02 31 32 03\n12.5 0d0a\n\n40 ff\n"))
	f.Add([]byte("5 00\n4 00\n"))
	f.Add([]byte("x 00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseCapture(bytes.NewReader(data))
		if err != nil {
			require.Contains(t, err.Error(), "line")
			return
		}
		var b bytes.Buffer
		for _, r := range recs {
			require.NotEmpty(t, r.Data)
			require.NoError(t, WriteRecord(&b, r))
		}
		again, err := parseCapture(&b)
		require.NoError(t, err)
		require.Len(t, again, len(recs))
		for i := range recs {
			require.Equal(t, recs[i].Data, again[i].Data)
			require.Equal(t, recs[i].At.Milliseconds(), again[i].At.Milliseconds())
		}
	})
}
