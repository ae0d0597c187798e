package device

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/device/hid"
	"github.com/campuspos/kiosk/device/hid/hidtest"
)

// fakeHID is a hid.Backend whose devices the test plugs, unplugs and
// feeds recorded reports.
type fakeHID struct {
	mu       sync.Mutex
	devs     []*fakeDevice
	enumErr  error
	openErr  error
	features [][]byte
}

type fakeDevice struct {
	info    hid.Info
	reports chan []byte
	closed  chan struct{}
	once    sync.Once
	hid     *fakeHID
}

func (f *fakeHID) plug(path string, usagePage uint16) *fakeDevice {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := &fakeDevice{
		info:    hid.Info{Path: path, VendorID: 0x0c2e, ProductID: 0x0b61, Serial: "S1", UsagePage: usagePage, Product: "Xenon"},
		reports: make(chan []byte, 64), closed: make(chan struct{}), hid: f,
	}
	f.devs = append(f.devs, d)
	return d
}

// unplug removes the device; its reader sees an error.
func (f *fakeHID) unplug(d *fakeDevice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.devs {
		if x == d {
			f.devs = append(f.devs[:i], f.devs[i+1:]...)
		}
	}
	close(d.reports)
}

func (f *fakeHID) Enumerate(vid, pid uint16) ([]hid.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []hid.Info
	for _, d := range f.devs {
		out = append(out, d.info)
	}
	return out, f.enumErr
}

func (f *fakeHID) Open(info hid.Info) (hid.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.openErr != nil {
		return nil, f.openErr
	}
	for _, d := range f.devs {
		if d.info.Path == info.Path {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%s: gone", info.Path)
}

func (d *fakeDevice) Read(p []byte) (int, error) {
	select {
	case r, ok := <-d.reports:
		if !ok {
			return 0, errors.New("hid: read: device unplugged")
		}
		return copy(p, r), nil
	case <-d.closed:
		return 0, hid.ErrClosed
	}
}

func (d *fakeDevice) SendFeatureReport(b []byte) (int, error) {
	d.hid.mu.Lock()
	defer d.hid.mu.Unlock()
	d.hid.features = append(d.hid.features, append([]byte(nil), b...))
	return len(b), nil
}

func (d *fakeDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

// kb is a boot-keyboard report: modifiers, reserved, up to six keys.
func kb(mod byte, keys ...byte) []byte {
	r := make([]byte, 8)
	r[0] = mod
	copy(r[2:], keys)
	return r
}

const shift = 0x02

// Usage IDs of the US layout.
func usage(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return 0x04 + c - 'a'
	case c >= 'A' && c <= 'Z':
		return 0x04 + c - 'A'
	case c == '0':
		return 0x27
	case c >= '1' && c <= '9':
		return 0x1e + c - '1'
	}
	panic(c)
}

// typedReports is what a keyboard-emulation scanner sends for s and Enter.
func typedReports(s string) [][]byte {
	var out [][]byte
	for _, c := range []byte(s) {
		mod := byte(0)
		if c >= 'A' && c <= 'Z' {
			mod = shift
		}
		out = append(out, kb(mod, usage(c)), kb(0))
	}
	return append(out, kb(0, 0x28), kb(0))
}

// posReport is a 64-byte HID POS scanned-data report (Honeywell layout
// with vendor byte when vendor is not 0).
func posReport(aim, data string, vendor byte, more bool) []byte {
	r := make([]byte, 64)
	r[0], r[1] = 0x02, byte(len(data))
	copy(r[2:5], aim)
	copy(r[5:], data)
	if vendor != 0 {
		r[61] = vendor
	}
	if more {
		r[63] = 1
	}
	return r
}

func TestHIDKeyboardFakeBackendReplug(t *testing.T) {
	back := &fakeHID{}
	dev := back.plug("/dev/hidraw3", 0)
	w := watch(t, []Spec{mustSpec(t, "scanner", "hid-keyboard:0c2e:0b61?serial=S1")},
		Options{System: System{HID: back}, RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	assert.Equal(t, "/dev/hidraw3", w.event(t, EventConnected).Path)
	reports := typedReports("Ab12")
	// A repeated report and roll-over (the next key down before the last
	// is released) must not double characters.
	reports = append([][]byte{kb(0, usage('9')), kb(0, usage('9')), kb(0, usage('9'), usage('8')), kb(0), kb(0, 0x28), kb(0)}, reports...)
	for _, r := range reports {
		dev.reports <- r
	}
	s := w.scan(t)
	assert.Equal(t, Scan{Device: "scanner", Kind: KindBarcode, Text: "98", Time: s.Time}, s)
	assert.Equal(t, "Ab12", w.scan(t).Text)

	back.unplug(dev)
	assert.Contains(t, w.event(t, EventDisconnected).Err.Error(), "unplugged")
	assert.ErrorIs(t, w.event(t, EventOpenFailed).Err, ErrNotFound)
	dev2 := back.plug("/dev/hidraw5", 0)
	assert.Equal(t, "/dev/hidraw5", w.event(t, EventConnected).Path, "found again at its new path")
	for _, r := range typedReports("77") {
		dev2.reports <- r
	}
	assert.Equal(t, "77", w.scan(t).Text)
}

func TestHIDPOSFeatureAndSymbology(t *testing.T) {
	back := &fakeHID{}
	dev := back.plug("/dev/hidraw1", UsagePagePOS)
	back.plug("/dev/hidraw0", UsagePageGenericDesktop) // the same scanner's keyboard interface
	w := watch(t, []Spec{mustSpec(t, "scanner", "hid-pos:0c2e:0b61?vendor_byte=1&feature=fe01")}, Options{System: System{HID: back}})
	assert.Equal(t, "/dev/hidraw1", w.event(t, EventConnected).Path, "the POS interface by its usage page")
	back.mu.Lock()
	assert.Equal(t, [][]byte{{0xfe, 0x01}}, back.features, "switched into HID POS mode at open")
	back.mu.Unlock()
	long := "https://pay.campus.example/q?id=AB12-cd34_EF56&amount=12.50&t=1718000000#Ok"
	dev.reports <- posReport("]Q1", long[:56], 's', true)
	dev.reports <- posReport("]Q1", long[56:], 's', false)
	dev.reports <- posReport("]Q1", "\x01\x02", 's', false)
	s := w.scan(t)
	assert.Equal(t, long, s.Text)
	assert.Equal(t, "]Q1", s.Symbology)
	assert.Equal(t, KindBarcode, s.Kind)
	assert.Equal(t, "binary noise: control byte 0x01 in frame", w.drop(t).Reason, "binary data is not passed on")
}

func TestHIDOpenErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*fakeHID)
		want string
	}{
		{"enumeration fails", func(f *fakeHID) { f.enumErr = errors.New("libusb: no access") }, "libusb: no access"},
		{"open fails", func(f *fakeHID) { f.plug("/dev/hidraw0", 0); f.openErr = errors.New("permission denied") }, "permission denied"},
		{"two alike", func(f *fakeHID) { f.plug("/dev/hidraw0", 0); f.plug("/dev/hidraw1", 0) }, "several matching HID devices"},
		{"missing", func(f *fakeHID) {}, "no matching HID device"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			back := &fakeHID{}
			tt.set(back)
			w := watch(t, []Spec{mustSpec(t, "scanner", "hid-keyboard:0c2e:0b61")}, Options{System: System{HID: back}})
			e := w.event(t, EventOpenFailed)
			assert.ErrorContains(t, e.Err, tt.want)
			st := w.m.Status()[0]
			assert.False(t, st.Connected)
			assert.False(t, st.Ended, "retried: it may be plugged in or fixed")
			assert.Contains(t, st.LastError, tt.want)
		})
	}
}

// recordedReports reads one of device/hid's recorded captures, each
// record one input report.
func recordedReports(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("hid", "testdata", name))
	require.NoError(t, err)
	defer f.Close()
	recs, err := parseCapture(f)
	require.NoError(t, err)
	var reports [][]byte
	for _, r := range recs {
		reports = append(reports, r.Data)
	}
	return reports
}

// compositeScanner is a scanner with a keyboard interface (0) and a HID
// POS interface (1) under one VID:PID and serial number, as Linux lists it
// through karalabe/hid's libusb: usage page 0 on both. The keyboard
// interface types a card number, the POS one sends a QR code and a card
// number, each as recorded.
func compositeScanner(t *testing.T) *hidtest.Backend {
	b := hidtest.New()
	info := hid.Info{VendorID: 0x0c2e, ProductID: 0x0b61, Serial: "S1", Manufacturer: "Honeywell", Product: "Xenon 1900"}
	kbd, pos := info, info
	kbd.Path, kbd.Interface = "1-4:1.0", 0
	pos.Path, pos.Interface = "1-4:1.1", 1
	b.Add(kbd, recordedReports(t, "kbd-card-3197650001.txt")...)
	b.Add(pos, recordedReports(t, "pos-honeywell.txt")...)
	return b
}

func TestHIDCompositeScannerByInterface(t *testing.T) {
	for _, tt := range []struct {
		name, spec string
		// opened is the interface's path, untouched the other's.
		opened, untouched string
		want              []Scan
	}{
		{
			name: "interface=1 reads the POS interface", spec: "hid-pos:0c2e:0b61?interface=1&vendor_byte=1",
			opened: "1-4:1.1", untouched: "1-4:1.0",
			want: []Scan{
				{Kind: KindBarcode, Text: "https://pay.campus.example/q?id=AB12-cd34_EF56&amount=12.50&t=1718000000#Ok", Symbology: "]Q1"},
				{Kind: KindBarcode, Text: "3197650001", Symbology: "]C0"},
			},
		},
		{
			name: "interface=0 reads the keyboard interface", spec: "hid-keyboard:0c2e:0b61?serial=S1&interface=0&kind=card",
			opened: "1-4:1.0", untouched: "1-4:1.1",
			want: []Scan{{Kind: KindCard, Text: "3197650001"}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := compositeScanner(t)
			w := watch(t, []Spec{mustSpec(t, "scanner", tt.spec)}, Options{System: System{HID: b}})
			assert.Equal(t, tt.opened, w.event(t, EventConnected).Path)
			for _, want := range tt.want {
				got := w.scan(t)
				want.Device, want.Time = "scanner", got.Time
				assert.Equal(t, want, got)
			}
			// Opening claims the interface and, on Linux, detaches its
			// kernel driver: the other interface is left alone.
			assert.Nil(t, b.LastOpened(tt.untouched))
		})
	}

	for _, spec := range []string{"hid-pos:0c2e:0b61?vendor_byte=1", "hid-keyboard:0c2e:0b61?serial=S1"} {
		t.Run("without interface= "+spec, func(t *testing.T) {
			b := compositeScanner(t)
			w := watch(t, []Spec{mustSpec(t, "scanner", spec)}, Options{System: System{HID: b}})
			err := w.event(t, EventOpenFailed).Err
			assert.ErrorIs(t, err, hid.ErrAmbiguous)
			assert.ErrorContains(t, err, `interface 0 "Honeywell Xenon 1900" at 1-4:1.0`)
			assert.ErrorContains(t, err, `interface 1 "Honeywell Xenon 1900" at 1-4:1.1`)
			assert.ErrorContains(t, err, "(interfaces 0 and 1 match: give the interface number to choose); in the spec: interface=N")
			st := w.m.Status()[0]
			assert.False(t, st.Ended, "retried: the spec may be fixed or the device changed")
			assert.Equal(t, err.Error(), st.LastError)
			assert.Zero(t, b.Opens())
		})
	}

	t.Run("a nonexistent interface says so", func(t *testing.T) {
		b := compositeScanner(t)
		w := watch(t, []Spec{mustSpec(t, "scanner", "hid-pos:0c2e:0b61?interface=2")}, Options{System: System{HID: b}})
		err := w.event(t, EventOpenFailed).Err
		assert.ErrorIs(t, err, ErrNotFound)
		assert.ErrorContains(t, err, "0c2e:0b61 usage page 0x8C interface 2; 2 present")
		assert.ErrorContains(t, err, "(no interface 2; interfaces present: 0 and 1)")
		assert.Zero(t, b.Opens())
	})
}

func TestHIDLayoutMissingEndsInput(t *testing.T) {
	w := watch(t, []Spec{mustSpec(t, "scanner", "hid-keyboard:0c2e:0b61?layout=/nonexistent/de.txt")}, Options{System: System{HID: &fakeHID{}}})
	e := w.event(t, EventEnded)
	assert.ErrorContains(t, e.Err, "layout /nonexistent/de.txt")
	assert.True(t, w.m.Status()[0].Ended)
}

func TestReplayHID(t *testing.T) {
	var recs []Record
	at := time.Duration(0)
	for _, r := range typedReports("3197650001") {
		recs = append(recs, Record{At: at, Data: r})
		at += 4 * time.Millisecond
	}
	kbd := writeCapture(t, recs...)
	pos := writeCapture(t,
		Record{At: 0, Data: posReport("]C0", "3197650001", 'j', false)},
		Record{At: 8 * time.Millisecond, Data: posReport("]C0", "3197650001", 'j', false)},
		Record{At: 2 * time.Second, Data: posReport("]C0", "3197650001", 'j', false)},
	)
	for _, speed := range []string{"fast", "recorded"} {
		t.Run(speed, func(t *testing.T) {
			w := watch(t, []Spec{
				mustSpec(t, "kbd", "replay:"+kbd+"?as=hid-keyboard&kind=card&speed="+speed),
			}, Options{})
			s := w.scan(t)
			assert.Equal(t, "3197650001", s.Text)
			assert.Equal(t, KindCard, s.Kind)
			w.event(t, EventEnded)
		})
	}
	// Debounce runs on the recorded times, so fast replay gives what the
	// device gave live: the repeat 8 ms later is swallowed, the one 2 s
	// later is a new scan.
	w := watch(t, []Spec{mustSpec(t, "pos", "replay:"+pos+"?as=hid-pos&vendor_byte=1&speed=fast")}, Options{})
	first, second := w.scan(t), w.scan(t)
	assert.Equal(t, "]C0", first.Symbology)
	assert.Equal(t, 2*time.Second, second.Time.Sub(first.Time))
	w.event(t, EventEnded)
	assert.Equal(t, 1, w.m.Status()[0].Repeats)
}
