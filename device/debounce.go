package device

import "time"

// defaultDebounce is the debounce window when the spec says nothing:
// readers repeat a card held against them, and people tap twice.
const defaultDebounce = 800 * time.Millisecond

// debouncer makes the same text seen again within a window one scan. The
// window slides: each repeat extends it, so a card left on a reader that
// repeats its ID every few hundred milliseconds is one scan until it is
// taken away.
//
// It takes the time of each text from its caller, which keeps it free of
// clocks (replays feed recorded times, tests feed whatever they like).
type debouncer struct {
	window time.Duration
	seen   map[string]time.Time
}

// newDebouncer returns a debouncer; a window of 0 or less lets everything
// through.
func newDebouncer(window time.Duration) *debouncer {
	return &debouncer{window: window, seen: map[string]time.Time{}}
}

// pruneAt is the number of remembered texts past which expired ones are
// forgotten; small, since only texts of the last window matter.
const pruneAt = 64

// allow reports whether text at t is a new scan (true) or a repeat.
func (d *debouncer) allow(text string, t time.Time) bool {
	if d.window <= 0 {
		return true
	}
	last, ok := d.seen[text]
	d.seen[text] = t
	if len(d.seen) > pruneAt {
		for k, v := range d.seen {
			if t.Sub(v) >= d.window {
				delete(d.seen, k)
			}
		}
	}
	if !ok {
		return true
	}
	// A time before the last one (a clock step) counts as new rather than
	// swallowing a real scan.
	since := t.Sub(last)
	return since < 0 || since >= d.window
}
