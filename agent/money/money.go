// Package money holds the one representation of an amount of money inside
// the terminal: integer fen. Yuan strings exist only at the edges (the wire,
// the screen, the command line) and are converted here, never through float.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Fen is an amount in fen (1/100 yuan). It is signed so that differences can
// be expressed; amounts that leave the terminal are checked to be positive.
type Fen int64

// MaxFen bounds any single amount the terminal will parse: 100 million yuan is
// far beyond a campus payment and keeps every sum of a day's bill far away
// from overflow.
const MaxFen Fen = 100_000_000_00

// ErrSyntax is wrapped by every parse failure of ParseYuan.
var ErrSyntax = errors.New("not an amount in yuan")

// ParseYuan reads a non-negative decimal yuan amount with at most two decimal
// places ("12", "12.3", "12.34", "100.0") and returns it in fen. Signs,
// exponents, spaces, thousands separators and a third decimal ("0.001") are
// refused: silently rounding money is never right.
func ParseYuan(s string) (Fen, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrSyntax)
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("%w: %q has more than two decimal places", ErrSyntax, s)
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if len(intPart) > 12 {
		return 0, fmt.Errorf("%w: %q is too large", ErrSyntax, s)
	}
	yuan, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	cents, _ := strconv.ParseInt(frac, 10, 64)
	f := Fen(yuan*100 + cents)
	if f > MaxFen {
		return 0, fmt.Errorf("%w: %q is too large", ErrSyntax, s)
	}
	return f, nil
}

// ParseFen reads a whole number of fen, as card balances come on the wire.
func ParseFen(s string) (Fen, error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || !allDigits(digits) || len(digits) > 15 {
		return 0, fmt.Errorf("%w: %q is not a whole number of fen", ErrSyntax, s)
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v > math.MaxInt64/2 {
		return 0, fmt.Errorf("%w: %q is not a whole number of fen", ErrSyntax, s)
	}
	if neg {
		v = -v
	}
	return Fen(v), nil
}

// Yuan formats f as yuan with exactly two decimals ("0.05", "-1.20").
func (f Fen) Yuan() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign = "-"
		v = -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// String formats f for people: "¥12.34".
func (f Fen) String() string { return "¥" + f.Yuan() }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
