package device

import (
	"context"
	"sync"
	"time"
)

// chunk is one read from a device, or a note that nothing came.
type chunk struct {
	// t is when the read completed (for a replay: the recorded time).
	t time.Time
	// data is the bytes of the read: serial bytes, one HID report, or the
	// UTF-8 of typed characters.
	data []byte
	// idle: nothing came up to t (the deadline passed).
	idle bool
	// reset, when set, says that the input lost data (the keyboard buffer
	// overflowed) and the frame in progress must go; lost is how much.
	reset string
	lost  int
}

// conn is an open device.
type conn interface {
	// next blocks for the next read; when deadline is not zero and nothing
	// comes before it, it returns an idle chunk instead.
	next(ctx context.Context, deadline time.Time) (chunk, error)
	// path names what was opened, for the status.
	path() string
	// close releases the device and whatever goroutine reads it.
	close() error
}

// blockingReader is a device whose Read blocks until data or error and
// whose Close makes a blocked Read return: a serial port, a HID device.
type blockingReader interface {
	Read(p []byte) (int, error)
	Close() error
}

// streamConn turns a blockingReader into a conn: one goroutine reads and
// hands each read over, so that next can wait for a deadline or the
// context as well, which a blocking Read cannot.
type streamConn struct {
	r     blockingReader
	name  string
	now   func() time.Time
	reads chan chunk
	errc  chan error
	done  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	err   error
}

func newStreamConn(r blockingReader, name string, bufSize int, now func() time.Time) *streamConn {
	c := &streamConn{
		r: r, name: name, now: now,
		// Unbuffered: the read is handed over before the error that may
		// follow it, so no data is lost behind a disconnection.
		reads: make(chan chunk),
		errc:  make(chan error, 1),
		done:  make(chan struct{}),
	}
	c.wg.Add(1)
	go c.loop(bufSize)
	return c
}

func (c *streamConn) loop(bufSize int) {
	defer c.wg.Done()
	buf := make([]byte, bufSize)
	for {
		n, err := c.r.Read(buf)
		if n > 0 {
			ch := chunk{t: c.now(), data: append([]byte(nil), buf[:n]...)}
			select {
			case c.reads <- ch:
			case <-c.done:
				return
			}
		}
		if err != nil {
			c.errc <- err
			return
		}
	}
}

func (c *streamConn) next(ctx context.Context, deadline time.Time) (chunk, error) {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := deadline.Sub(c.now())
		if d <= 0 {
			return chunk{t: c.now(), idle: true}, nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case ch := <-c.reads:
		return ch, nil
	case err := <-c.errc:
		return chunk{}, err
	case <-timeout:
		return chunk{t: c.now(), idle: true}, nil
	case <-ctx.Done():
		return chunk{}, ctx.Err()
	}
}

func (c *streamConn) path() string { return c.name }

func (c *streamConn) close() error {
	c.once.Do(func() {
		close(c.done)
		c.err = c.r.Close()
		c.wg.Wait()
	})
	return c.err
}
