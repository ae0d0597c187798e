package hid

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	khid "github.com/karalabe/hid"
)

// System returns the operating system's HID devices through
// github.com/karalabe/hid (hidapi, with its bundled libusb on Linux).
// Without cgo it builds but Enumerate and Open fail with ErrUnsupported.
func System() Backend { return systemBackend{} }

type systemBackend struct{}

func (systemBackend) Enumerate(vendorID, productID uint16) ([]Info, error) {
	if !khid.Supported() {
		return nil, ErrUnsupported
	}
	// hidapi reports no error of its own: a machine where libusb cannot
	// start (no /dev/bus/usb, as in a container) lists nothing, which is
	// what a kiosk with its scanner unplugged sees too.
	devs, err := khid.Enumerate(vendorID, productID)
	if err != nil {
		return nil, err
	}
	infos := make([]Info, len(devs))
	for i, d := range devs {
		infos[i] = Info{
			Path: d.Path, VendorID: d.VendorID, ProductID: d.ProductID,
			Serial: d.Serial, Manufacturer: d.Manufacturer, Product: d.Product,
			UsagePage: d.UsagePage, Usage: d.Usage, Interface: d.Interface,
		}
	}
	return infos, nil
}

func (systemBackend) Open(info Info) (Device, error) {
	if !khid.Supported() {
		return nil, ErrUnsupported
	}
	// karalabe/hid opens by path alone.
	d, err := khid.DeviceInfo{Path: info.Path}.Open()
	if err != nil {
		return nil, err
	}
	return newPolledDevice(d, readPollMillis), nil
}

// readPollMillis bounds how long Close waits for a Read in progress; a
// report that arrives is returned at once, whatever this is.
const readPollMillis = 100

// rawDevice is what polledDevice needs of a karalabe/hid device.
type rawDevice interface {
	ReadTimeout(b []byte, timeoutMillis int) (int, error)
	SendFeatureReport(b []byte) (int, error)
	Close() error
}

// polledDevice makes a karalabe/hid device safe to close while another
// goroutine reads, which the hot-plug loop needs to stop an input.
// karalabe/hid's Close frees the hidapi handle that a blocking Read in
// another thread is still using (a use after free in C); here Read waits
// in short ReadTimeout slices with the device lock held and checks for
// Close between them, and Close takes the lock before closing, so the
// handle is never closed under a call.
type polledDevice struct {
	raw    rawDevice
	pollMS int
	closed atomic.Bool
	mu     sync.Mutex // held during every call into raw
	once   sync.Once
	err    error // of raw.Close
}

func newPolledDevice(raw rawDevice, pollMS int) *polledDevice {
	return &polledDevice{raw: raw, pollMS: pollMS}
}

func (d *polledDevice) Read(p []byte) (int, error) {
	if len(p) == 0 {
		// hidapi returns at once for an empty buffer; polling on it
		// would spin.
		return 0, nil
	}
	for {
		if d.closed.Load() {
			return 0, ErrClosed
		}
		n, done, err := d.readSlice(p)
		if done {
			return n, err
		}
	}
}

// readSlice waits for one poll interval; done is false when nothing came.
func (d *polledDevice) readSlice(p []byte) (n int, done bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return 0, true, ErrClosed
	}
	n, err = d.raw.ReadTimeout(p, d.pollMS)
	if err != nil {
		if errors.Is(err, khid.ErrDeviceClosed) {
			err = fmt.Errorf("%w: %w", ErrClosed, err)
		}
		return 0, true, fmt.Errorf("hid: read: %w", err)
	}
	return n, n > 0, nil
}

func (d *polledDevice) SendFeatureReport(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return 0, ErrClosed
	}
	n, err := d.raw.SendFeatureReport(b)
	if err != nil {
		return n, fmt.Errorf("hid: send feature report: %w", err)
	}
	return n, nil
}

func (d *polledDevice) Close() error {
	d.once.Do(func() {
		d.closed.Store(true)
		d.mu.Lock() // waits for a read slice to end
		defer d.mu.Unlock()
		d.err = d.raw.Close()
	})
	return d.err
}
