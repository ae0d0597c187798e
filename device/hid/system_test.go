package hid

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	khid "github.com/karalabe/hid"
)

// rawFake is a karalabe/hid device that times out at once when it has
// nothing, and checks that nothing calls it concurrently or after Close.
type rawFake struct {
	mu       sync.Mutex
	reports  [][]byte
	inCall   bool
	closed   bool
	misuse   []string
	readErr  error
	polls    int
	polled   chan struct{} // receives after each empty poll, when set
	features [][]byte
}

func (f *rawFake) enter(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inCall {
		f.misuse = append(f.misuse, op+" during another call")
	}
	if f.closed {
		f.misuse = append(f.misuse, op+" after Close")
	}
	f.inCall = true
}

func (f *rawFake) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inCall = false
}

func (f *rawFake) ReadTimeout(b []byte, ms int) (int, error) {
	f.enter("ReadTimeout")
	defer f.leave()
	f.mu.Lock()
	var (
		n      int
		err    = f.readErr
		polled chan struct{}
	)
	if err == nil && len(f.reports) > 0 {
		n = copy(b, f.reports[0])
		f.reports = f.reports[1:]
	} else if err == nil {
		f.polls++
		polled = f.polled
	}
	f.mu.Unlock()
	if polled != nil {
		select {
		case polled <- struct{}{}:
		default:
		}
	}
	return n, err
}

func (f *rawFake) SendFeatureReport(b []byte) (int, error) {
	f.enter("SendFeatureReport")
	defer f.leave()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.features = append(f.features, append([]byte(nil), b...))
	return len(b), nil
}

func (f *rawFake) Close() error {
	f.enter("Close")
	defer f.leave()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func TestPolledDeviceReads(t *testing.T) {
	f := &rawFake{reports: [][]byte{{1, 2, 3}}}
	d := newPolledDevice(f, 1)
	n, err := d.Read(make([]byte, 0))
	assert.Zero(t, n)
	assert.NoError(t, err, "an empty buffer returns at once instead of polling forever")

	buf := make([]byte, 8)
	n, err = d.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, buf[:n])

	_, err = d.SendFeatureReport([]byte{0xFE, 0x01})
	require.NoError(t, err)
	assert.Equal(t, [][]byte{{0xFE, 0x01}}, f.features)

	f.mu.Lock()
	f.readErr = khid.ErrDeviceClosed
	f.mu.Unlock()
	_, err = d.Read(buf)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, khid.ErrDeviceClosed)

	f.mu.Lock()
	f.readErr = errors.New("hidapi: transfer failed")
	f.mu.Unlock()
	_, err = d.Read(buf)
	assert.ErrorContains(t, err, "hid: read: hidapi: transfer failed")

	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close twice is harmless")
	assert.Empty(t, f.misuse)
}

// Close while another goroutine is in Read: Read returns ErrClosed, and
// the raw device is never closed under a call nor used after Close.
func TestPolledDeviceCloseDuringRead(t *testing.T) {
	for range 50 {
		f := &rawFake{polled: make(chan struct{}, 1)}
		d := newPolledDevice(f, 1)
		done := make(chan error)
		go func() {
			_, err := d.Read(make([]byte, 64))
			done <- err
		}()
		<-f.polled // the reader is polling
		require.NoError(t, d.Close())
		assert.ErrorIs(t, <-done, ErrClosed)

		_, err := d.Read(make([]byte, 64))
		assert.ErrorIs(t, err, ErrClosed)
		_, err = d.SendFeatureReport([]byte{0})
		assert.ErrorIs(t, err, ErrClosed)
		f.mu.Lock()
		assert.True(t, f.closed)
		assert.Empty(t, f.misuse)
		f.mu.Unlock()
	}
}

// The real backend on a machine with no scanner (CI, a container without
// /dev/bus/usb): enumeration lists nothing or some devices without error,
// and opening a path that does not exist fails cleanly.
func TestSystemBackendWithoutScanner(t *testing.T) {
	b := System()
	if !khid.Supported() {
		_, err := b.Enumerate(0, 0)
		assert.ErrorIs(t, err, ErrUnsupported)
		return
	}
	infos, err := b.Enumerate(0xFFFE, 0xFFFE) // an unassigned vendor ID
	require.NoError(t, err)
	assert.Empty(t, infos)

	_, err = b.Open(Info{Path: "9999:9999:99"})
	assert.Error(t, err)

	_, err = find(b, 0xFFFE, 0xFFFE, "", 0x8C, AnyInterface)
	assert.ErrorIs(t, err, ErrNotFound)
}
