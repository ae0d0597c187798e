// Package hid reads USB HID barcode scanners and card readers: it finds and
// opens them (Open, System, over github.com/karalabe/hid) and decodes
// the two kinds of input reports found in the field.
//
//   - Keyboard emulation ("wedge") scanners send boot-keyboard reports, one
//     per key change; KeyboardDecoder turns them back into texts, one per
//     Enter (or Tab), with shift, roll-over and repeated reports handled.
//   - HID POS scanners (usage page 0x8C, Bar Code Scanner) send
//     scanned-data reports carrying the code, its AIM symbology identifier
//     and a continuation flag; POSDecoder joins them into whole codes.
//
// Both decoders are pure: they are fed one input report at a time (report
// ID first when the device numbers its reports, exactly as read from the
// device or from a capture file) and never block, so the same code serves a
// real device, a replayed capture and a fuzz test. Whatever cannot be
// decoded with certainty becomes a Drop with its reason and is never passed
// on: a wrong card number is worse than a rescan.
//
// Read promptly: hidapi keeps at most 30 unread input reports and discards
// the oldest beyond that. For a keyboard-emulation scanner a discarded
// report can be a missing character that nothing downstream can detect,
// so a reading loop should feed the decoder and pass the texts on without
// blocking between reads.
//
// The package imports nothing from the rest of the kiosk module; the device
// package builds inputs, framing, debounce and hot-plug on top of it.
//
// On Linux, karalabe/hid uses its bundled libusb (not hidraw): opening a
// device claims its USB interface and detaches the kernel driver (so a
// keyboard-emulation scanner stops typing into the kiosk window while it is
// open), access needs permission on the /dev/bus/usb node, and enumeration
// reports usage page 0 (unknown) because hidapi's libusb backend reads the
// report descriptor only when a device is opened. The USB interface number
// (Info.Interface) is known there, and is what tells apart the keyboard and
// HID POS interfaces of a composite scanner (Open's iface).
package hid
