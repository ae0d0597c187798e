package device

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.bug.st/serial"

	"github.com/campuspos/kiosk/device/hid"
)

func TestParseSpecSerial(t *testing.T) {
	s, err := ParseSpec("reader", "serial:/dev/ttyUSB0?baud=19200&data=7&parity=even&stop=2&frame=crlf")
	require.NoError(t, err)
	assert.Equal(t, TypeSerial, s.Type)
	assert.Equal(t, KindCard, s.Kind, "serial inputs are card readers unless told")
	assert.Equal(t, "/dev/ttyUSB0", s.serial.Path)
	assert.Equal(t, serial.Mode{BaudRate: 19200, DataBits: 7, Parity: serial.EvenParity, StopBits: serial.TwoStopBits}, s.serial.Mode)
	assert.Equal(t, frameSpec{Type: frameCRLF, Max: defaultMaxFrame, PartialTimeout: defaultPartialTimeout}, s.frame)
	assert.Equal(t, defaultDebounce, s.debounce)

	s, err = ParseSpec("reader", "serial:usb=0403:6001&serial=A1B2?frame=stx&check=lrc&kind=barcode&debounce=0s")
	require.NoError(t, err)
	assert.Equal(t, &usbID{VendorID: 0x0403, ProductID: 0x6001, Serial: "A1B2"}, s.serial.USB)
	assert.Empty(t, s.serial.Path)
	assert.Equal(t, serial.Mode{BaudRate: 9600, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}, s.serial.Mode, "9600 8N1 by default")
	assert.Equal(t, checkLRC, s.frame.Check)
	assert.Equal(t, KindBarcode, s.Kind)
	assert.Zero(t, s.debounce)

	s, err = ParseSpec("r", "serial:/dev/ttyS0?fixed=10")
	require.NoError(t, err)
	assert.Equal(t, frameFixed, s.frame.Type)
	assert.Equal(t, 10, s.frame.Size)
	s, err = ParseSpec("r", "serial:/dev/ttyS0?gap=50ms&max=64")
	require.NoError(t, err)
	assert.Equal(t, frameSpec{Type: frameGap, Gap: 50 * time.Millisecond, Max: 64, PartialTimeout: defaultPartialTimeout}, s.frame)
}

func TestParseSpecTransformsInOrder(t *testing.T) {
	s, err := ParseSpec("r", "serial:/dev/ttyS0?dec2hex=1&pad=8&reverse_bytes=1&hex2dec=1&pad=10&match=[0-9]{10}&strip_prefix=%26")
	require.NoError(t, err)
	ops := []transformOp{}
	for _, tr := range s.id.Transforms {
		ops = append(ops, tr.Op)
	}
	assert.Equal(t, []transformOp{opDecToHex, opPad, opReverseBytes, opHexToDec, opPad, opStripPrefix}, ops)
	assert.Equal(t, "&", s.id.Transforms[5].Arg, "values are percent-decoded")
	assert.Equal(t, "^(?:[0-9]{10})$", s.id.Match.String(), "+ and $ survive, the match is anchored")
}

func TestParseSpecHIDReplayKeyboard(t *testing.T) {
	s, err := ParseSpec("scanner", "hid-keyboard:0c2e:0b61?serial=X9&tab=1&layout=us&report_id=1")
	require.NoError(t, err)
	assert.Equal(t, hidSpec{usbID: usbID{0x0c2e, 0x0b61, "X9"}, UsagePage: UsagePageGenericDesktop, Interface: hid.AnyInterface, Tab: true, Layout: "us", ReportID: 1, Max: defaultMaxFrame}, s.hid)
	assert.Equal(t, KindBarcode, s.Kind)

	// A composite scanner's interface, by its USB interface number; the
	// usage page keeps its default.
	s, err = ParseSpec("scanner", "hid-pos:0c2e:0b61?interface=1&vendor_byte=1")
	require.NoError(t, err)
	assert.Equal(t, 1, s.hid.Interface)
	assert.Equal(t, uint16(UsagePagePOS), s.hid.UsagePage)
	s, err = ParseSpec("scanner", "hid-keyboard:0c2e:0b61?interface=0")
	require.NoError(t, err)
	assert.Equal(t, 0, s.hid.Interface, "interface 0 is a real interface, not any")
	s, err = ParseSpec("replay", "replay:cap.txt?as=hid-pos&interface=1")
	require.NoError(t, err, "a HID spec's options are accepted so that only the prefix changes")

	s, err = ParseSpec("scanner", "hid-pos:0c2e:0b61?vendor_byte=1&feature=fe01&usage_page=0")
	require.NoError(t, err)
	assert.True(t, s.hid.VendorByte)
	assert.Equal(t, []byte{0xfe, 0x01}, s.hid.Feature)
	assert.Zero(t, s.hid.UsagePage, "usage_page=0: any interface")
	s, err = ParseSpec("scanner", "hid-pos:0c2e:0b61?feature=honeywell")
	require.NoError(t, err)
	assert.Equal(t, []byte{0xfe, 0x01}, s.hid.Feature)
	s, err = ParseSpec("scanner", "hid-pos:c2e:b61")
	require.NoError(t, err)
	assert.Equal(t, uint16(UsagePagePOS), s.hid.UsagePage)

	s, err = ParseSpec("replay", "replay:cap.txt?as=hid-pos&kind=card&speed=fast")
	require.NoError(t, err)
	assert.Equal(t, replaySpec{File: "cap.txt", As: TypeHIDPOS, Fast: true}, s.replay)
	assert.Equal(t, KindCard, s.Kind)
	s, err = ParseSpec("replay", "replay:cap.txt?baud=9600&frame=cr")
	require.NoError(t, err, "a serial spec's options are accepted so that only the prefix changes")
	assert.Equal(t, TypeSerial, s.replay.As)
	assert.False(t, s.replay.Fast, "recorded speed by default")

	s, err = ParseSpec("window", "keyboard:?tab=1")
	require.NoError(t, err)
	assert.True(t, s.hid.Tab)
	assert.Zero(t, s.frame.PartialTimeout, "a person may type slowly")
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct{ spec, option, value string }{
		{"/dev/ttyUSB0", "spec", "/dev/ttyUSB0"},
		{"usb:/dev/ttyUSB0", "type", "usb"},
		{"serial:", "address", ""},
		{"serial:usb=0403", "usb", "0403"},
		{"serial:usb=0403:6001&bogus=1", "address", "bogus=1"},
		{"serial:/dev/x?baud=fast", "baud", "fast"},
		{"serial:/dev/x?baud=9600&baud=19200", "baud", "19200"},
		{"serial:/dev/x?data=9", "data", "9"},
		{"serial:/dev/x?parity=maybe", "parity", "maybe"},
		{"serial:/dev/x?stop=3", "stop", "3"},
		{"serial:/dev/x?frame=cr&fixed=10", "fixed", "10"},
		{"serial:/dev/x?frame=fixed", "frame", "fixed"},
		{"serial:/dev/x?frame=gap", "frame", "gap"},
		{"serial:/dev/x?check=xor", "check", "xor"},
		{"serial:/dev/x?fixed=300", "fixed", "300"},
		{"serial:/dev/x?gap=0s", "gap", "0s"},
		{"serial:/dev/x?kind=cash", "kind", "cash"},
		{"serial:/dev/x?debounce=soon", "debounce", "soon"},
		{"serial:/dev/x?match=[", "match", "["},
		{"serial:/dev/x?pad=0", "pad", "0"},
		{"serial:/dev/x?hex2dec=maybe", "hex2dec", "maybe"},
		{"serial:/dev/x?tab=1", "tab", "1"},
		{"serial:/dev/x?strip_prefix=%zz", "strip_prefix", "%zz"},
		{"serial:/dev/x?noequals", "option", "noequals"},
		{"hid-pos:0c2e", "address", "0c2e"},
		{"hid-pos:0c2e:0b61?frame=crlf", "frame", "crlf"},
		{"hid-pos:0c2e:0b61?feature=xyz", "feature", "xyz"},
		{"hid-keyboard:0c2e:0b61?vendor_byte=1", "vendor_byte", "1"},
		{"hid-keyboard:0c2e:0b61?usage_page=0x10000", "usage_page", "0x10000"},
		{"hid-pos:0c2e:0b61?interface=256", "interface", "256"},
		{"hid-pos:0c2e:0b61?interface=-1", "interface", "-1"},
		{"hid-pos:0c2e:0b61?interface=", "interface", ""},
		{"hid-pos:0c2e:0b61?interface=pos", "interface", "pos"},
		{"hid-pos:0c2e:0b61?interface=0&interface=1", "interface", "1"},
		{"serial:/dev/x?interface=1", "interface", "1"},
		{"replay:f?as=serial&interface=1", "interface", "1"},
		{"keyboard:?interface=1", "interface", "1"},
		{"replay:?as=serial", "address", ""},
		{"replay:f?as=keyboard", "as", "keyboard"},
		{"replay:f?speed=slow", "speed", "slow"},
		{"replay:f?as=hid-pos&frame=crlf", "frame", "crlf"},
		{"keyboard:/dev/input", "address", "/dev/input"},
	}
	for _, tt := range tests {
		_, err := ParseSpec("dev", tt.spec)
		var se *SpecError
		if assert.True(t, errors.As(err, &se), "%s: %v", tt.spec, err) {
			assert.Equal(t, tt.option, se.Option, tt.spec)
			assert.Equal(t, tt.value, se.Value, tt.spec)
			assert.Contains(t, err.Error(), `device "dev"`)
			assert.Contains(t, err.Error(), tt.option)
		}
	}
}
