package hid_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/device/hid"
)

func TestKeyboardDecoder(t *testing.T) {
	const (
		a, b, c   = 0x04, 0x05, 0x06
		one, zero = 0x1E, 0x27
		enter     = 0x28
		kpEnter   = 0x58
		tab       = 0x2B
		caps      = 0x39
		esc       = 0x29
		lshift    = 0x02
		rshift    = 0x20
		lctrl     = 0x01
		ralt      = 0x40
	)
	tests := []struct {
		name      string
		opts      hid.KeyboardOptions
		reports   [][]byte
		texts     []string
		dropWords []string // one per drop, a word its reason must contain
	}{
		{
			name:    "plain digits",
			reports: [][]byte{kb(0, one), kb(0), kb(0, zero), kb(0), kb(0, enter), kb(0)},
			texts:   []string{"10"},
		},
		{
			name: "left and right shift",
			reports: [][]byte{
				kb(lshift, a), kb(0), kb(rshift, b), kb(0), kb(0, c), kb(0),
				kb(lshift, one), kb(0), kb(0, enter),
			},
			texts: []string{"ABc!"},
		},
		{
			name: "shift in a report of its own",
			reports: [][]byte{
				kb(lshift), kb(lshift, a), kb(lshift), kb(0), kb(0, b), kb(0), kb(0, enter), kb(0),
			},
			texts: []string{"Ab"},
		},
		{
			name: "shift released while the key is held types nothing more",
			reports: [][]byte{
				kb(lshift, a), kb(0, a), kb(0), kb(0, enter),
			},
			texts: []string{"A"},
		},
		{
			name: "roll-over: two keys down, then one released",
			reports: [][]byte{
				kb(0, a), kb(0, a, b), kb(0, b), kb(0, b, c), kb(0, c), kb(0), kb(0, enter), kb(0),
			},
			texts: []string{"abc"},
		},
		{
			name: "roll-over with slots reordered by the keyboard",
			reports: [][]byte{
				kb(0, a), kb(0, b, a), kb(0, b), kb(0), kb(0, enter),
			},
			texts: []string{"ab"},
		},
		{
			name: "two keys new in one report: slot order",
			reports: [][]byte{
				kb(0, b, a), kb(0), kb(0, enter),
			},
			texts: []string{"ba"},
		},
		{
			name: "repeated identical reports",
			reports: [][]byte{
				kb(0, a), kb(0, a), kb(0, a), kb(0), kb(0), kb(0, a), kb(0, a), kb(0),
				kb(0, enter), kb(0, enter), kb(0),
			},
			texts: []string{"aa"},
		},
		{
			name: "same usage twice in one report is one key",
			reports: [][]byte{
				kb(0, a, a), kb(0), kb(0, enter),
			},
			texts: []string{"a"},
		},
		{
			name:    "keypad enter terminates",
			reports: [][]byte{kb(0, a), kb(0), kb(0, kpEnter), kb(0)},
			texts:   []string{"a"},
		},
		{
			name:    "key and enter in the same report",
			reports: [][]byte{kb(0, a, enter), kb(0)},
			texts:   []string{"a"},
		},
		{
			name:    "several texts",
			reports: slices.Concat(typed(t, "12\n"), typed(t, "ab\n"), typed(t, "\n")),
			texts:   []string{"12", "ab"},
		},
		{
			name:    "bare enter gives nothing",
			reports: [][]byte{kb(0, enter), kb(0), kb(0, kpEnter), kb(0)},
		},
		{
			name:    "tab terminates when enabled",
			opts:    hid.KeyboardOptions{TabTerminates: true},
			reports: [][]byte{kb(0, a), kb(0), kb(0, tab), kb(0), kb(0, b), kb(0), kb(0, enter)},
			texts:   []string{"a", "b"},
		},
		{
			name:    "tab is a character when not enabled",
			reports: [][]byte{kb(0, a), kb(0), kb(0, tab), kb(0), kb(0, b), kb(0), kb(0, enter)},
			texts:   []string{"a\tb"},
		},
		{
			name:    "caps lock toggles letters only",
			reports: [][]byte{kb(0, caps), kb(0), kb(0, a), kb(0), kb(lshift, b), kb(0), kb(0, one), kb(0), kb(0, caps), kb(0), kb(0, c), kb(0), kb(0, enter)},
			texts:   []string{"Ab1c"},
		},
		{
			name:    "num lock is ignored",
			reports: [][]byte{kb(0, 0x53), kb(0), kb(0, 0x59), kb(0), kb(0, enter)},
			texts:   []string{"1"},
		},
		{
			name:    "report ID mode",
			opts:    hid.KeyboardOptions{ReportID: true},
			reports: [][]byte{append([]byte{1}, kb(lshift, a)...), append([]byte{1}, kb(0)...), append([]byte{1}, kb(0, enter)...)},
			texts:   []string{"A"},
		},
		{
			name: "report ID mode with another report of the device",
			opts: hid.KeyboardOptions{ReportID: true, OnlyReportID: 1},
			reports: [][]byte{
				append([]byte{1}, kb(0, a)...), {3, 0xE9, 0x00}, append([]byte{1}, kb(0)...),
				append([]byte{1}, kb(0, b)...), append([]byte{1}, kb(0)...), append([]byte{1}, kb(0, enter)...),
			},
			texts:     []string{"ab"},
			dropWords: []string{"report ID 0x03"},
		},
		{
			name: "unknown usage drops the whole frame",
			reports: [][]byte{
				kb(0, a), kb(0), kb(0, esc), kb(0), kb(0, b), kb(0), kb(0, enter), kb(0),
				kb(0, c), kb(0), kb(0, enter),
			},
			texts:     []string{"c"},
			dropWords: []string{"unknown key usage 0x29"},
		},
		{
			name:      "unknown shifted usage (keypad digit with shift)",
			reports:   [][]byte{kb(lshift, 0x59), kb(0), kb(0, enter)},
			dropWords: []string{"unknown key usage 0x59 (shifted)"},
		},
		{
			name:      "ctrl or altgr with a key drops the frame",
			reports:   [][]byte{kb(0, a), kb(0), kb(lctrl, b), kb(0), kb(0, enter), kb(ralt, c), kb(0), kb(0, enter)},
			dropWords: []string{"Ctrl/Alt/GUI (modifiers 0x01)", "Ctrl/Alt/GUI (modifiers 0x40)"},
		},
		{
			name: "roll-over error report drops the frame and types nothing twice",
			reports: [][]byte{
				kb(0, a), kb(0, 1, 1, 1, 1, 1, 1), kb(0, a), kb(0), kb(0, enter), kb(0), kb(0, b), kb(0), kb(0, enter),
			},
			texts:     []string{"b"},
			dropWords: []string{"error report"},
		},
		{
			name:      "short report drops the frame",
			reports:   [][]byte{kb(0, a), kb(0), {0, 0}, kb(0, enter), kb(0), kb(0, b), kb(0), kb(0, enter)},
			texts:     []string{"b"},
			dropWords: []string{"short keyboard report"},
		},
		{
			name:      "overlong text is dropped, the next one is not",
			opts:      hid.KeyboardOptions{MaxLen: 3},
			reports:   slices.Concat(typed(t, "1234\n"), typed(t, "123\n")),
			texts:     []string{"123"},
			dropWords: []string{"longer than 3 bytes"},
		},
		{
			name:    "modifier usages in key slots are ignored",
			reports: [][]byte{kb(lshift, 0xE1, a), kb(0), kb(0, enter)},
			texts:   []string{"A"},
		},
		{
			name:    "longer report than boot (more slots)",
			reports: [][]byte{{0, 0, a, 0, 0, 0, 0, 0, 0, 0, b}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, kb(0, enter)},
			texts:   []string{"ab"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := hid.NewKeyboardDecoder(tt.opts)
			texts, drops := feedKeyboard(d, tt.reports)
			assert.Equal(t, tt.texts, texts)
			require.Len(t, drops, len(tt.dropWords), "drops: %q", reasons(drops))
			for i, w := range tt.dropWords {
				assert.Contains(t, drops[i].Reason, w)
				assert.NotEmpty(t, drops[i].Bytes)
			}
		})
	}
}

func TestKeyboardDropKeepsTheReport(t *testing.T) {
	d := hid.NewKeyboardDecoder(hid.KeyboardOptions{})
	report := kb(0, 0x29)
	_, drops := d.Feed(report)
	require.Len(t, drops, 1)
	assert.Equal(t, report, drops[0].Bytes)
	report[2] = 0 // the drop holds a copy
	assert.Equal(t, byte(0x29), drops[0].Bytes[2])
}

func TestKeyboardReset(t *testing.T) {
	d := hid.NewKeyboardDecoder(hid.KeyboardOptions{})
	texts, drops := feedKeyboard(d, [][]byte{kb(0, 0x04), kb(0, 0x04, 0x05)})
	require.Empty(t, texts)
	require.Empty(t, drops)

	drops = d.Reset()
	require.Len(t, drops, 1)
	assert.Contains(t, drops[0].Reason, "without terminator")
	assert.Equal(t, []byte("ab"), drops[0].Bytes)

	// After a reset the keys count as up: the held key types again.
	texts, drops = feedKeyboard(d, [][]byte{kb(0, 0x05), kb(0, 0x28)})
	assert.Equal(t, []string{"b"}, texts)
	assert.Empty(t, drops)
	assert.Empty(t, d.Reset())
}

func TestKeyboardRecordedCardNumber(t *testing.T) {
	reports := readCapture(t, "testdata/kbd-card-3197650001.txt")
	d := hid.NewKeyboardDecoder(hid.KeyboardOptions{})
	texts, drops := feedKeyboard(d, reports)
	assert.Empty(t, drops)
	assert.Equal(t, []string{"3197650001"}, texts)
}

func TestKeyboardRecordedQR(t *testing.T) {
	reports := readCapture(t, "testdata/kbd-qr-mixed.txt")
	for _, tabTerminates := range []bool{false, true} {
		d := hid.NewKeyboardDecoder(hid.KeyboardOptions{TabTerminates: tabTerminates})
		texts, drops := feedKeyboard(d, reports)
		assert.Empty(t, drops)
		assert.Equal(t, []string{"https://Pay.Campus.Example/q?ID=Ab9-x_Z&t=1.5#ok"}, texts)
	}
}

// Every printable ASCII character round-trips through the US layout.
func TestKeyboardUSLayoutPrintableASCII(t *testing.T) {
	var sb strings.Builder
	for c := ' '; c <= '~'; c++ {
		sb.WriteRune(c)
	}
	want := sb.String()
	d := hid.NewKeyboardDecoder(hid.KeyboardOptions{Layout: hid.USLayout()})
	texts, drops := feedKeyboard(d, typed(t, want+"\n"))
	assert.Empty(t, drops)
	assert.Equal(t, []string{want}, texts)
}

func TestKeyboardCustomLayout(t *testing.T) {
	// A German scanner: y and z swapped, shift+2 is '"'.
	l, err := hid.LayoutFromTable("de", []string{
		"# QWERTZ excerpt",
		"0x1C z Z",
		"0x1D y Y",
		"0x1F 2 \"",
		"0x2D ß ?",
	})
	require.NoError(t, err)
	d := hid.NewKeyboardDecoder(hid.KeyboardOptions{Layout: l})
	texts, drops := feedKeyboard(d, [][]byte{
		kb(0, 0x1C), kb(0), kb(0x02, 0x1D), kb(0), kb(0x02, 0x1F), kb(0), kb(0, 0x2D), kb(0), kb(0, 0x28),
		kb(0, 0x04), kb(0), kb(0, 0x28), // 'a' is not in the table
	})
	assert.Equal(t, []string{"zY\"ß"}, texts)
	require.Len(t, drops, 1)
	assert.Contains(t, drops[0].Reason, `layout "de"`)
}
