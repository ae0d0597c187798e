package agent

import (
	"slices"
	"strings"
)

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
