package hid

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Keyboard usage IDs (HID Usage Tables, Keyboard/Keypad page 0x07) that the
// keyboard decoder handles itself rather than through a Layout: they do not
// type a character, or they end a frame.
const (
	usageErrorRollOver = 0x01 // all slots, when too many keys are down ("phantom state")
	usagePOSTFail      = 0x02
	usageErrorUndef    = 0x03
	usageEnter         = 0x28
	usageTab           = 0x2B
	usageCapsLock      = 0x39
	usageNumLock       = 0x53 // Keypad Num Lock and Clear
	usageKeypadEnter   = 0x58
	usageLeftControl   = 0xE0 // 0xE0–0xE7 are the modifier keys
	usageRightGUI      = 0xE7
)

// ErrLayoutTable is wrapped by every error of LayoutFromTable.
var ErrLayoutTable = errors.New("bad keyboard layout table")

// Layout maps keyboard usage IDs (HID Keyboard/Keypad page 0x07) to the
// characters they type, without and with shift. A usage missing from the
// map in effect is unknown: a frame that contains it is dropped rather
// than guessed at.
//
// Enter (0x28), Keypad Enter (0x58), Tab (0x2B), Caps Lock (0x39), Num Lock
// (0x53) and the modifiers (0xE0–0xE7) are handled by the decoder and are
// never looked up here. Only two levels exist: a key pressed with Ctrl, Alt
// (including AltGr) or GUI held is treated as unknown.
type Layout struct {
	// Name names the layout in messages, such as "us".
	Name string
	// Normal maps a usage ID to the character it types without shift.
	Normal map[byte]rune
	// Shifted maps a usage ID to the character it types with shift.
	Shifted map[byte]rune
}

// USLayout returns the US English layout, the default of scanners in
// keyboard emulation: letters, digits, punctuation, space, and the keypad
// (with Num Lock assumed on; a shifted keypad digit is left unmapped since
// with Num Lock on a PC turns it into a navigation key).
//
// The usage IDs are those of the HID Usage Tables, Keyboard/Keypad page
// (0x07). 0x32 ("Non-US # and ~") is not on a US keyboard; it is mapped
// like 0x31 (backslash), as the Linux and Windows US keymaps do, so that a
// scanner gets the same text from the kiosk as from a desktop.
func USLayout() Layout {
	l := Layout{Name: "us", Normal: make(map[byte]rune, 80), Shifted: make(map[byte]rune, 80)}
	for i := byte(0); i < 26; i++ {
		l.Normal[0x04+i] = rune('a' + i)
		l.Shifted[0x04+i] = rune('A' + i)
	}
	// 0x1E–0x27: 1 2 3 4 5 6 7 8 9 0 and their shifted symbols.
	const digits, digitsShifted = "1234567890", "!@#$%^&*()"
	for i := range len(digits) {
		l.Normal[0x1E+byte(i)] = rune(digits[i])
		l.Shifted[0x1E+byte(i)] = rune(digitsShifted[i])
	}
	// 0x2C–0x38: space and punctuation (0x2B, Tab, is the decoder's).
	const punct, punctShifted = " -=[]\\\\;'`,./", " _+{}||:\"~<>?"
	for i := range len(punct) {
		l.Normal[0x2C+byte(i)] = rune(punct[i])
		l.Shifted[0x2C+byte(i)] = rune(punctShifted[i])
	}
	// Keypad: 0x54 / 0x55 * 0x56 - 0x57 + (same with shift), 0x59–0x62
	// 1…9 0 and 0x63 . (unshifted only).
	for u, r := range map[byte]rune{0x54: '/', 0x55: '*', 0x56: '-', 0x57: '+'} {
		l.Normal[u] = r
		l.Shifted[u] = r
	}
	const keypad = "1234567890."
	for i := range len(keypad) {
		l.Normal[0x59+byte(i)] = rune(keypad[i])
	}
	return l
}

// LayoutFromTable builds a layout from a text table, one key a line, for
// the configuration's layout table option (a scanner set to a national
// layout that the kiosk must undo):
//
//	# comment; blank lines are ignored
//	0x04 a A      usage ID, character without shift, character with shift
//	0x1F 2 "      (characters are taken literally, so any punctuation works)
//	0x2C U+0020 U+0020   U+XXXX names a character by code point (space)
//	0x59 1        shifted character omitted (or "-"): shift+key is unknown
//
// The usage ID is hexadecimal with 0x or decimal (0x04–0xDF); it must not
// be one the decoder handles itself (Enter, Keypad Enter, Tab, Caps Lock,
// Num Lock, modifiers, error codes) and must appear once. A character is a
// single UTF-8 character or U+XXXX, not a control character; "-" alone
// means none (write U+002D for the minus sign). Only the keys listed are
// known: the table does not extend the US layout. Errors name the line
// (counting from 1) and wrap ErrLayoutTable.
func LayoutFromTable(name string, lines []string) (Layout, error) {
	l := Layout{Name: name, Normal: make(map[byte]rune), Shifted: make(map[byte]rune)}
	seen := make(map[byte]int)
	for i, line := range lines {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		fields := strings.Fields(trimmed)
		if len(fields) < 2 || len(fields) > 3 {
			return Layout{}, fmt.Errorf("%w %q: line %d %q: want \"USAGE NORMAL [SHIFTED]\", got %d fields",
				ErrLayoutTable, name, n, line, len(fields))
		}
		u, err := parseUsage(fields[0])
		if err != nil {
			return Layout{}, fmt.Errorf("%w %q: line %d %q: %w", ErrLayoutTable, name, n, line, err)
		}
		if prev, dup := seen[u]; dup {
			return Layout{}, fmt.Errorf("%w %q: line %d %q: usage 0x%02X already mapped on line %d",
				ErrLayoutTable, name, n, line, u, prev)
		}
		seen[u] = n
		normal, err := parseLayoutChar(fields[1])
		if err != nil {
			return Layout{}, fmt.Errorf("%w %q: line %d %q: character without shift: %w", ErrLayoutTable, name, n, line, err)
		}
		if normal != 0 {
			l.Normal[u] = normal
		}
		if len(fields) == 3 {
			shifted, err := parseLayoutChar(fields[2])
			if err != nil {
				return Layout{}, fmt.Errorf("%w %q: line %d %q: character with shift: %w", ErrLayoutTable, name, n, line, err)
			}
			if shifted != 0 {
				l.Shifted[u] = shifted
			}
		}
	}
	if len(l.Normal) == 0 && len(l.Shifted) == 0 {
		return Layout{}, fmt.Errorf("%w %q: no keys", ErrLayoutTable, name)
	}
	return l, nil
}

// parseUsage parses a layout table's usage ID and refuses the usages the
// decoder handles itself, since a mapping for them would silently never
// apply.
func parseUsage(s string) (byte, error) {
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, fmt.Errorf("usage ID %q: %w", s, err)
	}
	u := byte(v)
	switch {
	case u <= usageErrorUndef:
		return 0, fmt.Errorf("usage ID 0x%02X is reserved or an error code, not a key", u)
	case u == usageEnter, u == usageKeypadEnter:
		return 0, fmt.Errorf("usage ID 0x%02X is Enter, the decoder's terminator", u)
	case u == usageTab:
		return 0, fmt.Errorf("usage ID 0x%02X is Tab, which the decoder handles (TabTerminates)", u)
	case u == usageCapsLock, u == usageNumLock:
		return 0, fmt.Errorf("usage ID 0x%02X is a lock key, which the decoder handles", u)
	case u >= usageLeftControl:
		return 0, fmt.Errorf("usage ID 0x%02X is a modifier or reserved, not a key", u)
	}
	return u, nil
}

// parseLayoutChar parses one character of a layout table: a single UTF-8
// character, U+XXXX, or "-" for none (returned as 0).
func parseLayoutChar(s string) (rune, error) {
	if s == "-" {
		return 0, nil
	}
	var r rune
	if len(s) > 2 && (strings.HasPrefix(s, "U+") || strings.HasPrefix(s, "u+")) {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		if err != nil {
			return 0, fmt.Errorf("code point %q: %w", s, err)
		}
		if v > utf8.MaxRune {
			return 0, fmt.Errorf("code point %q: beyond U+10FFFF", s)
		}
		r = rune(v)
	} else {
		c, size := utf8.DecodeRuneInString(s)
		if size != len(s) {
			return 0, fmt.Errorf("%q is not one character (use U+XXXX)", s)
		}
		r = c
	}
	if r == utf8.RuneError || !utf8.ValidRune(r) {
		return 0, fmt.Errorf("%q is not a valid character", s)
	}
	// A control character in a scanned ID is never wanted; Tab and Enter
	// are the decoder's terminators.
	if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) {
		return 0, fmt.Errorf("%q is a control character", s)
	}
	return r, nil
}
