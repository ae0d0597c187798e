package device

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.bug.st/serial"

	"github.com/campuspos/kiosk/device/hid"
)

// Type is the type of an input.
type Type string

// The input types.
const (
	// TypeSerial is a serial reader (RS-232, USB-serial, CDC ACM).
	TypeSerial Type = "serial"
	// TypeHIDKeyboard is a HID scanner in keyboard emulation.
	TypeHIDKeyboard Type = "hid-keyboard"
	// TypeHIDPOS is a HID POS scanner (usage page 0x8C).
	TypeHIDPOS Type = "hid-pos"
	// TypeReplay reads a capture file as if it were a device.
	TypeReplay Type = "replay"
	// TypeKeyboard is text typed into the kiosk window (a wedge scanner
	// that the OS already turned into key events).
	TypeKeyboard Type = "keyboard"
)

// Spec is a parsed input spec, made by ParseSpec. How the input is read
// and decoded stays unexported: the spec string is the one way to say it,
// so that ParseSpec checks every input before it is opened.
type Spec struct {
	// Name names the input in scans, drops and status.
	Name string
	// Raw is the spec string as given.
	Raw string
	// Type is the input type.
	Type Type
	// Kind is what the input's scans are (default: card for serial, barcode
	// for the others).
	Kind Kind
	// serial is the port of a TypeSerial input.
	serial serialSpec
	// hid is the device and decoding of a HID input (and of a replay as a
	// HID input).
	hid hidSpec
	// replay is the file of a TypeReplay input.
	replay replaySpec
	// frame is the framing of a serial or keyboard input (and of a replay
	// as serial).
	frame frameSpec
	// debounce is the debounce window; 0 turns it off.
	debounce time.Duration
	// id is the transforms and match applied to every text.
	id idRules
}

// serialSpec is a serial port and its line settings.
type serialSpec struct {
	// Path is the port (/dev/ttyUSB0, or better a stable udev symlink);
	// empty when USB is set.
	Path string
	// USB finds the port by USB IDs instead, at every open, so that a
	// reader re-enumerated as another ttyUSB is still found.
	USB *usbID
	// Mode is baud rate, data bits, parity and stop bits.
	Mode serial.Mode
}

// usbID identifies a USB device.
type usbID struct {
	VendorID, ProductID uint16
	// Serial is the USB serial number; needed when several devices share
	// the VID:PID.
	Serial string
}

// String is VID:PID in hex, and the serial number when there is one.
func (u usbID) String() string {
	s := fmt.Sprintf("%04x:%04x", u.VendorID, u.ProductID)
	if u.Serial != "" {
		s += " serial " + u.Serial
	}
	return s
}

// hidSpec is a HID device and how to decode it.
type hidSpec struct {
	usbID
	// UsagePage selects the interface of a composite device; 0 takes any
	// (ParseSpec's default is UsagePagePOS for hid-pos and
	// UsagePageGenericDesktop for hid-keyboard).
	UsagePage uint16
	// Interface is the USB interface number, or hid.AnyInterface (the
	// default). It selects the interface of a composite device where the
	// usage page cannot: Linux reports usage page 0 for every interface.
	Interface int
	// Tab makes Tab end a scan, like Enter (keyboard emulation).
	Tab bool
	// Layout is "us" or the path of a layout table file (keyboard
	// emulation).
	Layout string
	// ReportID: for keyboard emulation, more than 0 means the device
	// numbers its reports (each starts with a report ID byte); for HID POS,
	// the report ID of scanned-data reports.
	ReportID int
	// VendorByte: the HID POS reports carry a vendor symbology byte
	// (Honeywell).
	VendorByte bool
	// Feature is a feature report sent at every open, such as the one
	// that switches a Honeywell scanner into HID POS mode.
	Feature []byte
	// Max is the longest scan.
	Max int
}

// HID usage pages: the defaults of usage_page=, and what a caller listing
// devices compares hid.Info.UsagePage with to tell a scanner's interfaces
// apart.
const (
	// UsagePageGenericDesktop is the usage page of keyboards.
	UsagePageGenericDesktop = 0x01
	// UsagePagePOS is the usage page of HID POS bar code scanners.
	UsagePagePOS = 0x8C
)

// replaySpec is a capture file to replay.
type replaySpec struct {
	// File is the capture file.
	File string
	// As is the type of device the capture came from: TypeSerial,
	// TypeHIDKeyboard or TypeHIDPOS.
	As Type
	// Fast replays without waiting; the recorded times still drive framing
	// and debounce, so fast and recorded speed give the same scans.
	Fast bool
}

// SpecError is a bad spec; it names the option and the value.
type SpecError struct {
	// Name is the input's name.
	Name string
	// Option is the option (or "type", "address").
	Option string
	// Value is the option's value as written.
	Value string
	// Err says what is wrong.
	Err error
}

// Error names the device, the option and its value.
func (e *SpecError) Error() string {
	return fmt.Sprintf("device %q: %s %q: %v", e.Name, e.Option, e.Value, e.Err)
}

// Unwrap is what is wrong.
func (e *SpecError) Unwrap() error { return e.Err }

// allowedOptions lists the options an input accepts: the common ones,
// those of the device it decodes like (a replay's as=), and a replay's
// own.
func allowedOptions(decoder Type, replay bool) []string {
	allowed := []string{"kind", "debounce", "strip_prefix", "strip_suffix", "hex2dec", "dec2hex", "reverse_bytes", "pad", "match"}
	frame := []string{"frame", "check", "fixed", "gap", "max", "partial_timeout"}
	hidCommon := []string{"serial", "usage_page", "interface", "report_id", "max", "partial_timeout"}
	switch decoder {
	case TypeSerial:
		allowed = append(append(allowed, frame...), "baud", "data", "parity", "stop")
	case TypeKeyboard:
		allowed = append(append(allowed, frame...), "tab")
	case TypeHIDKeyboard:
		allowed = append(append(allowed, hidCommon...), "tab", "layout")
	case TypeHIDPOS:
		allowed = append(append(allowed, hidCommon...), "vendor_byte", "feature")
	}
	if replay {
		allowed = append(allowed, "as", "speed")
	}
	return allowed
}

// ParseSpec parses an input spec:
//
//	serial:/dev/ttyUSB0?baud=9600&data=8&parity=none&stop=1&frame=crlf
//	serial:usb=0403:6001&serial=A1B2?baud=9600&frame=stx&check=xor
//	hid-keyboard:0c2e:0b61?serial=…&tab=1&layout=us
//	hid-pos:0c2e:0b61?vendor_byte=1&feature=honeywell
//	hid-pos:0c2e:0b61?interface=1&vendor_byte=1
//	replay:FILE?as=serial&frame=crlf&speed=fast
//	keyboard:
//
// Options are key=value, joined by &, percent-decoded (%26 is &, + stays
// +). Every input takes kind=card|barcode, debounce=800ms and the ID
// transforms strip_prefix=, strip_suffix=, hex2dec=1, dec2hex=1,
// reverse_bytes=1, pad=N (applied in the order written) and match=REGEXP
// (the whole ID must match). Serial and keyboard inputs take a framing:
// frame=line|cr|lf|crlf|stx (check=xor|lrc), fixed=N, gap=50ms, max=256,
// partial_timeout=2s. A replay takes the options of the device in as=
// and speed=fast|recorded (default recorded).
//
// HID inputs take serial= (USB serial number), usage_page= (default 0x8c
// for hid-pos, 0x01 for hid-keyboard; 0 takes any interface), interface=
// (the USB interface number, 0 to 255, as hid.Info gives it; default any:
// it picks the keyboard or HID POS interface of a composite scanner, whose
// interfaces report no usage page on Linux), report_id=
// (hid-keyboard: the device numbers its reports and the keyboard's is N;
// hid-pos: the scanned-data report's ID, default 2), max= and
// partial_timeout=; hid-keyboard also tab=1 (Tab ends a scan) and
// layout=us|FILE; hid-pos also vendor_byte=1 (Honeywell's trailer) and
// feature=HEX|honeywell, a feature report sent at every open (honeywell:
// the one that switches Honeywell scanners into HID POS mode). The
// keyboard input takes the framing options and tab=1.
//
// Defaults: kind card for serial, barcode otherwise; frame=line (CR, LF
// or CR LF); 9600 8N1; debounce=800ms; max=256; partial_timeout=2s (none
// for the keyboard, where a person may type).
func ParseSpec(name, spec string) (Spec, error) {
	p := specParser{name: name}
	s, err := p.parse(spec)
	if err != nil {
		return Spec{}, err
	}
	return s, nil
}

type specParser struct {
	name string
}

func (p *specParser) errf(option, value, format string, args ...any) error {
	return &SpecError{Name: p.name, Option: option, Value: value, Err: fmt.Errorf(format, args...)}
}

func (p *specParser) wrap(option, value string, err error) error {
	return &SpecError{Name: p.name, Option: option, Value: value, Err: err}
}

type option struct{ key, value string }

func (p *specParser) parse(raw string) (Spec, error) {
	s := Spec{Name: p.name, Raw: raw}
	typ, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return s, p.errf("spec", raw, "want TYPE:ADDRESS[?OPTIONS], TYPE one of serial, hid-keyboard, hid-pos, replay, keyboard")
	}
	addr, query, _ := strings.Cut(rest, "?")
	opts, err := p.options(query)
	if err != nil {
		return s, err
	}
	s.Type = Type(typ)
	decoder := s.Type
	switch s.Type {
	case TypeSerial:
		err = p.serialAddress(&s, addr)
	case TypeHIDKeyboard, TypeHIDPOS:
		s.hid.VendorID, s.hid.ProductID, err = p.vidPID("address", addr)
	case TypeReplay:
		if addr == "" {
			return s, p.errf("address", addr, "replay needs a capture file: replay:FILE?as=serial")
		}
		s.replay.File = addr
		s.replay.As = TypeSerial
		if v, ok := lookup(opts, "as"); ok {
			switch Type(v) {
			case TypeSerial, TypeHIDKeyboard, TypeHIDPOS:
				s.replay.As = Type(v)
			default:
				return s, p.errf("as", v, "want serial, hid-keyboard or hid-pos")
			}
		}
		decoder = s.replay.As
	case TypeKeyboard:
		if addr != "" {
			return s, p.errf("address", addr, "keyboard takes no address (keyboard:?OPTIONS)")
		}
	default:
		return s, p.errf("type", typ, "want serial, hid-keyboard, hid-pos, replay or keyboard")
	}
	if err != nil {
		return s, err
	}

	allowed := allowedOptions(decoder, s.Type == TypeReplay)
	if err := p.check(opts, allowed); err != nil {
		return s, err
	}

	// Defaults, then the options.
	s.Kind = KindBarcode
	if decoder == TypeSerial {
		s.Kind = KindCard
	}
	s.debounce = defaultDebounce
	s.frame = frameSpec{Type: frameLine, Max: defaultMaxFrame, PartialTimeout: defaultPartialTimeout}
	if decoder == TypeKeyboard {
		s.frame.PartialTimeout = 0
	}
	s.serial.Mode = serial.Mode{BaudRate: 9600, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	s.hid.Max = defaultMaxFrame
	s.hid.Layout = "us"
	s.hid.Interface = hid.AnyInterface
	// The usage page picks the right interface of a composite scanner
	// (keyboard plus HID POS) where the platform reports it, interface=
	// where it does not; usage_page=0 takes any.
	switch decoder {
	case TypeHIDPOS:
		s.hid.UsagePage = UsagePagePOS
	case TypeHIDKeyboard:
		s.hid.UsagePage = UsagePageGenericDesktop
	}
	var frameSet, fixedSet, gapSet, checkSet string
	for _, o := range opts {
		k, v := o.key, o.value
		var err error
		switch k {
		case "kind":
			switch Kind(v) {
			case KindCard, KindBarcode:
				s.Kind = Kind(v)
			default:
				err = errors.New("want card or barcode")
			}
		case "debounce":
			s.debounce, err = parseDuration(v, 0, time.Minute)
		case "strip_prefix", "strip_suffix", "hex2dec", "dec2hex", "reverse_bytes", "pad":
			var t transform
			if t, err = newTransform(transformOp(k), v); err == nil && t.Op != "" {
				s.id.Transforms = append(s.id.Transforms, t)
			}
		case "match":
			s.id.Match, err = compileMatch(v)
		case "frame":
			frameSet = v
			switch frameType(v) {
			case frameLine, frameCR, frameLF, frameCRLF, frameSTX, frameFixed, frameGap:
				s.frame.Type = frameType(v)
			default:
				err = errors.New("want line, cr, lf, crlf, stx, fixed or gap")
			}
		case "check":
			checkSet = v
			switch checkType(v) {
			case checkXOR, checkLRC:
				s.frame.Check = checkType(v)
			case "none":
				s.frame.Check = checkNone
			default:
				err = errors.New("want xor, lrc or none")
			}
		case "fixed":
			fixedSet = v
			s.frame.Size, err = parseInt(v, 1, 4096)
		case "gap":
			gapSet = v
			s.frame.Gap, err = parseDuration(v, time.Millisecond, 10*time.Second)
		case "max":
			s.frame.Max, err = parseInt(v, 1, 65536)
			s.hid.Max = s.frame.Max
		case "partial_timeout":
			s.frame.PartialTimeout, err = parseDuration(v, 0, time.Hour)
		case "baud":
			s.serial.Mode.BaudRate, err = parseInt(v, 50, 4000000)
		case "data":
			s.serial.Mode.DataBits, err = parseInt(v, 5, 8)
		case "parity":
			s.serial.Mode.Parity, err = parseParity(v)
		case "stop":
			s.serial.Mode.StopBits, err = parseStopBits(v)
		case "serial":
			if v == "" {
				err = errors.New("is empty")
			}
			s.hid.Serial = v
		case "usage_page":
			var n uint64
			n, err = strconv.ParseUint(v, 0, 16)
			if err != nil {
				err = errors.New("want a 16-bit number (0x8c or 140)")
			}
			s.hid.UsagePage = uint16(n)
		case "interface":
			// bInterfaceNumber is one byte.
			if s.hid.Interface, err = parseInt(v, 0, 255); err != nil {
				err = errors.New("want the USB interface number, a whole number from 0 to 255")
			}
		case "report_id":
			s.hid.ReportID, err = parseInt(v, 0, 255)
		case "tab":
			s.hid.Tab, err = parseBool(v)
		case "layout":
			if v == "" {
				err = errors.New("want us or a layout table file")
			}
			s.hid.Layout = v
		case "vendor_byte":
			s.hid.VendorByte, err = parseBool(v)
		case "feature":
			if v == "honeywell" {
				s.hid.Feature = hid.HoneywellPOSModeFeature()
				break
			}
			s.hid.Feature, err = hex.DecodeString(strings.ReplaceAll(v, " ", ""))
			if err != nil || len(s.hid.Feature) == 0 {
				err = errors.New("want honeywell or the feature report in hex, report ID first")
			}
		case "speed":
			switch v {
			case "fast":
				s.replay.Fast = true
			case "recorded":
				s.replay.Fast = false
			default:
				err = errors.New("want fast or recorded")
			}
		case "as":
			// Done above: it decides which options are allowed.
		}
		if err != nil {
			return s, p.wrap(k, v, err)
		}
	}

	// Framing options that only make sense together.
	switch {
	case fixedSet != "" && gapSet != "":
		return s, p.errf("gap", gapSet, "fixed= and gap= are two framings; give one")
	case fixedSet != "":
		if frameSet != "" && s.frame.Type != frameFixed {
			return s, p.errf("fixed", fixedSet, "contradicts frame=%s", frameSet)
		}
		s.frame.Type = frameFixed
	case gapSet != "":
		if frameSet != "" && s.frame.Type != frameGap {
			return s, p.errf("gap", gapSet, "contradicts frame=%s", frameSet)
		}
		s.frame.Type = frameGap
	case s.frame.Type == frameFixed:
		return s, p.errf("frame", frameSet, "needs fixed=N (the frame length)")
	case s.frame.Type == frameGap:
		return s, p.errf("frame", frameSet, "needs gap=DURATION (the quiet time that ends a frame)")
	}
	if checkSet != "" && s.frame.Type != frameSTX {
		return s, p.errf("check", checkSet, "only applies to frame=stx")
	}
	if s.frame.Type == frameFixed && s.frame.Size > s.frame.Max {
		return s, p.errf("fixed", fixedSet, "longer than max=%d", s.frame.Max)
	}
	if decoder == TypeSerial || decoder == TypeKeyboard {
		if _, err := newFramer(s.frame); err != nil {
			return s, p.wrap("frame", string(s.frame.Type), err)
		}
	}
	return s, nil
}

// options splits the query, refusing a key given twice (except the
// transforms, which may repeat: pad=8&…&pad=10).
func (p *specParser) options(query string) ([]option, error) {
	if query == "" {
		return nil, nil
	}
	var opts []option
	seen := map[string]bool{}
	for _, kv := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, p.errf("option", kv, "want key=value")
		}
		dv, err := url.PathUnescape(v)
		if err != nil {
			return nil, p.errf(k, v, "bad percent-encoding")
		}
		switch k {
		case "strip_prefix", "strip_suffix", "hex2dec", "dec2hex", "reverse_bytes", "pad":
		default:
			if seen[k] {
				return nil, p.errf(k, dv, "given twice")
			}
			seen[k] = true
		}
		opts = append(opts, option{k, dv})
	}
	return opts, nil
}

func (p *specParser) check(opts []option, allowed []string) error {
	for _, o := range opts {
		ok := false
		for _, a := range allowed {
			if o.key == a {
				ok = true
				break
			}
		}
		if !ok {
			return p.errf(o.key, o.value, "unknown option here (allowed: %s)", strings.Join(allowed, ", "))
		}
	}
	return nil
}

func lookup(opts []option, key string) (string, bool) {
	for _, o := range opts {
		if o.key == key {
			return o.value, true
		}
	}
	return "", false
}

// serialAddress is a port path or usb=VID:PID[&serial=SN].
func (p *specParser) serialAddress(s *Spec, addr string) error {
	if !strings.HasPrefix(addr, "usb=") {
		if addr == "" {
			return p.errf("address", addr, "serial needs a port path or usb=VID:PID")
		}
		s.serial.Path = addr
		return nil
	}
	u := &usbID{}
	for i, kv := range strings.Split(addr, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case i == 0: // usb=, checked above
			var err error
			if u.VendorID, u.ProductID, err = p.vidPID("usb", v); err != nil {
				return err
			}
		case k == "serial" && v != "" && u.Serial == "":
			u.Serial = v
		default:
			return p.errf("address", kv, "want usb=VID:PID[&serial=SN]")
		}
	}
	s.serial.USB = u
	return nil
}

// vidPID parses VID:PID in hex (0c2e:0b61).
func (p *specParser) vidPID(option, v string) (uint16, uint16, error) {
	a, b, ok := strings.Cut(v, ":")
	vid, err1 := strconv.ParseUint(a, 16, 16)
	pid, err2 := strconv.ParseUint(b, 16, 16)
	if !ok || err1 != nil || err2 != nil || len(a) > 4 || len(b) > 4 {
		return 0, 0, p.errf(option, v, "want VID:PID in hex, like 0c2e:0b61")
	}
	return uint16(vid), uint16(pid), nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("want 1 or 0")
}

func parseInt(v string, min, max int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("want a whole number from %d to %d", min, max)
	}
	return n, nil
}

func parseDuration(v string, min, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > max {
		return 0, fmt.Errorf("want a duration from %s to %s, like 800ms", min, max)
	}
	return d, nil
}

func parseParity(v string) (serial.Parity, error) {
	switch strings.ToLower(v) {
	case "none", "n":
		return serial.NoParity, nil
	case "odd", "o":
		return serial.OddParity, nil
	case "even", "e":
		return serial.EvenParity, nil
	case "mark", "m":
		return serial.MarkParity, nil
	case "space", "s":
		return serial.SpaceParity, nil
	}
	return 0, errors.New("want none, odd, even, mark or space")
}

func parseStopBits(v string) (serial.StopBits, error) {
	switch v {
	case "1":
		return serial.OneStopBit, nil
	case "1.5":
		return serial.OnePointFiveStopBits, nil
	case "2":
		return serial.TwoStopBits, nil
	}
	return 0, errors.New("want 1, 1.5 or 2")
}
