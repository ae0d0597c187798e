// Package device turns the kiosk's scanners and card readers into one
// stream of scans.
//
// Each input is described by a spec string (see ParseSpec): a serial card
// reader (`serial:/dev/ttyUSB0?baud=9600&frame=crlf`), a HID barcode
// scanner in keyboard emulation or HID POS mode (`hid-keyboard:0c2e:0b61`,
// `hid-pos:0c2e:0b61?vendor_byte=1`; one interface of a composite scanner,
// keyboard and HID POS under one VID:PID, by its USB interface number:
// `hid-pos:0c2e:0b61?interface=1`), a capture file replayed through the
// same decoding as the real device (`replay:FILE?as=serial&frame=crlf`), or
// the kiosk window's own keyboard (`keyboard:`).
//
// The path from bytes to a Scan is the same for every input:
//
//	read → framer (serial, keyboard) or HID decoder → text check →
//	transforms (card IDs) → match → debounce → Scan
//
// Framers and transforms are pure and safe to feed byte by byte; whatever
// is not a clean frame (noise, overlong or partial frames, failed checks,
// IDs that do not match) becomes a Drop with its reason and is never passed
// on. A Manager runs one goroutine per input, reopens an input that goes
// away (unplugged, re-enumerated) with back-off, and reports each input's
// Status at any time. Capture records what a device delivers in the format
// that a replay input reads.
package device
