package hid

import (
	"bytes"
	"fmt"
)

// defaultPOSReportID is the report ID of the scanned-data input report of
// Honeywell and Access-IS scanners in HID POS mode (see POSDecoder).
const defaultPOSReportID = 0x02

// POSOptions configures a POSDecoder.
type POSOptions struct {
	// ReportID is the scanned-data report's ID; zero means 0x02, that of
	// Honeywell and Access-IS scanners. Reports with another ID are
	// dropped.
	ReportID byte
	// VendorSymbologyByte says that the report ends with three trailer
	// bytes (vendor symbology byte, reserved, flags) instead of the flags
	// alone, as Honeywell's do: the vendor byte (Honeywell's Code ID, such
	// as 's' for QR) is reported in POSScan.VendorSymbology and the data
	// may not run into it.
	VendorSymbologyByte bool
	// MaxLen is the longest code in bytes; a longer one is dropped. Zero
	// means 512.
	MaxLen int
}

// POSScan is one whole code from a HID POS scanner.
type POSScan struct {
	// Text is the decoded data, joined over continuation reports, with
	// one trailing CR, LF or CRLF removed.
	Text string
	// Symbology is the AIM symbology identifier, such as "]Q1" (QR code),
	// "]E0" (EAN-13/UPC-A) or "]C0" (Code 128); empty when the scanner sent
	// none (zero bytes).
	Symbology string
	// VendorSymbology is the vendor's symbology byte (Honeywell Code ID)
	// with POSOptions.VendorSymbologyByte, else 0.
	VendorSymbology byte
}

// POSDecoder decodes HID POS (usage page 0x8C, Bar Code Scanner) scanned-
// data input reports into whole codes.
//
// The layout is the one documented in the Access-IS LSR116/LSR118/ATR110
// product manuals ("HID reports", scanners built on Honeywell engines) and
// seen in reports recorded from a Honeywell Voyager (published in
// github.com/HenkVanAsselt/python_hon_usbhid, kept in testdata); the
// WebHID library cited at HoneywellPOSModeFeature reads report 0x02 at the
// same offsets for the Honeywell, Zebra and Datalogic scanners it names.
// Without VendorSymbologyByte the trailer is the flags byte alone:
//
//	byte 0       report ID (0x02)
//	byte 1       N, the number of data bytes in this report
//	bytes 2–4    AIM symbology identifier, "]" and two characters
//	bytes 5…     N bytes of data, then zero padding
//	last-2       vendor symbology byte   } with VendorSymbologyByte
//	last-1       reserved                }
//	last         flags: bit 0 set = more data follows in the next report
//
// In the usual 64-byte report that leaves 56 data bytes, so a longer code
// comes as several reports with bit 0 set on all but the last; they are
// joined. A report whose length byte runs past its data area, whose
// symbology identifier is not "]xy" (or all zero), or that is too short is
// dropped, together with the code in progress; the rest of a dropped code
// (reports up to one without the continuation flag) is skipped so that its
// tail is not taken for a code of its own. A report with a symbology other
// than that of the code in progress means that the code's last report was
// lost: the partial code is dropped and the report starts a new one.
//
// A POSDecoder is not safe for concurrent use; use one per device.
type POSDecoder struct {
	o        POSOptions
	trailer  int
	inCode   bool // collecting a code: buf, aim, vendor are set
	skipping bool // dropping the rest of a code
	// skipKnown: the skipped code's identifier is aim, so a report with
	// another one starts a new code; otherwise skip to the last report.
	skipKnown bool
	aim       [3]byte
	vendor    byte
	buf       []byte
}

// NewPOSDecoder returns a decoder with the given options.
func NewPOSDecoder(o POSOptions) *POSDecoder {
	if o.ReportID == 0 {
		o.ReportID = defaultPOSReportID
	}
	if o.MaxLen <= 0 {
		o.MaxLen = defaultMaxLen
	}
	d := &POSDecoder{o: o, trailer: 1}
	if o.VendorSymbologyByte {
		d.trailer = 3
	}
	return d
}

const posHeader = 5 // report ID, length, 3 AIM bytes

// Feed decodes one input report, report ID first, and returns the codes it
// completed and what it dropped. Report is not retained.
func (d *POSDecoder) Feed(report []byte) (scans []POSScan, drops []Drop) {
	if len(report) == 0 {
		return nil, append(drops, Drop{Reason: "empty report", Bytes: []byte{}})
	}
	if report[0] != d.o.ReportID {
		// Another report of the device (status, attributes): not part of
		// any code, so the code in progress is left alone.
		return nil, append(drops, Drop{
			Reason: fmt.Sprintf("report ID 0x%02X is not the scanned-data report 0x%02X", report[0], d.o.ReportID),
			Bytes:  clone(report),
		})
	}
	if len(report) < posHeader+d.trailer {
		// The flags cannot be read: skip the rest of the code in progress,
		// if there was one.
		if d.inCode {
			d.skip(d.aim, true)
		}
		d.abandon(&drops, "a short report followed")
		return nil, append(drops, Drop{
			Reason: fmt.Sprintf("short scanned-data report: %d bytes, want at least %d", len(report), posHeader+d.trailer),
			Bytes:  clone(report),
		})
	}
	n := int(report[1])
	area := len(report) - posHeader - d.trailer
	more := report[len(report)-1]&0x01 != 0
	var aim [3]byte
	copy(aim[:], report[2:posHeader])
	validAIM := aim == [3]byte{} || (aim[0] == ']' && graphic(aim[1]) && graphic(aim[2]))

	if n > area || !validAIM {
		reason := fmt.Sprintf("length byte %d exceeds the %d-byte data area", n, area)
		if !validAIM {
			reason = fmt.Sprintf("bad symbology identifier % X", aim[:])
		}
		switch {
		case !more:
			d.skipping = false
		case d.inCode:
			d.skip(d.aim, true)
		case d.skipping:
			// Keep skipping the same code.
		default:
			// A code starting with a bad report: its identifier, if it
			// looks right, tells its continuation from a new code.
			d.skip(aim, validAIM)
		}
		d.abandon(&drops, "a bad report followed")
		return nil, append(drops, Drop{Reason: reason, Bytes: clone(report)})
	}

	if d.skipping {
		if !d.skipKnown || aim == d.aim {
			d.skipping = more
			return nil, drops
		}
		// Another symbology: the skipped code ended in a lost report and
		// this one starts a new code.
		d.skipping = false
	}
	if d.inCode && aim != d.aim {
		d.abandon(&drops, fmt.Sprintf("a report with symbology %q followed, its last report is missing", aimString(aim)))
	}
	if !d.inCode {
		d.inCode = true
		d.aim = aim
		d.vendor = 0
		if d.o.VendorSymbologyByte {
			d.vendor = report[len(report)-3]
		}
		d.buf = d.buf[:0]
	}
	if len(d.buf)+n > d.o.MaxLen {
		d.inCode = false
		d.skipping = false
		if more {
			d.skip(d.aim, true)
		}
		n0 := len(d.buf)
		d.buf = d.buf[:0]
		return nil, append(drops, Drop{
			Reason: fmt.Sprintf("code longer than %d bytes (%d so far)", d.o.MaxLen, n0+n),
			Bytes:  clone(report),
		})
	}
	d.buf = append(d.buf, report[posHeader:posHeader+n]...)
	if more {
		return nil, drops
	}
	d.inCode = false
	text := d.buf
	switch {
	case bytes.HasSuffix(text, []byte("\r\n")):
		// A suffix left configured from keyboard mode; the keyboard
		// decoder strips its Enter too, so both modes give the same text.
		text = text[:len(text)-2]
	case bytes.HasSuffix(text, []byte("\r")), bytes.HasSuffix(text, []byte("\n")):
		text = text[:len(text)-1]
	}
	if len(text) == 0 {
		d.buf = d.buf[:0]
		return nil, append(drops, Drop{Reason: "empty code", Bytes: clone(report)})
	}
	scans = append(scans, POSScan{Text: string(text), Symbology: aimString(d.aim), VendorSymbology: d.vendor})
	d.buf = d.buf[:0]
	return scans, drops
}

// skip drops the reports that remain of a code, up to its last.
func (d *POSDecoder) skip(aim [3]byte, known bool) {
	d.skipping = true
	d.aim = aim
	d.skipKnown = known
}

// abandon drops the code in progress, if any.
func (d *POSDecoder) abandon(drops *[]Drop, why string) {
	if !d.inCode {
		return
	}
	*drops = append(*drops, Drop{
		Reason: fmt.Sprintf("continued code abandoned after %d bytes: %s", len(d.buf), why),
		Bytes:  clone(d.buf),
	})
	d.inCode = false
	d.buf = d.buf[:0]
}

// Reset forgets the code in progress, as when the device is closed, and
// returns a Drop for a code whose last report never came.
func (d *POSDecoder) Reset() []Drop {
	var drops []Drop
	d.abandon(&drops, "reset before its last report")
	d.skipping = false
	return drops
}

// graphic reports whether b is a printable ASCII character other than
// space, as the two characters of an AIM identifier are.
func graphic(b byte) bool { return b > 0x20 && b < 0x7F }

func aimString(aim [3]byte) string {
	if aim == [3]byte{} {
		return ""
	}
	return string(aim[:])
}

// HoneywellPOSModeFeature returns the feature report (report ID first, as
// Device.SendFeatureReport takes it) that Honeywell scanners are sent on
// opening to switch from keyboard emulation to HID POS: report 0xFE with
// the single data byte 0x01.
//
// Source: the open-source @point-of-sale/webhid-barcode-scanner library
// (github.com/NielsLeenheer/WebHidBarcodeScanner, src/main.js), which sends
// exactly this to Honeywell devices (vendor 0x0C2E) before reading. No
// Honeywell document in reach states these bytes, so the caller should let
// the configuration override them; scanning the manual's "USB HID POS"
// programming bar code is the documented alternative.
func HoneywellPOSModeFeature() []byte { return []byte{0xFE, 0x01} }
