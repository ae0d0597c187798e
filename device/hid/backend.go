package hid

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of Open, wrapped with the details.
var (
	// ErrNotFound: no HID device matches.
	ErrNotFound = errors.New("no matching HID device")
	// ErrAmbiguous: several HID devices match and nothing given tells
	// them apart.
	ErrAmbiguous = errors.New("several matching HID devices")
	// ErrUnsupported: this build has no HID support (built without cgo,
	// or an operating system that karalabe/hid does not support).
	ErrUnsupported = errors.New("HID not supported by this build")
	// ErrClosed: the device was closed.
	ErrClosed = errors.New("HID device closed")
)

// Info describes an HID device (one interface of a USB device).
type Info struct {
	// Path is the platform's device path, what Open needs.
	Path string
	// VendorID and ProductID are the USB IDs.
	VendorID, ProductID uint16
	// Serial, Manufacturer and Product are the USB strings, when the
	// device has them.
	Serial, Manufacturer, Product string
	// UsagePage and Usage are those of the top-level collection: 0x8C/0x02
	// for a HID POS bar code scanner, 0x01/0x06 for a keyboard. 0 when the
	// platform does not say (Linux with karalabe/hid: see the package doc).
	UsagePage, Usage uint16
	// Interface is the USB interface number, telling apart the interfaces
	// of a composite device.
	Interface int
}

// String describes the device on one line for diagnostics.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%04x:%04x", i.VendorID, i.ProductID)
	if i.Serial != "" {
		fmt.Fprintf(&b, " serial %q", i.Serial)
	}
	if i.UsagePage != 0 {
		fmt.Fprintf(&b, " usage page 0x%02X usage 0x%02X", i.UsagePage, i.Usage)
	}
	fmt.Fprintf(&b, " interface %d", i.Interface)
	if name := strings.TrimSpace(i.Manufacturer + " " + i.Product); name != "" {
		fmt.Fprintf(&b, " %q", name)
	}
	fmt.Fprintf(&b, " at %s", i.Path)
	return b.String()
}

// Device is an open HID device.
type Device interface {
	// Read blocks for the next input report and copies it into p (report
	// ID first when the device numbers its reports). After Close, or when
	// the device goes away, it returns an error.
	Read(p []byte) (int, error)
	// SendFeatureReport sends a feature report, report ID first (0 for a
	// device that does not number its reports).
	SendFeatureReport(b []byte) (int, error)
	// Close releases the device; a Read blocked in another goroutine
	// returns.
	Close() error
}

// Backend enumerates and opens HID devices. System is the real one;
// tests use a fake with recorded reports.
type Backend interface {
	// Enumerate lists the devices with the given IDs; 0 matches any.
	Enumerate(vendorID, productID uint16) ([]Info, error)
	// Open opens a device that Enumerate listed.
	Open(Info) (Device, error)
}

// find picks the device that Open opens, by the rules given there.
func find(b Backend, vid, pid uint16, serial string, usagePage uint16) (Info, error) {
	want := describeQuery(vid, pid, serial, usagePage)
	all, err := b.Enumerate(vid, pid)
	if err != nil {
		return Info{}, fmt.Errorf("hid: enumerate %s: %w", want, err)
	}
	var exact, unknownPage []Info
	for _, d := range all {
		switch {
		case vid != 0 && d.VendorID != vid, pid != 0 && d.ProductID != pid:
			// The backend already filters; this keeps a fake or a
			// platform quirk from widening the match.
		case serial != "" && d.Serial != serial:
		case usagePage == 0 || d.UsagePage == usagePage:
			exact = append(exact, d)
		case d.UsagePage == 0:
			unknownPage = append(unknownPage, d)
		}
	}
	found := exact
	if len(found) == 0 {
		found = unknownPage
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Info{}, fmt.Errorf("hid: %w: %s; %s", ErrNotFound, want, describeSeen(all))
	default:
		hint := "give a serial number or usage page to choose"
		if found[0].UsagePage == 0 && found[1].UsagePage == 0 {
			// Nothing to choose by but the serial number (or, for the
			// interfaces of one composite device, not even that).
			hint = "this platform reports no usage pages: give a serial number to choose"
		}
		return Info{}, fmt.Errorf("hid: %w: %s; %s (%s)", ErrAmbiguous, want, describeSeen(found), hint)
	}
}

// Open opens the one device with the given vendor and product IDs and,
// when non-empty or non-zero, serial number and usage page. When opening
// fails, the device found is returned with the error, for the message.
//
// A device that reports usage page 0 does not know its own (Linux); it
// matches a usage page only when no device reports that page, so the same
// configuration works where the platform says and where it does not. No
// match wraps ErrNotFound, several wrap ErrAmbiguous, and both list what
// was seen so that the technician can tell the configuration's mistake.
func Open(b Backend, vid, pid uint16, serial string, usagePage uint16) (Device, Info, error) {
	info, err := find(b, vid, pid, serial, usagePage)
	if err != nil {
		return nil, Info{}, err
	}
	dev, err := b.Open(info)
	if err != nil {
		return nil, info, fmt.Errorf("hid: open %s: %w", info, err)
	}
	return dev, info, nil
}

func describeQuery(vid, pid uint16, serial string, usagePage uint16) string {
	s := fmt.Sprintf("%04x:%04x", vid, pid)
	if serial != "" {
		s += fmt.Sprintf(" serial %q", serial)
	}
	if usagePage != 0 {
		s += fmt.Sprintf(" usage page 0x%02X", usagePage)
	}
	return s
}

func describeSeen(infos []Info) string {
	if len(infos) == 0 {
		return "none with these IDs present"
	}
	parts := make([]string, len(infos))
	for i, d := range infos {
		parts[i] = d.String()
	}
	return fmt.Sprintf("%d present: %s", len(infos), strings.Join(parts, "; "))
}
