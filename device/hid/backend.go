package hid

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	// of a composite device; -1 when the platform does not know it
	// (hidapi: not a USB device).
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
	if i.Interface >= 0 {
		fmt.Fprintf(&b, " interface %d", i.Interface)
	}
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

// AnyInterface is Open's iface argument that takes any USB interface.
const AnyInterface = -1

// AmbiguousError is Open's error when several devices match and nothing
// given tells them apart; it wraps ErrAmbiguous. Found is there so that a
// caller can say in its own terms how to choose (the device package names
// its spec option).
type AmbiguousError struct {
	// Found is the matching devices, in the order the backend listed them.
	Found []Info
	// query describes what Open was asked for.
	query string
}

// Error lists the matching devices and says what would tell them apart.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("hid: %v: %s; %s (%s)", ErrAmbiguous, e.query, describeSeen(e.Found), ambiguityHint(e.Found))
}

// Unwrap is ErrAmbiguous.
func (e *AmbiguousError) Unwrap() error { return ErrAmbiguous }

// Interfaces lists the interface numbers among the matching devices, each
// once, in increasing order (unknown ones left out). More than one means
// that an interface number would narrow the choice.
func (e *AmbiguousError) Interfaces() []int { return interfaces(e.Found) }

// find picks the device that Open opens, by the rules given there.
func find(b Backend, vid, pid uint16, serial string, usagePage uint16, iface int) (Info, error) {
	want := describeQuery(vid, pid, serial, usagePage, iface)
	all, err := b.Enumerate(vid, pid)
	if err != nil {
		return Info{}, fmt.Errorf("hid: enumerate %s: %w", want, err)
	}
	var candidates, exact, unknownPage []Info
	for _, d := range all {
		switch {
		case vid != 0 && d.VendorID != vid, pid != 0 && d.ProductID != pid:
			// The backend already filters; this keeps a fake or a
			// platform quirk from widening the match.
			continue
		case serial != "" && d.Serial != serial:
			continue
		}
		candidates = append(candidates, d)
		switch {
		case iface >= 0 && d.Interface != iface:
			// Unlike the usage page, an interface number that is not
			// known (-1) does not match: hidapi knows it for every USB
			// device, which a composite scanner is.
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
		err := fmt.Errorf("hid: %w: %s; %s", ErrNotFound, want, describeSeen(all))
		if present := interfaces(candidates); iface >= 0 && len(present) > 0 && !slices.Contains(present, iface) {
			// Said apart from the list, which is long for a composite
			// device: the interface number is the likely mistake.
			err = fmt.Errorf("%w (no interface %d; interfaces present: %s)", err, iface, joinInts(present))
		}
		return Info{}, err
	default:
		return Info{}, &AmbiguousError{Found: found, query: want}
	}
}

// ambiguityHint says what would tell the devices found apart.
func ambiguityHint(found []Info) string {
	ifaces := interfaces(found)
	switch {
	case len(ifaces) == len(found):
		// The interfaces of a composite device: the same serial number,
		// and where the platform reports no usage pages (Linux), nothing
		// else to choose by.
		return fmt.Sprintf("interfaces %s match: give the interface number to choose", joinInts(ifaces))
	case len(ifaces) > 1:
		return fmt.Sprintf("interfaces %s of several devices match: give a serial number and the interface number to choose", joinInts(ifaces))
	case found[0].UsagePage == 0 && found[1].UsagePage == 0:
		// Nothing to choose by but the serial number.
		return "this platform reports no usage pages: give a serial number to choose"
	}
	return "give a serial number or usage page to choose"
}

// Open opens the one device with the given vendor and product IDs and,
// when non-empty, not zero or not AnyInterface, serial number, usage page
// and USB interface number. When opening fails, the device found is
// returned with the error, for the message.
//
// A device that reports usage page 0 does not know its own (Linux); it
// matches a usage page only when no device reports that page, so the same
// configuration works where the platform says and where it does not. The
// interface number is what tells apart the interfaces of a composite
// scanner (keyboard and HID POS under one VID:PID) where the usage pages
// cannot. No match wraps ErrNotFound, several are an *AmbiguousError
// (wrapping ErrAmbiguous), and both list what was seen so that the
// technician can tell the configuration's mistake.
func Open(b Backend, vid, pid uint16, serial string, usagePage uint16, iface int) (Device, Info, error) {
	info, err := find(b, vid, pid, serial, usagePage, iface)
	if err != nil {
		return nil, Info{}, err
	}
	dev, err := b.Open(info)
	if err != nil {
		return nil, info, fmt.Errorf("hid: open %s: %w", info, err)
	}
	return dev, info, nil
}

func describeQuery(vid, pid uint16, serial string, usagePage uint16, iface int) string {
	s := fmt.Sprintf("%04x:%04x", vid, pid)
	if serial != "" {
		s += fmt.Sprintf(" serial %q", serial)
	}
	if usagePage != 0 {
		s += fmt.Sprintf(" usage page 0x%02X", usagePage)
	}
	if iface >= 0 {
		s += fmt.Sprintf(" interface %d", iface)
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

// interfaces lists the known interface numbers of infos, each once, in
// increasing order.
func interfaces(infos []Info) []int {
	var ns []int
	for _, d := range infos {
		if d.Interface >= 0 && !slices.Contains(ns, d.Interface) {
			ns = append(ns, d.Interface)
		}
	}
	slices.Sort(ns)
	return ns
}

// joinInts writes 0, 1 and 2.
func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
