package hid_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/campuspos/kiosk/device/hid"
)

// splitReports cuts fuzz input into reports: each report is a length byte
// (taken modulo 80, so that short, boot-sized and long reports all occur)
// followed by that many bytes.
func splitReports(data []byte) [][]byte {
	var reports [][]byte
	for len(data) > 0 {
		n := int(data[0]) % 80
		data = data[1:]
		n = min(n, len(data))
		reports = append(reports, data[:n])
		data = data[n:]
	}
	return reports
}

// FuzzKeyboardDecoder feeds arbitrary reports: the decoder must not panic,
// and every text must be non-empty valid UTF-8 of at most MaxLen bytes
// without a terminator in it.
func FuzzKeyboardDecoder(f *testing.F) {
	f.Add(byte(0), []byte{8, 0, 0, 0x20, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0x28, 0, 0, 0, 0, 0})
	f.Add(byte(1), []byte{8, 2, 0, 0x04, 0x05, 0, 0, 0, 0, 8, 0, 0, 0x05, 0, 0, 0, 0, 0, 8, 0, 0, 0x2B, 0, 0, 0, 0, 0})
	f.Add(byte(2), []byte{9, 1, 0, 0, 0x04, 0, 0, 0, 0, 0, 9, 1, 0, 0, 0x58, 0, 0, 0, 0, 0})
	f.Add(byte(4), []byte{8, 0, 0, 1, 1, 1, 1, 1, 1, 3, 0, 0, 0x29})
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		o := hid.KeyboardOptions{
			TabTerminates: mode&1 != 0,
			ReportID:      mode&2 != 0,
			MaxLen:        int(mode>>2) % 40, // 0 means the default
		}
		if mode&0x80 != 0 {
			o.OnlyReportID = 1
		}
		maxLen := o.MaxLen
		if maxLen == 0 {
			maxLen = hid.DefaultMaxLen
		}
		d := hid.NewKeyboardDecoder(o)
		for _, r := range splitReports(data) {
			texts, drops := d.Feed(r)
			for _, s := range texts {
				if s == "" || len(s) > maxLen || !utf8.ValidString(s) {
					t.Fatalf("bad text %q (MaxLen %d)", s, maxLen)
				}
				if strings.ContainsAny(s, "\r\n") || (o.TabTerminates && strings.Contains(s, "\t")) {
					t.Fatalf("terminator in text %q", s)
				}
			}
			for _, dr := range drops {
				if dr.Reason == "" {
					t.Fatal("drop without a reason")
				}
			}
		}
		for _, dr := range d.Reset() {
			if len(dr.Bytes) > maxLen {
				t.Fatalf("partial text of %d bytes beyond MaxLen %d", len(dr.Bytes), maxLen)
			}
		}
	})
}

// FuzzPOSDecoder feeds arbitrary reports: the decoder must not panic, and
// every code must be non-empty, at most MaxLen bytes, with an empty or
// well-formed AIM identifier.
func FuzzPOSDecoder(f *testing.F) {
	f.Add(byte(0), append([]byte{64}, posReport("]Q1", "hello", 's', false)...))
	f.Add(byte(1), append(append([]byte{64}, posReport("]C0", strings.Repeat("x", 56), 'j', true)...),
		append([]byte{64}, posReport("]C0", "tail", 'j', false)...)...))
	f.Add(byte(0), []byte{9, 0x02, 3, ']', 'A', '0', 'A', 'B', 'C', 0})
	f.Add(byte(2), []byte{6, 0x02, 200, ']', 'E', '0', 1, 3, 0x02, 1, ']'})
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		o := hid.POSOptions{
			VendorSymbologyByte: mode&1 != 0,
			MaxLen:              int(mode>>1) % 100, // 0 means the default
		}
		maxLen := o.MaxLen
		if maxLen == 0 {
			maxLen = hid.DefaultMaxLen
		}
		d := hid.NewPOSDecoder(o)
		for _, r := range splitReports(data) {
			scans, drops := d.Feed(r)
			for _, s := range scans {
				if s.Text == "" || len(s.Text) > maxLen {
					t.Fatalf("bad text %q (MaxLen %d)", s.Text, maxLen)
				}
				if s.Symbology != "" && (len(s.Symbology) != 3 || s.Symbology[0] != ']') {
					t.Fatalf("bad symbology %q", s.Symbology)
				}
				if !o.VendorSymbologyByte && s.VendorSymbology != 0 {
					t.Fatalf("vendor byte %#x without the option", s.VendorSymbology)
				}
			}
			for _, dr := range drops {
				if dr.Reason == "" {
					t.Fatal("drop without a reason")
				}
			}
		}
		d.Reset()
	})
}
