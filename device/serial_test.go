package device

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// The serial tests drive a real pseudo-terminal: the input opens the
// slave with go.bug.st/serial (termios, raw mode, exclusive access, as on
// a ttyUSB), the test writes to the master what a reader would send.

func TestSerialPTYSplitsNoiseOverlong(t *testing.T) {
	master, path := newPTY(t)
	w := watch(t, []Spec{mustSpec(t, "reader", "serial:"+path+"?baud=9600&data=8&parity=none&stop=1&frame=crlf&max=16&debounce=0s")}, Options{})
	w.event(t, EventConnected)

	wr := &writer{t: t, w: w, master: master}
	send := wr.send
	frame := []byte("0012345678\r\n")
	// Split in two at every position: each part is read on its own before
	// the next is written, so the framer really sees the split.
	for i := 1; i < len(frame); i++ {
		send(frame[:i])
		send(frame[i:])
		s := w.scan(t)
		assert.Equal(t, "0012345678", s.Text, "split at %d", i)
		assert.Equal(t, KindCard, s.Kind)
		assert.Equal(t, "reader", s.Device)
	}
	// Byte by byte.
	for _, c := range frame {
		send([]byte{c})
	}
	assert.Equal(t, "0012345678", w.scan(t).Text)

	// Noise, an overlong frame, then a good frame: only the good one is a
	// scan, the others are drops with their reasons.
	send([]byte("\x00\xff\x13\r\n"))
	d := w.drop(t)
	assert.Equal(t, "binary noise: control byte 0x00 in frame", d.Reason)
	assert.Equal(t, 5, d.Bytes)
	send([]byte(strings.Repeat("7", 40) + "\r\n"))
	d = w.drop(t)
	assert.Equal(t, "overlong frame (more than 16 bytes)", d.Reason)
	assert.Equal(t, 42, d.Bytes)
	send([]byte("42\r\n"))
	assert.Equal(t, "42", w.scan(t).Text)

	st := w.m.Status()[0]
	assert.True(t, st.Connected)
	assert.Equal(t, path, st.Path)
	assert.Equal(t, len(frame)+1, st.Scans)
	assert.Equal(t, 2, st.Dropped)
}

func TestSerialPTYSTXAndDebounce(t *testing.T) {
	master, path := newPTY(t)
	w := watch(t, []Spec{mustSpec(t, "reader", "serial:"+path+"?frame=stx&check=xor&reverse_bytes=1&hex2dec=1&pad=10")}, Options{})
	w.event(t, EventConnected)
	frame := func(data string) []byte {
		x := byte(etx)
		for _, c := range []byte(data) {
			x ^= c
		}
		return append([]byte("\x02"+data+"\x03"), x)
	}
	// A reader repeating a card held on it: one scan.
	for range 3 {
		_, err := master.Write(frame("8A3B2C1D"))
		require.NoError(t, err)
	}
	_, err := master.Write(append([]byte("\x02BAD\x03\x00"), frame("01000000")...))
	require.NoError(t, err)
	assert.Equal(t, "0489438090", w.scan(t).Text)
	assert.Equal(t, "0000000001", w.scan(t).Text)
	st := w.m.Status()[0]
	assert.Equal(t, 2, st.Repeats)
	assert.Equal(t, 1, st.Dropped, "the bad check byte")
}

// TestSerialPTYReplugByPath unplugs the reader (closes the master) and
// plugs a new one in at another pts, which the udev-style symlink the spec
// names is re-pointed to.
func TestSerialPTYReplugByPath(t *testing.T) {
	link := filepath.Join(t.TempDir(), "card-reader")
	master1, path1 := newPTY(t)
	symlink(t, path1, link)
	w := watch(t, []Spec{mustSpec(t, "reader", "serial:"+link+"?frame=cr")}, Options{RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	e := w.event(t, EventConnected)
	assert.Equal(t, link+" -> "+path1, e.Path)
	wr := &writer{t: t, w: w, master: master1}
	wr.send([]byte("1111\r"))
	assert.Equal(t, "1111", w.scan(t).Text)

	// Unplug in the middle of a frame: the partial frame is dropped.
	wr.send([]byte("22"))
	require.NoError(t, master1.Close())
	e = w.event(t, EventDisconnected)
	require.Error(t, e.Err)
	d := w.drop(t)
	assert.Equal(t, "partial frame (2 bytes): device disconnected", d.Reason)
	st := w.m.Status()[0]
	assert.False(t, st.Connected)
	assert.NotEmpty(t, st.LastError)

	master2, path2 := newPTY(t)
	symlink(t, path2, link)
	e = w.event(t, EventConnected)
	assert.Equal(t, link+" -> "+path2, e.Path)
	_, err := master2.Write([]byte("3333\r"))
	require.NoError(t, err)
	assert.Equal(t, "3333", w.scan(t).Text)
	st = w.m.Status()[0]
	assert.True(t, st.Connected)
	assert.Equal(t, 2, st.Scans)
	assert.Equal(t, 2, st.Opens)
	assert.Equal(t, 1, st.Reconnects)
}

// fakePorts is an enumerator whose USB serial ports the test plugs and
// unplugs.
type fakePorts struct {
	mu    sync.Mutex
	ports []*enumerator.PortDetails
	err   error
}

func (f *fakePorts) set(err error, ports ...*enumerator.PortDetails) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ports, f.err = ports, err
}

func (f *fakePorts) list() ([]*enumerator.PortDetails, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*enumerator.PortDetails(nil), f.ports...), f.err
}

func ftdi(path, serialNo string) *enumerator.PortDetails {
	return &enumerator.PortDetails{Name: path, IsUSB: true, VID: "0403", PID: "6001", SerialNumber: serialNo}
}

// TestSerialPTYByUSBID finds the port by VID:PID and serial number: the
// reader is missing at start (a warning, not a failure), then appears,
// then is re-plugged and comes back at another path.
func TestSerialPTYByUSBID(t *testing.T) {
	ports := &fakePorts{}
	_, decoyPath := newPTY(t)
	ports.set(nil, ftdi(decoyPath, "OTHER"))
	w := watch(t, []Spec{mustSpec(t, "reader", "serial:usb=0403:6001&serial=A1B2?frame=lf")},
		Options{System: System{SerialPorts: ports.list}, RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	e := w.event(t, EventOpenFailed)
	assert.ErrorIs(t, e.Err, ErrNotFound)
	assert.Contains(t, e.Err.Error(), decoyPath, "what is there helps the technician")
	assert.False(t, w.m.Status()[0].Connected)

	master1, path1 := newPTY(t)
	ports.set(nil, ftdi(decoyPath, "OTHER"), ftdi(path1, "A1B2"))
	assert.Equal(t, path1, w.event(t, EventConnected).Path)
	_, err := master1.Write([]byte("1111\n"))
	require.NoError(t, err)
	assert.Equal(t, "1111", w.scan(t).Text)

	ports.set(nil)
	require.NoError(t, master1.Close())
	w.event(t, EventDisconnected)
	master2, path2 := newPTY(t)
	ports.set(nil, ftdi(path2, "A1B2"))
	assert.Equal(t, path2, w.event(t, EventConnected).Path)
	_, err = master2.Write([]byte("2222\n"))
	require.NoError(t, err)
	assert.Equal(t, "2222", w.scan(t).Text)
}

func TestFindSerialErrors(t *testing.T) {
	spec := serialSpec{USB: &usbID{VendorID: 0x0403, ProductID: 0x6001}}
	_, err := findSerial(System{SerialPorts: func() ([]*enumerator.PortDetails, error) {
		return []*enumerator.PortDetails{ftdi("/dev/ttyUSB0", "A"), ftdi("/dev/ttyUSB1", "B"), {Name: "/dev/ttyS0"}}, nil
	}}, spec)
	assert.ErrorContains(t, err, "matches 2 ports (/dev/ttyUSB0, /dev/ttyUSB1): add &serial=SN")
	boom := errors.New("no sysfs")
	_, err = findSerial(System{SerialPorts: func() ([]*enumerator.PortDetails, error) { return nil, boom }}, spec)
	assert.ErrorIs(t, err, boom)
	path, err := findSerial(System{}, serialSpec{Path: "/dev/ttyS3"})
	require.NoError(t, err)
	assert.Equal(t, "/dev/ttyS3", path)
}

// TestBackoff: a missing device is retried with doubling waits up to the
// maximum, through Options.Wait, never in a busy loop; the open failure
// is reported once, not at every attempt.
func TestBackoff(t *testing.T) {
	var (
		mu    sync.Mutex
		waits []time.Duration
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		if len(waits) == 8 {
			cancel()
		}
		return ctx.Err()
	}
	opened := 0
	open := func(string, *serial.Mode) (serial.Port, error) {
		opened++
		return nil, errors.New("no such device")
	}
	m, err := Open(ctx, []Spec{mustSpec(t, "reader", "serial:/dev/ttyUSB9")},
		Options{System: System{OpenSerial: open}, RetryMin: 100 * time.Millisecond, RetryMax: time.Second, Wait: wait})
	require.NoError(t, err)
	var events []Event
	for e := range m.Events() {
		events = append(events, e)
	}
	<-m.done
	assert.Equal(t, []time.Duration{100, 200, 400, 800, 1000, 1000, 1000, 1000}, func() []time.Duration {
		out := make([]time.Duration, len(waits))
		for i, d := range waits {
			out[i] = d / time.Millisecond
		}
		return out
	}())
	assert.Equal(t, 8, opened)
	require.Len(t, events, 1)
	assert.Equal(t, EventOpenFailed, events[0].Type)
	assert.Contains(t, m.Status()[0].LastError, "no such device")
}

// TestCapturePTYThenReplay records a reader through a pty and replays the
// capture through the same framer: the same scans and drops come out.
func TestCapturePTYThenReplay(t *testing.T) {
	master, path := newPTY(t)
	spec := mustSpec(t, "reader", "serial:"+path+"?frame=crlf&debounce=0s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newSyncBuffer()
	type res struct {
		n   int
		err error
	}
	done := make(chan res, 1)
	go func() {
		n, err := Capture(ctx, spec, out, Options{})
		done <- res{n, err}
	}()
	// The header is written once the port is open (and in raw mode).
	out.waitFor(t, func(s string) bool { return strings.Contains(s, "# started ") })
	stream := []string{"1234\r\n", "56", "78\r", "\n\x00\r\n", "9999\r\n"}
	total := 0
	for _, s := range stream {
		_, err := master.Write([]byte(s))
		require.NoError(t, err)
		total += len(s)
	}
	out.waitFor(t, func(s string) bool {
		recs, err := parseCapture(strings.NewReader(s))
		require.NoError(t, err)
		n := 0
		for _, r := range recs {
			n += len(r.Data)
		}
		return n == total
	})
	cancel()
	r := <-done
	require.NoError(t, r.err)
	require.GreaterOrEqual(t, r.n, 1)
	text := out.String()
	assert.True(t, strings.HasPrefix(text, "# campus-kiosk capture"), text)
	assert.Contains(t, text, "# device reader: serial:"+path)

	file := filepath.Join(t.TempDir(), "capture.txt")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
	w := watch(t, []Spec{mustSpec(t, "replay", "replay:"+file+"?as=serial&frame=crlf&speed=fast&debounce=0s")}, Options{})
	assert.Equal(t, "1234", w.scan(t).Text)
	assert.Equal(t, "5678", w.scan(t).Text)
	assert.Equal(t, "binary noise: control byte 0x00 in frame", w.drop(t).Reason)
	assert.Equal(t, "9999", w.scan(t).Text)
	e := w.event(t, EventEnded)
	assert.ErrorIs(t, e.Err, ErrReplayEnded)
	assert.True(t, w.m.Status()[0].Ended)
}
