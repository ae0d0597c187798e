package device

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"
)

// testTimeout bounds every wait for something that should happen at once;
// it only matters when a test fails.
const testTimeout = 10 * time.Second

// watcher gathers a manager's scans and events in the order they come.
type watcher struct {
	m     *Manager
	items chan any // Scan or Event
	// held is what next passed over.
	held []any
	// readBytes counts the bytes of the read events received.
	readBytes int
}

func watch(t *testing.T, specs []Spec, o Options) *watcher {
	t.Helper()
	o.RawEvents = true
	o.EventBuffer = 4096
	m, err := Open(context.Background(), specs, o)
	require.NoError(t, err)
	w := &watcher{m: m, items: make(chan any, 1<<16)}
	go func() {
		defer close(w.items)
		for e := range m.Events() {
			if e.Type == EventScan {
				w.items <- *e.Scan
			} else {
				w.items <- e
			}
		}
	}()
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return w
}

// next returns the first item that keep accepts, failing after
// testTimeout; the others are held for later calls.
func (w *watcher) next(t *testing.T, keep func(any) bool) any {
	t.Helper()
	for i, it := range w.held {
		if keep(it) {
			w.held = append(w.held[:i], w.held[i+1:]...)
			return it
		}
	}
	timeout := time.NewTimer(testTimeout)
	defer timeout.Stop()
	for {
		select {
		case it, ok := <-w.items:
			if !ok {
				t.Fatalf("manager stopped; held %+v", w.held)
			}
			if e, ok := it.(Event); ok && e.Type == EventRead {
				w.readBytes += len(e.Data)
			}
			if keep(it) {
				return it
			}
			w.held = append(w.held, it)
		case <-timeout.C:
			t.Fatalf("nothing after %s; status %+v; held %+v", testTimeout, w.m.Status(), w.held)
		}
	}
}

func (w *watcher) scan(t *testing.T) Scan {
	t.Helper()
	return w.next(t, func(it any) bool { _, ok := it.(Scan); return ok }).(Scan)
}

func (w *watcher) event(t *testing.T, typ EventType) Event {
	t.Helper()
	return w.next(t, func(it any) bool { e, ok := it.(Event); return ok && e.Type == typ }).(Event)
}

// readTo waits until the reads seen add up to total bytes since the
// start (a pty may join or split writes, so reads are counted, not
// matched to writes).
func (w *watcher) readTo(t *testing.T, total int) {
	t.Helper()
	for w.readBytes < total {
		w.next(t, func(it any) bool { e, ok := it.(Event); return ok && e.Type == EventRead })
	}
	kept := w.held[:0]
	for _, it := range w.held {
		if e, ok := it.(Event); !ok || e.Type != EventRead {
			kept = append(kept, it)
		}
	}
	w.held = kept
}

// writer writes to a pty master and waits until the input has read it.
type writer struct {
	t       *testing.T
	w       *watcher
	master  *os.File
	written int
}

func (wr *writer) send(p []byte) {
	wr.t.Helper()
	_, err := wr.master.Write(p)
	require.NoError(wr.t, err)
	wr.written += len(p)
	wr.w.readTo(wr.t, wr.written)
}

// drop returns the next drop.
func (w *watcher) drop(t *testing.T) Drop {
	t.Helper()
	return *w.event(t, EventDrop).Drop
}

// newPTY opens a pseudo-terminal and returns its master (the "device"
// side the test writes to) and the path of its slave, which the input
// opens with go.bug.st/serial like a real port.
func newPTY(t testing.TB) (*os.File, string) {
	t.Helper()
	master, slave, err := pty.Open()
	require.NoError(t, err)
	name := slave.Name()
	// The input opens the slave itself; nothing else may hold it.
	require.NoError(t, slave.Close())
	t.Cleanup(func() { master.Close() })
	return master, name
}

// symlink points link at target, replacing what was there atomically, as
// udev does for /dev/serial/by-id names.
func symlink(t testing.TB, target, link string) {
	t.Helper()
	tmp := link + ".new"
	require.NoError(t, os.Symlink(target, tmp))
	require.NoError(t, os.Rename(tmp, link))
}

func mustSpec(t testing.TB, name, raw string) Spec {
	t.Helper()
	s, err := ParseSpec(name, raw)
	require.NoError(t, err)
	return s
}

// writeCapture writes a capture file of records for replay tests.
func writeCapture(t testing.TB, recs ...Record) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# test capture\n")
	for _, r := range recs {
		require.NoError(t, WriteRecord(&b, r))
	}
	p := filepath.Join(t.TempDir(), "capture.txt")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// syncBuffer is a writer that a test can wait on.
type syncBuffer struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until ok accepts what has been written.
func (s *syncBuffer) waitFor(t *testing.T, ok func(string) bool) {
	t.Helper()
	timeout := time.NewTimer(testTimeout)
	defer timeout.Stop()
	for !ok(s.String()) {
		select {
		case <-s.changed:
		case <-timeout.C:
			t.Fatalf("not written after %s: %q", testTimeout, s.String())
		}
	}
}
