// Package hidtest provides a fake hid.Backend for tests: devices that can
// be plugged in and out, deliver recorded input reports, and record the
// feature reports they are sent. No machine that runs the tests has a
// scanner; this is the edge that stands in for one.
package hidtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/campuspos/kiosk/device/hid"
)

// ErrUnplugged is what Read on an open Device returns once the device has
// been removed from its Backend, as a real read fails on unplugging.
var ErrUnplugged = errors.New("hidtest: device unplugged")

// Backend is a fake hid.Backend. Its methods are safe for concurrent use.
type Backend struct {
	mu        sync.Mutex
	devices   []*plugged
	enumErr   error
	openErr   error
	opens     int
	lastOpens map[string]*Device
}

// plugged is a device present on the fake bus.
type plugged struct {
	info    hid.Info
	reports [][]byte // still to be read, shared by the device's opens
	gone    chan struct{}
}

var _ hid.Backend = (*Backend)(nil)

// New returns a backend with no devices.
func New() *Backend { return &Backend{lastOpens: make(map[string]*Device)} }

// Add plugs in a device that will deliver reports, in order, to whoever
// has it open. A device with the same path is replaced (unplugged first).
func (b *Backend) Add(info hid.Info, reports ...[]byte) {
	b.Remove(info.Path)
	p := &plugged{info: info, gone: make(chan struct{})}
	for _, r := range reports {
		p.reports = append(p.reports, slices.Clone(r))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.devices = append(b.devices, p)
}

// Remove unplugs the device at path: it is no longer listed, and Read on
// it fails with ErrUnplugged.
func (b *Backend) Remove(path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.devices = slices.DeleteFunc(b.devices, func(p *plugged) bool {
		if p.info.Path == path {
			close(p.gone)
			return true
		}
		return false
	})
}

// SetEnumerateError makes Enumerate fail with err (nil: succeed again).
func (b *Backend) SetEnumerateError(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.enumErr = err
}

// SetOpenError makes Open fail with err (nil: succeed again).
func (b *Backend) SetOpenError(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.openErr = err
}

// Opens counts the successful Open calls.
func (b *Backend) Opens() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opens
}

// LastOpened returns the last Device opened at path, or nil.
func (b *Backend) LastOpened(path string) *Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastOpens[path]
}

// Enumerate lists the plugged devices with the IDs given (0: any).
func (b *Backend) Enumerate(vendorID, productID uint16) ([]hid.Info, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.enumErr != nil {
		return nil, b.enumErr
	}
	var infos []hid.Info
	for _, p := range b.devices {
		if (vendorID == 0 || p.info.VendorID == vendorID) && (productID == 0 || p.info.ProductID == productID) {
			infos = append(infos, p.info)
		}
	}
	return infos, nil
}

// Open opens the plugged device with info's path.
func (b *Backend) Open(info hid.Info) (hid.Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openErr != nil {
		return nil, b.openErr
	}
	for _, p := range b.devices {
		if p.info.Path == info.Path {
			d := &Device{b: b, p: p, closed: make(chan struct{})}
			b.opens++
			b.lastOpens[info.Path] = d
			return d, nil
		}
	}
	return nil, fmt.Errorf("hidtest: no device at %q", info.Path)
}

// Device is an open fake device.
type Device struct {
	b         *Backend
	p         *plugged
	closeOnce sync.Once
	closed    chan struct{}
	mu        sync.Mutex
	features  [][]byte
}

// Read returns the device's next recorded report; when there is none it
// blocks until Close (hid.ErrClosed) or Remove (ErrUnplugged). A report
// longer than p is cut to len(p), as hidapi does.
func (d *Device) Read(p []byte) (int, error) {
	select {
	case <-d.closed:
		return 0, hid.ErrClosed
	case <-d.p.gone:
		return 0, ErrUnplugged
	default:
	}
	d.b.mu.Lock()
	if len(d.p.reports) > 0 {
		r := d.p.reports[0]
		d.p.reports = d.p.reports[1:]
		d.b.mu.Unlock()
		return copy(p, r), nil
	}
	d.b.mu.Unlock()
	select {
	case <-d.closed:
		return 0, hid.ErrClosed
	case <-d.p.gone:
		return 0, ErrUnplugged
	}
}

// SendFeatureReport records b.
func (d *Device) SendFeatureReport(b []byte) (int, error) {
	select {
	case <-d.closed:
		return 0, hid.ErrClosed
	case <-d.p.gone:
		return 0, ErrUnplugged
	default:
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.features = append(d.features, slices.Clone(b))
	return len(b), nil
}

// Features returns the feature reports sent so far.
func (d *Device) Features() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.features)
}

// Close closes the device; a blocked Read returns hid.ErrClosed.
func (d *Device) Close() error {
	d.closeOnce.Do(func() { close(d.closed) })
	return nil
}
