package hid_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/device/hid"
)

// posReport builds a 64-byte Honeywell-layout scanned-data report: ID 2,
// length, AIM id, data, then vendor byte, reserved, flags at 61, 62, 63.
func posReport(aim, data string, vendor byte, more bool) []byte {
	r := make([]byte, 64)
	r[0] = 0x02
	r[1] = byte(len(data))
	copy(r[2:5], aim)
	copy(r[5:61], data)
	r[61] = vendor
	if more {
		r[63] = 0x01
	}
	return r
}

func TestPOSDecoder(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 8)[:100] // 56 + 44 bytes
	withLen := func(r []byte, n byte) []byte { r[1] = n; return r }
	withID := func(r []byte, id byte) []byte { r[0] = id; return r }

	tests := []struct {
		name      string
		opts      hid.POSOptions
		reports   [][]byte
		scans     []hid.POSScan
		dropWords []string
	}{
		{
			name:    "single report",
			reports: [][]byte{posReport("]E0", "4006381333931", 'd', false)},
			scans:   []hid.POSScan{{Text: "4006381333931", Symbology: "]E0"}},
		},
		{
			name:    "vendor byte",
			opts:    hid.POSOptions{VendorSymbologyByte: true},
			reports: [][]byte{posReport("]Q1", "Hello, World", 's', false)},
			scans:   []hid.POSScan{{Text: "Hello, World", Symbology: "]Q1", VendorSymbology: 's'}},
		},
		{
			name:    "multi-report continuation",
			opts:    hid.POSOptions{VendorSymbologyByte: true},
			reports: [][]byte{posReport("]C0", long[:56], 'j', true), posReport("]C0", long[56:], 'j', false)},
			scans:   []hid.POSScan{{Text: long, Symbology: "]C0", VendorSymbology: 'j'}},
		},
		{
			name: "three reports then another code",
			reports: [][]byte{
				posReport("]Q1", long[:56], 0, true), posReport("]Q1", long[56:], 0, true), posReport("]Q1", "!", 0, false),
				posReport("]E0", "123", 0, false),
			},
			scans: []hid.POSScan{{Text: long + "!", Symbology: "]Q1"}, {Text: "123", Symbology: "]E0"}},
		},
		{
			name:    "no symbology identifier",
			reports: [][]byte{posReport("\x00\x00\x00", "42", 0, false)},
			scans:   []hid.POSScan{{Text: "42"}},
		},
		{
			name:    "trailing CR LF removed once",
			reports: [][]byte{posReport("]C0", "123\r\n", 0, false), posReport("]C0", "45\r", 0, false), posReport("]C0", "6\n\n", 0, false)},
			scans:   []hid.POSScan{{Text: "123", Symbology: "]C0"}, {Text: "45", Symbology: "]C0"}, {Text: "6\n", Symbology: "]C0"}},
		},
		{
			name:    "shorter report with report ID and minimal trailer",
			reports: [][]byte{{0x02, 3, ']', 'A', '0', 'A', 'B', 'C', 0x00}},
			scans:   []hid.POSScan{{Text: "ABC", Symbology: "]A0"}},
		},
		{
			name:      "configured report ID",
			opts:      hid.POSOptions{ReportID: 0x07},
			reports:   [][]byte{withID(posReport("]E0", "1", 0, false), 0x07), posReport("]E0", "2", 0, false)},
			scans:     []hid.POSScan{{Text: "1", Symbology: "]E0"}},
			dropWords: []string{"report ID 0x02 is not the scanned-data report 0x07"},
		},
		{
			name: "other report between continuations leaves the code alone",
			reports: [][]byte{
				posReport("]C0", long[:56], 0, true), {0x05, 0x01, 0x00}, posReport("]C0", long[56:], 0, false),
			},
			scans:     []hid.POSScan{{Text: long, Symbology: "]C0"}},
			dropWords: []string{"report ID 0x05"},
		},
		{
			name:      "bad length",
			reports:   [][]byte{withLen(posReport("]E0", "123", 0, false), 59), posReport("]E0", "4", 0, false)},
			scans:     []hid.POSScan{{Text: "4", Symbology: "]E0"}},
			dropWords: []string{"length byte 59 exceeds the 58-byte data area"},
		},
		{
			name:      "bad length with the vendor byte's stricter area",
			opts:      hid.POSOptions{VendorSymbologyByte: true},
			reports:   [][]byte{withLen(posReport("]E0", "123", 0, false), 57)},
			dropWords: []string{"length byte 57 exceeds the 56-byte data area"},
		},
		{
			name: "bad length mid-code drops the code and skips its rest",
			reports: [][]byte{
				posReport("]Q1", long[:56], 0, true), withLen(posReport("]Q1", "x", 0, true), 200),
				posReport("]Q1", "tail", 0, false), posReport("]Q1", "next", 0, false),
			},
			scans:     []hid.POSScan{{Text: "next", Symbology: "]Q1"}},
			dropWords: []string{"continued code abandoned after 56 bytes", "length byte 200"},
		},
		{
			name: "bad first report of a long code: its tail is not a code",
			reports: [][]byte{
				withLen(posReport("]Q1", "x", 0, true), 255), posReport("]Q1", "middle", 0, true),
				posReport("]Q1", "tail", 0, false), posReport("]E0", "ok", 0, false),
			},
			scans:     []hid.POSScan{{Text: "ok", Symbology: "]E0"}},
			dropWords: []string{"length byte 255"},
		},
		{
			name:      "garbage symbology",
			reports:   [][]byte{posReport("ABC", "123", 0, false)},
			dropWords: []string{"bad symbology identifier 41 42 43"},
		},
		{
			name: "garbled symbology mid-code: skip to the last report",
			reports: [][]byte{
				posReport("]Q1", long[:56], 0, true), posReport("\xff\x00\x01", "x", 0, true),
				posReport("]Q1", "tail", 0, false), posReport("]Q1", "next", 0, false),
			},
			scans:     []hid.POSScan{{Text: "next", Symbology: "]Q1"}},
			dropWords: []string{"continued code abandoned", "bad symbology identifier"},
		},
		{
			name: "symbology change: the last report was lost",
			reports: [][]byte{
				posReport("]Q1", long[:56], 0, true), posReport("]E0", "4006381333931", 0, false),
			},
			scans:     []hid.POSScan{{Text: "4006381333931", Symbology: "]E0"}},
			dropWords: []string{`continued code abandoned after 56 bytes: a report with symbology "]E0" followed`},
		},
		{
			name:      "short report",
			reports:   [][]byte{{0x02, 0x01, ']'}, posReport("]E0", "7", 0, false)},
			scans:     []hid.POSScan{{Text: "7", Symbology: "]E0"}},
			dropWords: []string{"short scanned-data report: 3 bytes, want at least 6"},
		},
		{
			name: "short report mid-code",
			reports: [][]byte{
				posReport("]Q1", long[:56], 0, true), {0x02}, posReport("]Q1", "tail", 0, false), posReport("]Q1", "new", 0, false),
			},
			scans:     []hid.POSScan{{Text: "new", Symbology: "]Q1"}},
			dropWords: []string{"continued code abandoned", "short scanned-data report"},
		},
		{
			name:      "empty report",
			reports:   [][]byte{{}},
			dropWords: []string{"empty report"},
		},
		{
			name:      "empty code",
			reports:   [][]byte{posReport("]E0", "", 0, false), posReport("]E0", "\r\n", 0, false)},
			dropWords: []string{"empty code", "empty code"},
		},
		{
			name:      "overlong code dropped, its rest skipped",
			opts:      hid.POSOptions{MaxLen: 60},
			reports:   [][]byte{posReport("]Q1", long[:56], 0, true), posReport("]Q1", long[56:], 0, true), posReport("]Q1", "end", 0, false), posReport("]Q1", long[:50], 0, true), posReport("]Q1", long[50:60], 0, false)},
			scans:     []hid.POSScan{{Text: long[:60], Symbology: "]Q1"}}, // exactly MaxLen
			dropWords: []string{"code longer than 60 bytes (100 so far)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := hid.NewPOSDecoder(tt.opts)
			scans, drops := feedPOS(d, tt.reports)
			assert.Equal(t, tt.scans, scans)
			require.Len(t, drops, len(tt.dropWords), "drops: %q", reasons(drops))
			for i, w := range tt.dropWords {
				assert.Contains(t, drops[i].Reason, w)
			}
		})
	}
}

func TestPOSReset(t *testing.T) {
	d := hid.NewPOSDecoder(hid.POSOptions{})
	scans, drops := d.Feed(posReport("]Q1", "part", 0, true))
	require.Empty(t, scans)
	require.Empty(t, drops)
	drops = d.Reset()
	require.Len(t, drops, 1)
	assert.Equal(t, []byte("part"), drops[0].Bytes)
	assert.Empty(t, d.Reset())

	scans, drops = d.Feed(posReport("]Q1", "whole", 0, false))
	assert.Equal(t, []hid.POSScan{{Text: "whole", Symbology: "]Q1"}}, scans)
	assert.Empty(t, drops)
}

func TestPOSRecordedHoneywell(t *testing.T) {
	reports := readCapture(t, "testdata/pos-honeywell.txt")
	d := hid.NewPOSDecoder(hid.POSOptions{VendorSymbologyByte: true})
	scans, drops := feedPOS(d, reports)
	assert.Empty(t, drops)
	assert.Equal(t, []hid.POSScan{
		{Text: "https://pay.campus.example/q?id=AB12-cd34_EF56&amount=12.50&t=1718000000#Ok", Symbology: "]Q1", VendorSymbology: 's'},
		{Text: "3197650001", Symbology: "]C0", VendorSymbology: 'j'},
	}, scans)
}

// Reports that a real Honeywell scanner sent, published with
// python_hon_usbhid: they fix the layout (length counts data bytes only,
// Code ID at byte 61, flag at byte 63).
func TestPOSRealHoneywellReports(t *testing.T) {
	reports := readCapture(t, "testdata/pos-honeywell-revinf.txt")
	for _, vendor := range []bool{true, false} {
		d := hid.NewPOSDecoder(hid.POSOptions{VendorSymbologyByte: vendor})
		scans, drops := feedPOS(d, reports)
		require.Empty(t, drops)
		require.Len(t, scans, 2)
		assert.True(t, strings.HasPrefix(scans[0].Text, "Product Name: Voyager 1602g\r\nBoot Revision"), scans[0].Text)
		assert.True(t, strings.HasSuffix(scans[0].Text, "Checksum: N/A"), scans[0].Text)
		assert.Len(t, scans[0].Text, 5*56+9-2)
		assert.Equal(t, "]X0", scans[0].Symbology)
		assert.Equal(t, "REVINF\x06.", scans[1].Text)
		assert.Equal(t, "]Z6", scans[1].Symbology)
		if vendor {
			assert.Equal(t, byte('?'), scans[0].VendorSymbology)
			assert.Equal(t, byte('6'), scans[1].VendorSymbology)
		}
	}
}

func TestHoneywellPOSModeFeature(t *testing.T) {
	f := hid.HoneywellPOSModeFeature()
	assert.Equal(t, []byte{0xFE, 0x01}, f)
	f[1] = 0 // a fresh slice each call
	assert.Equal(t, []byte{0xFE, 0x01}, hid.HoneywellPOSModeFeature())
}
