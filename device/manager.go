package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Options configures a Manager. The zero value is the real machine with
// the default back-off.
type Options struct {
	// System is how devices are found and opened.
	System System
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RetryMin and RetryMax bound the back-off between attempts to open a
	// device that is missing or went away: RetryMin, doubling up to
	// RetryMax (defaults 250ms and 5s: a re-plugged reader is back within
	// a blink, a missing one costs one attempt every few seconds).
	RetryMin, RetryMax time.Duration
	// Wait waits between attempts (default: a timer, or until ctx is
	// done); tests replace it to see the back-off without sleeping.
	Wait func(ctx context.Context, d time.Duration) error
	// RawEvents adds an EventRead for every read (diagnostics).
	RawEvents bool
	// EventBuffer is the capacity of the events channel (default 64):
	// room for a burst while the reader is busy.
	EventBuffer int
}

// Back-off defaults.
const (
	defaultRetryMin = 250 * time.Millisecond
	defaultRetryMax = 5 * time.Second
)

func (o Options) withDefaults() Options {
	o.System = o.System.withDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryMin <= 0 {
		o.RetryMin = defaultRetryMin
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(defaultRetryMax, o.RetryMin)
	}
	if o.Wait == nil {
		o.Wait = waitCtx
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 64
	}
	return o
}

// backoff is the wait before attempt n (0 first).
func (o Options) backoff(n int) time.Duration {
	d := o.RetryMin
	for i := 0; i < n && d < o.RetryMax; i++ {
		d *= 2
	}
	return min(d, o.RetryMax)
}

// ErrReplayEnded ends a replay input at the end of its file.
var ErrReplayEnded = errors.New("end of replay")

// permanentError is an input problem that retrying cannot fix (a missing
// layout table, an unreadable capture): the input ends.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Manager runs a set of inputs, one goroutine each, and merges their
// scans, drops and connection events into one channel, in the order they
// happened.
type Manager struct {
	o      Options
	cancel context.CancelFunc
	events chan Event
	inputs []*input
	wg     sync.WaitGroup
	// done is closed after events, once every input has stopped; callers
	// see the same in events closing, so only Close waits on it.
	done chan struct{}
}

// Open starts an input for each spec and returns at once: a device that
// is missing is retried in the background (its status and an
// EventOpenFailed say so), never an error here. The error is for specs
// that cannot work together: an empty or repeated name.
//
// The inputs stop when ctx is done or Close is called; then the Events
// channel is closed. It is also closed when every input has ended by
// itself (replays at the end of their file).
func Open(ctx context.Context, specs []Spec, o Options) (*Manager, error) {
	o = o.withDefaults()
	names := map[string]bool{}
	for _, s := range specs {
		if s.Name == "" {
			return nil, fmt.Errorf("device spec %q: no name", s.Raw)
		}
		if names[s.Name] {
			return nil, fmt.Errorf("device %q: name given twice", s.Name)
		}
		names[s.Name] = true
	}
	ctx, cancel := context.WithCancel(ctx)
	m := &Manager{
		o: o, cancel: cancel,
		events: make(chan Event, o.EventBuffer),
		done:   make(chan struct{}),
	}
	for _, s := range specs {
		m.inputs = append(m.inputs, newInput(m, s))
	}
	for _, in := range m.inputs {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			in.run(ctx)
		}()
	}
	go func() {
		m.wg.Wait()
		close(m.events)
		close(m.done)
	}()
	return m, nil
}

// Events is every input's scans (EventScan), drops, connections,
// disconnections and failed opens (and raw reads with
// Options.RawEvents), in the order each input saw them. One channel keeps
// a drop next to the scans around it, which is what a technician needs
// to read. Reading it is what keeps the inputs going: an input waits for
// its event to be taken, so no scan is ever lost; a consumer that only
// wants scans skips the rest.
func (m *Manager) Events() <-chan Event { return m.events }

// Status is the status of every input, in spec order.
func (m *Manager) Status() []Status {
	out := make([]Status, len(m.inputs))
	for i, in := range m.inputs {
		in.mu.Lock()
		out[i] = in.st
		in.mu.Unlock()
	}
	return out
}

// Keyboard is the KeyboardInput of the keyboard input name, for the UI
// to type into; nil when there is no such keyboard input.
func (m *Manager) Keyboard(name string) *KeyboardInput {
	for _, in := range m.inputs {
		if in.spec.Name == name {
			return in.kbd
		}
	}
	return nil
}

// Close stops every input, closes their devices and waits for their
// goroutines.
func (m *Manager) Close() error {
	m.cancel()
	<-m.done
	return nil
}

// send hands an event over, unless ctx is done first.
func (m *Manager) send(ctx context.Context, e Event) error {
	select {
	case m.events <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// input is one running input.
type input struct {
	m    *Manager
	spec Spec
	dec  decoder
	deb  *debouncer
	kbd  *KeyboardInput
	// broken is a configuration problem found at start (a layout table
	// that does not load): the input ends at once.
	broken error

	mu      sync.Mutex
	st      Status
	openErr string // last open error reported as an event
	lastT   time.Time
}

func newInput(m *Manager, s Spec) *input {
	in := &input{m: m, spec: s, deb: newDebouncer(s.debounce)}
	in.st = Status{Name: s.Name, Spec: s.Raw, Since: m.o.Now()}
	as := s.Type
	if s.Type == TypeReplay {
		as = s.replay.As
	}
	switch as {
	case TypeSerial, TypeKeyboard:
		f, err := newFramer(s.frame)
		in.dec, in.broken = frameDecoder{f}, err
	case TypeHIDKeyboard:
		in.dec, in.broken = newKeyboardDecoder(s)
	case TypeHIDPOS:
		in.dec = newPOSDecoder(s)
	default:
		in.broken = fmt.Errorf("device %q: unknown type %q", s.Name, as)
	}
	if s.Type == TypeKeyboard {
		in.kbd = newKeyboardInput(s.hid.Tab, m.o.Now, keyboardBuffer)
	}
	return in
}

func (in *input) open() (conn, error) { return openConn(in.m.o, in.spec, in.kbd) }

// openConn opens the device of s; kbd is the input of a keyboard spec.
func openConn(o Options, s Spec, kbd *KeyboardInput) (conn, error) {
	switch s.Type {
	case TypeSerial:
		return openSerial(o.System, s.serial, o.Now)
	case TypeHIDKeyboard, TypeHIDPOS:
		return openHID(o.System, s, o.Now)
	case TypeReplay:
		c, err := openReplay(s.replay, o.Now)
		if err != nil {
			return nil, &permanentError{err}
		}
		return c, nil
	case TypeKeyboard:
		if kbd != nil {
			return keyboardConn{kbd}, nil
		}
	}
	return nil, &permanentError{fmt.Errorf("device %q: cannot open type %q", s.Name, s.Type)}
}

// run opens the device, pumps it until it fails, and reopens it with
// back-off, until ctx is done or the input ends.
func (in *input) run(ctx context.Context) {
	if in.broken != nil {
		in.end(ctx, in.broken)
		return
	}
	attempt := 0
	for {
		c, err := in.open()
		if err != nil {
			var pe *permanentError
			if errors.As(err, &pe) {
				in.end(ctx, err)
				return
			}
			in.openFailed(ctx, err)
		} else {
			in.connected(ctx, c.path())
			got, err := in.pump(ctx, c)
			c.close()
			if got {
				attempt = 0
			}
			if ctx.Err() != nil {
				in.disconnected(ctx, ctx.Err())
				return
			}
			if errors.Is(err, io.EOF) {
				in.end(ctx, ErrReplayEnded)
				return
			}
			in.disconnected(ctx, err)
		}
		// Wait even after a connection that failed at once, so that a
		// device that opens and then errors is not hammered.
		if in.m.o.Wait(ctx, in.m.o.backoff(attempt)) != nil {
			return
		}
		attempt++
	}
}

// pump reads the connection until it fails; got says whether anything
// was read (a connection that worked resets the back-off).
func (in *input) pump(ctx context.Context, c conn) (got bool, err error) {
	for {
		ch, err := c.next(ctx, in.dec.deadline())
		if err != nil {
			if errors.Is(err, io.EOF) {
				// The end of a replay: the line goes quiet for good, which
				// ends a gap frame and leaves any other frame partial.
				far := in.lastT.Add(24 * time.Hour)
				ds, drops := in.dec.idle(far)
				drops = append(drops, in.dec.reset(far, "end of replay")...)
				if perr := in.deliver(ctx, ds, drops); perr != nil {
					return got, perr
				}
				return got, err
			}
			in.deliver(ctx, nil, in.dec.reset(in.m.o.Now(), "device disconnected"))
			return got, err
		}
		in.lastT = ch.t
		var ds []decoded
		var drops []Drop
		switch {
		case ch.reset != "":
			drops = in.dec.reset(ch.t, ch.reset)
			drops = append(drops, Drop{Reason: ch.reset + ": frame dropped", Bytes: ch.lost, Time: ch.t})
		case ch.idle:
			ds, drops = in.dec.idle(ch.t)
		default:
			got = true
			if in.m.o.RawEvents {
				if err := in.m.send(ctx, Event{Type: EventRead, Device: in.spec.Name, Time: ch.t, Data: ch.data}); err != nil {
					return got, err
				}
			}
			ds, drops = in.dec.feed(ch.t, ch.data)
		}
		if err := in.deliver(ctx, ds, drops); err != nil {
			return got, err
		}
	}
}

// deliver sends the drops, then turns decoded texts into scans (or
// drops) and sends them. Across reads the order is kept; within one read
// (a frame and some noise in the same chunk) drops come first.
func (in *input) deliver(ctx context.Context, ds []decoded, drops []Drop) error {
	for _, d := range drops {
		if err := in.drop(ctx, d); err != nil {
			return err
		}
	}
	for _, d := range ds {
		// Framers already refuse noise; the HID decoders' text is checked
		// here so that no input passes control bytes on.
		if reason := textReason([]byte(d.text)); reason != "" {
			if err := in.drop(ctx, Drop{Reason: reason, Bytes: len(d.text), Time: d.t}); err != nil {
				return err
			}
			continue
		}
		text, err := in.spec.id.apply(d.text)
		if err != nil {
			if err := in.drop(ctx, Drop{Reason: err.Error(), Bytes: len(d.text), Time: d.t}); err != nil {
				return err
			}
			continue
		}
		if !in.deb.allow(text, d.t) {
			in.mu.Lock()
			in.st.Repeats++
			in.mu.Unlock()
			continue
		}
		s := Scan{Device: in.spec.Name, Kind: in.spec.Kind, Text: text, Time: d.t, Symbology: d.symbology}
		in.mu.Lock()
		in.st.Scans++
		in.mu.Unlock()
		if err := in.m.send(ctx, Event{Type: EventScan, Device: in.spec.Name, Time: d.t, Scan: &s}); err != nil {
			return err
		}
	}
	return nil
}

func (in *input) drop(ctx context.Context, d Drop) error {
	d.Device = in.spec.Name
	in.mu.Lock()
	in.st.Dropped++
	in.mu.Unlock()
	return in.m.send(ctx, Event{Type: EventDrop, Device: in.spec.Name, Time: d.Time, Drop: &d})
}

func (in *input) connected(ctx context.Context, path string) {
	now := in.m.o.Now()
	in.mu.Lock()
	if in.st.Opens > 0 {
		in.st.Reconnects++
	}
	in.st.Opens++
	in.st.Connected, in.st.Path, in.st.Since = true, path, now
	in.openErr = ""
	in.mu.Unlock()
	in.m.send(ctx, Event{Type: EventConnected, Device: in.spec.Name, Time: now, Path: path})
}

func (in *input) disconnected(ctx context.Context, err error) {
	now := in.m.o.Now()
	in.mu.Lock()
	in.st.Connected, in.st.Since = false, now
	if err != nil && !errors.Is(err, context.Canceled) {
		in.st.LastError = err.Error()
	}
	in.mu.Unlock()
	in.m.send(ctx, Event{Type: EventDisconnected, Device: in.spec.Name, Time: now, Err: err})
}

// openFailed records a failed open; the event only when the reason
// changes, so that a device missing for hours is one line in the log.
func (in *input) openFailed(ctx context.Context, err error) {
	now := in.m.o.Now()
	in.mu.Lock()
	in.st.LastError = err.Error()
	report := in.openErr != err.Error()
	in.openErr = err.Error()
	in.mu.Unlock()
	if report {
		in.m.send(ctx, Event{Type: EventOpenFailed, Device: in.spec.Name, Time: now, Err: err})
	}
}

func (in *input) end(ctx context.Context, err error) {
	now := in.m.o.Now()
	in.mu.Lock()
	in.st.Connected, in.st.Ended, in.st.Since = false, true, now
	in.st.LastError = err.Error()
	in.mu.Unlock()
	in.m.send(ctx, Event{Type: EventEnded, Device: in.spec.Name, Time: now, Err: err})
}
