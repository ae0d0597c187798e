package device

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// transformOp is one card-ID transform.
type transformOp string

// The transforms. They apply in the order the spec lists them, so that a
// reader's output can be walked step by step to the number printed on the
// card (say reverse_bytes=1&hex2dec=1&pad=10).
const (
	// opStripPrefix removes Arg from the start of the text when it is
	// there (use match to insist that it was).
	opStripPrefix transformOp = "strip_prefix"
	// opStripSuffix removes Arg from the end of the text when it is there.
	opStripSuffix transformOp = "strip_suffix"
	// opHexToDec reads the text as a hexadecimal number (any length) and
	// writes it in decimal.
	opHexToDec transformOp = "hex2dec"
	// opDecToHex reads the text as a decimal number and writes it in
	// upper-case hexadecimal with an even number of digits (whole bytes).
	opDecToHex transformOp = "dec2hex"
	// opReverseBytes reads the text as hexadecimal bytes and reverses
	// their order: the usual mismatch between a reader's UID (least
	// significant byte first) and the number printed on the card.
	opReverseBytes transformOp = "reverse_bytes"
	// opPad left-pads the text with zeros to Width characters; longer
	// text is left as it is.
	opPad transformOp = "pad"
)

// transform is one step of an input's card-ID transforms.
type transform struct {
	Op transformOp
	// Arg is the prefix or suffix for opStripPrefix and opStripSuffix.
	Arg string
	// Width is the width for opPad.
	Width int
}

// maxPad bounds pad= so that a typo cannot make every scan a megabyte.
const maxPad = 256

// newTransform makes the transform op from its spec value: the prefix or
// suffix, the width for pad, and 1 (on) for the others.
func newTransform(op transformOp, value string) (transform, error) {
	switch op {
	case opStripPrefix, opStripSuffix:
		if value == "" {
			return transform{}, errors.New("is empty")
		}
		return transform{Op: op, Arg: value}, nil
	case opHexToDec, opDecToHex, opReverseBytes:
		on, err := parseBool(value)
		if err != nil {
			return transform{}, err
		}
		if !on {
			// Written out only to say "off"; nothing to do.
			return transform{}, nil
		}
		return transform{Op: op}, nil
	case opPad:
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > maxPad {
			return transform{}, fmt.Errorf("want a width from 1 to %d", maxPad)
		}
		return transform{Op: op, Width: n}, nil
	}
	return transform{}, fmt.Errorf("unknown transform %q", op)
}

// apply transforms s, or says why s cannot be transformed (then the scan
// is dropped: a card ID that cannot be converted is not a card ID).
func (t transform) apply(s string) (string, error) {
	switch t.Op {
	case opStripPrefix:
		return strings.TrimPrefix(s, t.Arg), nil
	case opStripSuffix:
		return strings.TrimSuffix(s, t.Arg), nil
	case opHexToDec:
		n, ok := new(big.Int).SetString(s, 16)
		if !ok || !isDigits(s, true) {
			return "", fmt.Errorf("hex2dec: %q is not hexadecimal", s)
		}
		return n.String(), nil
	case opDecToHex:
		n, ok := new(big.Int).SetString(s, 10)
		if !ok || !isDigits(s, false) {
			return "", fmt.Errorf("dec2hex: %q is not decimal", s)
		}
		h := strings.ToUpper(n.Text(16))
		if len(h)%2 == 1 {
			h = "0" + h
		}
		return h, nil
	case opReverseBytes:
		if !isDigits(s, true) || len(s)%2 == 1 {
			return "", fmt.Errorf("reverse_bytes: %q is not whole hexadecimal bytes", s)
		}
		b := make([]byte, 0, len(s))
		for i := len(s); i > 0; i -= 2 {
			b = append(b, s[i-2:i]...)
		}
		return string(b), nil
	case opPad:
		if len(s) >= t.Width {
			return s, nil
		}
		return strings.Repeat("0", t.Width-len(s)) + s, nil
	case "":
		return s, nil
	}
	return "", fmt.Errorf("unknown transform %q", t.Op)
}

// isDigits reports whether s is a non-empty run of decimal (or hex)
// digits; big.Int alone would also take signs and underscores.
func isDigits(s string, hex bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

// idRules is what an input does to a text before it becomes a scan.
type idRules struct {
	// Transforms apply in order.
	Transforms []transform
	// Match, when set, must match the whole transformed text.
	Match *regexp.Regexp
}

// apply runs the transforms and the match; the error is the drop reason.
func (r idRules) apply(s string) (string, error) {
	for _, t := range r.Transforms {
		var err error
		if s, err = t.apply(s); err != nil {
			return "", err
		}
	}
	if s == "" {
		return "", errors.New("empty after transforms")
	}
	if r.Match != nil && !r.Match.MatchString(s) {
		return "", fmt.Errorf("%q does not match %s", s, r.Match)
	}
	return s, nil
}

// compileMatch compiles a match= pattern anchored at both ends: a valid ID
// is the whole text, not a text that contains one.
func compileMatch(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, errors.New("is empty")
	}
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + pattern + ")$")
}
