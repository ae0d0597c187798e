package ui

import (
	"strings"

	"github.com/campuspos/kiosk/agent/money"
)

// pinMaxLen is the longest PIN the keypad takes.
const pinMaxLen = 12

// editAmount applies one keypad key to an amount being typed: at most one
// point, two decimals and five digits of yuan, no leading zeros.
func editAmount(s, key string) string {
	if erased, ok := erase(s, key); ok {
		return erased
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	switch {
	case key == ".":
		if hasDot {
			return s
		}
		if s == "" {
			return "0."
		}
		return s + "."
	case len(key) == 1 && key[0] >= '0' && key[0] <= '9':
		switch {
		case hasDot && len(frac) >= 2:
			return s
		case hasDot:
			return s + key
		case intPart == "0":
			return key
		case len(intPart) >= 5:
			return s
		}
		return s + key
	}
	return s
}

// parseEntry reads the typed amount; ok false for none or zero.
func parseEntry(entry string) (money.Fen, bool) {
	f, err := money.ParseYuan(strings.TrimSuffix(entry, "."))
	return f, err == nil && f > 0
}

// editPIN applies one keypad key to a PIN being typed: "clear", "del" or
// a digit, up to pinMaxLen of them.
func editPIN(s, key string) string {
	if erased, ok := erase(s, key); ok {
		return erased
	}
	if len(s) < pinMaxLen {
		return s + key
	}
	return s
}

// erase applies the keypad's erasing keys, which amounts and PINs share:
// "clear" empties s, "del" drops its last character. ok is false for any
// other key.
func erase(s, key string) (erased string, ok bool) {
	switch key {
	case "clear":
		return "", true
	case "del":
		if s == "" {
			return s, true
		}
		return s[:len(s)-1], true
	}
	return s, false
}
