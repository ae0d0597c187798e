package agent

import (
	"strings"
	"unicode/utf8"
)

// MaskAccount hides all but the last four characters of a card number or
// account, one '*' for each hidden character: the last four let a student
// or a technician tell two cards apart, and the length tells an account
// from a card id. Masking a masked value returns it unchanged (and without
// allocating), so that a log handler may mask what a caller masked
// already. A value of four characters or fewer is returned as it is: it
// shows no more than the masked form of a longer one.
func MaskAccount(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 4 {
		return s
	}
	hide := n - 4
	if strings.Count(s[:hide], "*") == hide {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := range s {
		if hide == 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteByte('*')
		hide--
	}
	return b.String()
}
