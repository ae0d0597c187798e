package agent

import (
	"slices"
	"strings"
	"time"
)

// ClockOffsetLimit is the clock offset to the platform past which a
// terminal is in trouble: half the 6 minutes past which the platform
// refuses a request's timestamp. Diagnostics show it in red and the status
// endpoint reports the terminal degraded.
const ClockOffsetLimit = 3 * time.Minute

// OffsetTooLarge reports whether a clock offset is past ClockOffsetLimit,
// either way.
func OffsetTooLarge(off time.Duration) bool { return off > ClockOffsetLimit || off < -ClockOffsetLimit }

// Known reports whether s is one of States(): a state read from outside (a
// command line, a file) is checked with it before it is trusted.
func (s OrderState) Known() bool { return slices.Contains(States(), s) }

// Shorten keeps s to one line of at most n characters (runes), ending in
// "…" when it cut: an error or a note shown in a table cell or on a screen.
func Shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
