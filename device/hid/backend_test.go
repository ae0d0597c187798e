package hid_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/device/hid"
	"github.com/campuspos/kiosk/device/hid/hidtest"
)

const (
	honeywell = 0x0C2E
	voyager   = 0x0B8F
)

func TestFind(t *testing.T) {
	pos := hid.Info{Path: "1-1:1.0", VendorID: honeywell, ProductID: voyager, Serial: "A1", UsagePage: 0x8C, Usage: 0x02, Product: "Voyager 1400g"}
	kbdIface := hid.Info{Path: "1-1:1.1", VendorID: honeywell, ProductID: voyager, Serial: "A1", UsagePage: 0x01, Usage: 0x06, Interface: 1}
	second := hid.Info{Path: "1-2:1.0", VendorID: honeywell, ProductID: voyager, Serial: "B2", UsagePage: 0x8C, Usage: 0x02}
	other := hid.Info{Path: "1-3:1.0", VendorID: 0x05E0, ProductID: 0x1200}
	linuxA := hid.Info{Path: "0001:0004:00", VendorID: honeywell, ProductID: voyager, Serial: "A1"}
	linuxB := hid.Info{Path: "0001:0005:00", VendorID: honeywell, ProductID: voyager, Serial: "B2"}

	tests := []struct {
		name      string
		devices   []hid.Info
		enumErr   error
		serial    string
		usagePage uint16
		want      hid.Info
		wantErr   error
		inMessage string
	}{
		{name: "none", devices: []hid.Info{other}, wantErr: hid.ErrNotFound, inMessage: "0c2e:0b8f; none with these IDs present"},
		{name: "one", devices: []hid.Info{other, pos}, want: pos},
		{name: "several", devices: []hid.Info{pos, second}, wantErr: hid.ErrAmbiguous, inMessage: `serial "B2"`},
		{name: "serial filter", devices: []hid.Info{pos, second}, serial: "B2", want: second},
		{name: "serial not present", devices: []hid.Info{pos, second}, serial: "C3", wantErr: hid.ErrNotFound, inMessage: `2 present`},
		{name: "usage page picks the POS interface", devices: []hid.Info{kbdIface, pos}, usagePage: 0x8C, want: pos},
		{name: "usage page picks the keyboard interface", devices: []hid.Info{kbdIface, pos}, usagePage: 0x01, want: kbdIface},
		{name: "composite device without usage page", devices: []hid.Info{kbdIface, pos}, wantErr: hid.ErrAmbiguous, inMessage: "interface 1"},
		{name: "usage page absent", devices: []hid.Info{kbdIface}, usagePage: 0x8C, wantErr: hid.ErrNotFound},
		{name: "unknown usage page (Linux) still matches", devices: []hid.Info{linuxA}, usagePage: 0x8C, want: linuxA},
		{name: "unknown usage page, serial decides", devices: []hid.Info{linuxA, linuxB}, usagePage: 0x8C, serial: "B2", want: linuxB},
		{name: "unknown usage page, several", devices: []hid.Info{linuxA, linuxB}, usagePage: 0x8C, wantErr: hid.ErrAmbiguous, inMessage: "reports no usage pages"},
		{name: "known usage page beats unknown", devices: []hid.Info{linuxA, second}, usagePage: 0x8C, want: second},
		{name: "enumerate error", devices: []hid.Info{pos}, enumErr: errors.New("libusb: access denied"), wantErr: nil, inMessage: "libusb: access denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := hidtest.New()
			for _, d := range tt.devices {
				b.Add(d)
			}
			b.SetEnumerateError(tt.enumErr)
			got, err := hid.Find(b, honeywell, voyager, tt.serial, tt.usagePage, hid.AnyInterface)
			if tt.wantErr == nil && tt.inMessage == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			if tt.enumErr != nil {
				assert.ErrorIs(t, err, tt.enumErr)
			}
			assert.Contains(t, err.Error(), tt.inMessage)
			assert.Equal(t, hid.Info{}, got)
		})
	}
}

// A composite scanner (keyboard and HID POS interfaces under one VID:PID
// and serial number) as Linux lists it: usage page 0 on both, so only the
// interface number tells them apart.
func TestFindInterface(t *testing.T) {
	kbdIface := hid.Info{Path: "1-4:1.0", VendorID: honeywell, ProductID: voyager, Serial: "A1", Interface: 0}
	posIface := hid.Info{Path: "1-4:1.1", VendorID: honeywell, ProductID: voyager, Serial: "A1", Interface: 1}
	kbdB := hid.Info{Path: "1-5:1.0", VendorID: honeywell, ProductID: voyager, Serial: "B2", Interface: 0}
	posB := hid.Info{Path: "1-5:1.1", VendorID: honeywell, ProductID: voyager, Serial: "B2", Interface: 1}
	notUSB := hid.Info{Path: "bt-0", VendorID: honeywell, ProductID: voyager, Interface: -1}
	// Where the platform reports usage pages, they must agree with the
	// interface asked for.
	macPOS := hid.Info{Path: "mac-0", VendorID: honeywell, ProductID: voyager, UsagePage: 0x8C, Interface: 0}
	macKbd := hid.Info{Path: "mac-1", VendorID: honeywell, ProductID: voyager, UsagePage: 0x01, Interface: 1}

	tests := []struct {
		name       string
		devices    []hid.Info
		serial     string
		usagePage  uint16
		iface      int
		want       hid.Info
		wantErr    error
		inMessage  string
		interfaces []int
	}{
		{name: "interface 1 is the POS one", devices: []hid.Info{kbdIface, posIface}, usagePage: 0x8C, iface: 1, want: posIface},
		{name: "interface 0 is the keyboard", devices: []hid.Info{kbdIface, posIface}, usagePage: 0x01, iface: 0, want: kbdIface},
		{name: "any interface: ambiguous, naming them", devices: []hid.Info{kbdIface, posIface}, usagePage: 0x8C, iface: hid.AnyInterface,
			wantErr: hid.ErrAmbiguous, inMessage: "(interfaces 0 and 1 match: give the interface number to choose)", interfaces: []int{0, 1}},
		{name: "no such interface", devices: []hid.Info{kbdIface, posIface}, usagePage: 0x8C, iface: 2,
			wantErr: hid.ErrNotFound, inMessage: "interface 2; 2 present: "},
		{name: "no such interface, said apart", devices: []hid.Info{kbdIface, posIface}, iface: 2,
			wantErr: hid.ErrNotFound, inMessage: "(no interface 2; interfaces present: 0 and 1)"},
		{name: "two composite scanners: serial and interface", devices: []hid.Info{kbdIface, posIface, kbdB, posB}, serial: "B2", usagePage: 0x8C, iface: 1, want: posB},
		{name: "two composite scanners, interface only", devices: []hid.Info{kbdIface, posIface, kbdB, posB}, usagePage: 0x8C, iface: 1,
			wantErr: hid.ErrAmbiguous, inMessage: "give a serial number to choose", interfaces: []int{1}},
		{name: "two composite scanners, neither", devices: []hid.Info{kbdIface, posIface, kbdB, posB}, usagePage: 0x8C, iface: hid.AnyInterface,
			wantErr: hid.ErrAmbiguous, inMessage: "interfaces 0 and 1 of several devices match: give a serial number and the interface number", interfaces: []int{0, 1}},
		{name: "an unknown interface number does not match", devices: []hid.Info{notUSB}, iface: 0, wantErr: hid.ErrNotFound, inMessage: "1 present"},
		{name: "interface and usage page agree", devices: []hid.Info{macPOS, macKbd}, usagePage: 0x8C, iface: 0, want: macPOS},
		{name: "interface and usage page disagree", devices: []hid.Info{macPOS, macKbd}, usagePage: 0x8C, iface: 1,
			wantErr: hid.ErrNotFound, inMessage: "usage page 0x01 usage 0x00 interface 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := hidtest.New()
			for _, d := range tt.devices {
				b.Add(d)
			}
			got, err := hid.Find(b, honeywell, voyager, tt.serial, tt.usagePage, tt.iface)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), tt.inMessage)
			var ambiguous *hid.AmbiguousError
			if errors.As(err, &ambiguous) {
				assert.Equal(t, tt.interfaces, ambiguous.Interfaces())
			}
		})
	}
}

// A backend that lists more than was asked for does not widen the match.
type loose struct{ hid.Backend }

func (l loose) Enumerate(uint16, uint16) ([]hid.Info, error) { return l.Backend.Enumerate(0, 0) }

func TestFindFiltersIDsItself(t *testing.T) {
	b := hidtest.New()
	b.Add(hid.Info{Path: "a", VendorID: 1, ProductID: 2})
	b.Add(hid.Info{Path: "b", VendorID: 1, ProductID: 3})
	got, err := hid.Find(loose{b}, 1, 3, "", 0, hid.AnyInterface)
	require.NoError(t, err)
	assert.Equal(t, "b", got.Path)
}

func TestOpen(t *testing.T) {
	info := hid.Info{Path: "1-1:1.0", VendorID: honeywell, ProductID: voyager, UsagePage: 0x8C}
	report := posReport("]Q1", "hello", 's', false)

	t.Run("reads the recorded reports and sends the mode switch", func(t *testing.T) {
		b := hidtest.New()
		b.Add(info, report)
		dev, got, err := hid.Open(b, honeywell, voyager, "", 0x8C, hid.AnyInterface)
		require.NoError(t, err)
		defer dev.Close()
		assert.Equal(t, info, got)

		_, err = dev.SendFeatureReport(hid.HoneywellPOSModeFeature())
		require.NoError(t, err)
		assert.Equal(t, [][]byte{{0xFE, 0x01}}, b.LastOpened(info.Path).Features())

		buf := make([]byte, 64)
		n, err := dev.Read(buf)
		require.NoError(t, err)
		scans, drops := hid.NewPOSDecoder(hid.POSOptions{}).Feed(buf[:n])
		assert.Empty(t, drops)
		assert.Equal(t, []hid.POSScan{{Text: "hello", Symbology: "]Q1"}}, scans)
	})

	t.Run("open error", func(t *testing.T) {
		b := hidtest.New()
		b.Add(info)
		denied := errors.New("hidapi: failed to open device")
		b.SetOpenError(denied)
		dev, got, err := hid.Open(b, honeywell, voyager, "", 0, hid.AnyInterface)
		require.Error(t, err)
		assert.Nil(t, dev)
		assert.ErrorIs(t, err, denied)
		assert.Contains(t, err.Error(), "open 0c2e:0b8f")
		assert.Equal(t, info, got, "the device found is reported with the error")
		assert.Zero(t, b.Opens())
	})

	t.Run("not found", func(t *testing.T) {
		_, _, err := hid.Open(hidtest.New(), honeywell, voyager, "", 0, hid.AnyInterface)
		assert.ErrorIs(t, err, hid.ErrNotFound)
	})

	t.Run("enumerate error", func(t *testing.T) {
		b := hidtest.New()
		b.SetEnumerateError(hid.ErrUnsupported)
		_, _, err := hid.Open(b, honeywell, voyager, "", 0, hid.AnyInterface)
		assert.ErrorIs(t, err, hid.ErrUnsupported)
	})
}

// The fake device behaves as the real one does on close and unplug, so
// that the device package's hot-plug loop can be tested on it.
func TestFakeDeviceCloseAndUnplug(t *testing.T) {
	info := hid.Info{Path: "p", VendorID: 1, ProductID: 1}
	b := hidtest.New()
	b.Add(info, kb(0, 0x04), kb(0))

	dev, err := b.Open(info)
	require.NoError(t, err)
	buf := make([]byte, 4) // shorter than the report: cut, as hidapi does
	n, err := dev.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Equal(t, []byte{0, 0, 0x04, 0}, buf)

	// A Read blocked on an empty queue returns when the device is closed.
	_, err = dev.Read(buf)
	require.NoError(t, err)
	done := make(chan error)
	go func() {
		_, err := dev.Read(buf)
		done <- err
	}()
	require.NoError(t, dev.Close())
	assert.ErrorIs(t, <-done, hid.ErrClosed)

	// Unplugged: a blocked Read fails, and the device is no longer listed.
	dev, err = b.Open(info)
	require.NoError(t, err)
	go func() {
		_, err := dev.Read(buf)
		done <- err
	}()
	b.Remove(info.Path)
	assert.ErrorIs(t, <-done, hidtest.ErrUnplugged)
	_, err = hid.Find(b, 1, 1, "", 0, hid.AnyInterface)
	assert.ErrorIs(t, err, hid.ErrNotFound)
	_, err = b.Open(info)
	assert.Error(t, err)
	assert.Equal(t, 2, b.Opens())
}
