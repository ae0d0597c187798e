package hid_test

import (
	"testing"

	"github.com/campuspos/kiosk/device/hid"
)

// BenchmarkKeyboardDecoder decodes the captured QR sequence (a 48-character
// text in 110 reports) over and over; reports/s is the decoder's throughput.
func BenchmarkKeyboardDecoder(b *testing.B) {
	reports := readCapture(b, "testdata/kbd-qr-mixed.txt")
	d := hid.NewKeyboardDecoder(hid.KeyboardOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, r := range reports {
			texts, _ := d.Feed(r)
			n += len(texts)
		}
		if n != 1 {
			b.Fatalf("%d texts per sequence, want 1", n)
		}
	}
	b.ReportMetric(float64(b.N*len(reports))/b.Elapsed().Seconds(), "reports/s")
}

// BenchmarkPOSDecoder decodes the captured HID POS sequence (a two-report
// QR code and a one-report card number) over and over.
func BenchmarkPOSDecoder(b *testing.B) {
	reports := readCapture(b, "testdata/pos-honeywell.txt")
	d := hid.NewPOSDecoder(hid.POSOptions{VendorSymbologyByte: true})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, r := range reports {
			scans, _ := d.Feed(r)
			n += len(scans)
		}
		if n != 2 {
			b.Fatalf("%d scans per sequence, want 2", n)
		}
	}
	b.ReportMetric(float64(b.N*len(reports))/b.Elapsed().Seconds(), "reports/s")
}
