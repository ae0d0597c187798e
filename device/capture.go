package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Capture records what the device of spec s delivers, one read per line
// in the format that a replay input reads (serial: the bytes of each read; HID:
// each whole input report, report ID first when the device numbers its
// reports), after a `#` header saying what was captured. It opens the
// device once (no retry: a technician is watching) and runs until ctx is
// done (then it returns nil), the device fails, or a replay ends. It
// returns how many reads it wrote.
func Capture(ctx context.Context, s Spec, w io.Writer, o Options) (int, error) {
	o = o.withDefaults()
	if s.Type == TypeKeyboard {
		return 0, fmt.Errorf("device %q: capture: a keyboard input has no device to capture", s.Name)
	}
	start := o.Now()
	c, err := openConn(o, s, nil)
	if err != nil {
		return 0, fmt.Errorf("device %q: capture: %w", s.Name, err)
	}
	defer c.close()
	if r, ok := c.(*replayConn); ok {
		// A replay's records are timed from its own open: captured from
		// the same start they keep their times exactly, however long the
		// open took (a busy machine once made 2003 ms 2010).
		start = r.start
	}
	if _, err := fmt.Fprintf(w, "# campus-kiosk capture: <milliseconds since start> <hex bytes of one read>\n# device %s: %s\n# opened %s\n# started %s\n",
		s.Name, s.Raw, c.path(), start.Format(time.RFC3339Nano)); err != nil {
		return 0, fmt.Errorf("capture: write: %w", err)
	}
	n := 0
	for {
		ch, err := c.next(ctx, time.Time{})
		switch {
		case errors.Is(err, io.EOF), ctx.Err() != nil:
			return n, nil
		case err != nil:
			return n, fmt.Errorf("device %q: capture: %w", s.Name, err)
		case ch.idle:
			continue
		}
		at := ch.t.Sub(start)
		if at < 0 {
			at = 0
		}
		if err := WriteRecord(w, Record{At: at, Data: ch.data}); err != nil {
			return n, fmt.Errorf("capture: write: %w", err)
		}
		n++
	}
}
