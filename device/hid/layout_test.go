package hid_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/device/hid"
)

func TestUSLayout(t *testing.T) {
	l := hid.USLayout()
	for _, tc := range []struct {
		usage           byte
		normal, shifted rune
	}{
		{0x04, 'a', 'A'}, {0x1D, 'z', 'Z'}, {0x1E, '1', '!'}, {0x26, '9', '('}, {0x27, '0', ')'},
		{0x2C, ' ', ' '}, {0x2D, '-', '_'}, {0x2E, '=', '+'}, {0x2F, '[', '{'}, {0x30, ']', '}'},
		{0x31, '\\', '|'}, {0x33, ';', ':'}, {0x34, '\'', '"'}, {0x35, '`', '~'},
		{0x36, ',', '<'}, {0x37, '.', '>'}, {0x38, '/', '?'},
		{0x54, '/', '/'}, {0x57, '+', '+'}, {0x59, '1', 0}, {0x62, '0', 0}, {0x63, '.', 0},
	} {
		assert.Equal(t, tc.normal, l.Normal[tc.usage], "usage 0x%02X", tc.usage)
		assert.Equal(t, tc.shifted, l.Shifted[tc.usage], "usage 0x%02X shifted", tc.usage)
	}
	for _, u := range []byte{0x28, 0x29, 0x2A, 0x2B, 0x39, 0x58} {
		_, ok := l.Normal[u]
		assert.False(t, ok, "usage 0x%02X must not type", u)
	}
	// Each call builds its own tables: changing one does not change the next.
	l.Normal[0x04] = 'x'
	assert.Equal(t, 'a', hid.USLayout().Normal[0x04])
}

func TestLayoutFromTable(t *testing.T) {
	l, err := hid.LayoutFromTable("test", []string{
		"",
		"  # comment",
		"0x04 a A",
		"5 b",      // decimal usage, no shifted
		"0x06 c -", // "-": no shifted
		"0x2C U+0020 U+0020",
		"0x2D U+002D _", // minus by code point
		"0x34 é É",
		"0x35 # ~", // '#' as a character is not a comment
	})
	require.NoError(t, err)
	assert.Equal(t, "test", l.Name)
	assert.Equal(t, map[byte]rune{0x04: 'a', 0x05: 'b', 0x06: 'c', 0x2C: ' ', 0x2D: '-', 0x34: 'é', 0x35: '#'}, l.Normal)
	assert.Equal(t, map[byte]rune{0x04: 'A', 0x2C: ' ', 0x2D: '_', 0x34: 'É', 0x35: '~'}, l.Shifted)
}

func TestLayoutFromTableErrors(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string // in the message, after "line N"
	}{
		{"one field", []string{"0x04 a A", "0x05"}, `line 2 "0x05": want`},
		{"four fields", []string{"# c", "0x04 a A x"}, "line 2"},
		{"bad usage", []string{"0x04 a A", "", "zz b B"}, `line 3 "zz b B": usage ID "zz"`},
		{"usage out of range", []string{"0x100 a A"}, "line 1"},
		{"duplicate", []string{"0x04 a A", "4 b B"}, "line 2 \"4 b B\": usage 0x04 already mapped on line 1"},
		{"enter", []string{"0x28 a"}, "Enter"},
		{"keypad enter", []string{"0x58 a"}, "Enter"},
		{"tab", []string{"0x2B a"}, "Tab"},
		{"caps lock", []string{"0x39 a"}, "lock key"},
		{"modifier", []string{"0xE1 a"}, "modifier"},
		{"error code", []string{"0x01 a"}, "error code"},
		{"two characters", []string{"0x04 ab"}, `line 1 "0x04 ab": character without shift: "ab" is not one character`},
		{"bad shifted", []string{"0x04 a AB"}, "character with shift"},
		{"bad code point", []string{"0x04 U+ZZ"}, "code point"},
		{"surrogate", []string{"0x04 U+D800"}, "not a valid character"},
		{"control character", []string{"0x04 U+0009"}, "control character"},
		{"NUL", []string{"0x04 a U+0000"}, "control character"},
		{"empty table", []string{"# nothing", ""}, "no keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hid.LayoutFromTable("t", tt.lines)
			require.Error(t, err)
			assert.ErrorIs(t, err, hid.ErrLayoutTable)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
