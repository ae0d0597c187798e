package device

import (
	"context"
	"sync"
	"time"
	"unicode/utf8"
)

// Key is a non-character key the kiosk window passes on.
type Key int

// The keys that matter to a wedge scanner.
const (
	// KeyEnter ends a scan.
	KeyEnter Key = iota + 1
	// KeyTab ends a scan when the input has tab=1; otherwise it is a tab
	// character (and makes the frame noise).
	KeyTab
)

// keyboardBuffer is how many key events wait for the input's goroutine;
// a wedge scanner types a whole QR code in a burst, and the UI thread
// must never block on us.
const keyboardBuffer = 4096

// KeyboardInput is the kiosk window's keyboard as an input: the UI calls
// Type for each character and Key for Enter and Tab, from any goroutine;
// the characters go through the input's framing, transforms and debounce
// like a serial reader's bytes. It never blocks the caller.
type KeyboardInput struct {
	now    func() time.Time
	tab    bool
	events chan chunk

	mu sync.Mutex
	// lost counts characters dropped because the buffer was full; while
	// more than 0 the rest of the frame is dropped too (a scan with a
	// hole is not a scan), up to its terminator.
	lost int
}

func newKeyboardInput(tab bool, now func() time.Time, size int) *KeyboardInput {
	return &KeyboardInput{now: now, tab: tab, events: make(chan chunk, size)}
}

// Type passes on one typed character.
func (k *KeyboardInput) Type(r rune) {
	if !utf8.ValidRune(r) {
		r = utf8.RuneError
	}
	k.send(utf8.AppendRune(nil, r), false)
}

// Key passes on Enter or Tab.
func (k *KeyboardInput) Key(key Key) {
	switch {
	case key == KeyEnter, key == KeyTab && k.tab:
		k.send([]byte{'\r'}, true)
	case key == KeyTab:
		k.send([]byte{'\t'}, false)
	}
}

func (k *KeyboardInput) send(p []byte, end bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.now()
	if k.lost > 0 {
		k.lost += len(p)
		if !end {
			return
		}
		// The terminator of the damaged frame: drop the frame, whole.
		select {
		case k.events <- chunk{t: t, reset: "keyboard buffer full", lost: k.lost}:
			k.lost = 0
		default:
		}
		return
	}
	select {
	case k.events <- chunk{t: t, data: p}:
	default:
		k.lost = len(p)
	}
}

// keyboardConn reads a KeyboardInput; it stays open for the manager's
// lifetime, as the window does.
type keyboardConn struct{ k *KeyboardInput }

func (c keyboardConn) next(ctx context.Context, deadline time.Time) (chunk, error) {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(deadline.Sub(c.k.now()))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case ch := <-c.k.events:
		return ch, nil
	case <-timeout:
		return chunk{t: c.k.now(), idle: true}, nil
	case <-ctx.Done():
		return chunk{}, ctx.Err()
	}
}

func (c keyboardConn) path() string { return "kiosk window" }
func (c keyboardConn) close() error { return nil }
