package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/money"
)

func TestUIDefaults(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)
	assert.Equal(t, UI{Mode: ModeCanteen, Language: LangChinese, IdleTimeout: 30 * time.Second}, cfg.UI)

	// The start screen follows terminal.mode unless ui.mode says otherwise.
	f.settings["terminal"]["mode"] = ModeKiosk
	cfg, err = Parse(f.yaml(t), f.dir)
	require.NoError(t, err)
	assert.Equal(t, ModeKiosk, cfg.UI.Mode)
}

func TestUIAccepted(t *testing.T) {
	f := newFixture(t)
	font := filepath.Join(f.dir, "cjk.ttf")
	require.NoError(t, os.WriteFile(font, []byte("not really a font"), 0o644))
	hash := HashPIN("2580")
	data := append(f.yaml(t), []byte(`ui:
  mode: kiosk
  language: en
  idle_timeout: 45s
  pin_hash: "`+strings.ToUpper(hash[len(PINHashPrefix):])+`"
  font: cjk.ttf
  menu:
    - name: 套餐A
      price: "12.00"
    - {name: " 豆浆 ", price: 2.5}
`)...)
	// The hash above lacks its prefix: refused, then fixed.
	_, err := Parse(data, f.dir)
	requireOneProblem(t, err, "ui.pin_hash", "sha256:")
	data = []byte(strings.Replace(string(data), `pin_hash: "`, `pin_hash: "sha256:`, 1))

	cfg, err := Parse(data, f.dir)
	require.NoError(t, err)
	assert.Equal(t, UI{
		Mode:        ModeKiosk,
		Language:    LangEnglish,
		IdleTimeout: 45 * time.Second,
		PINHash:     hash,
		Font:        font,
		Menu:        []MenuItem{{Name: "套餐A", Price: 12_00}, {Name: "豆浆", Price: 2_50}},
	}, cfg.UI, "the hash is kept lower-case, the names trimmed, the font path resolved")
	assert.Equal(t, ModeCanteen, cfg.Terminal.Mode, "ui.mode does not change the terminal's mode")
}

func TestUIRejected(t *testing.T) {
	long := strings.Repeat("饭", MaxMenuNameLen+1)
	many := "  menu:\n"
	for i := range MaxMenuItems + 1 {
		many += "    - {name: item" + string(rune('a'+i)) + ", price: \"1.00\"}\n"
	}
	tests := []struct {
		name, yaml, field, want string
	}{
		{"unknown mode", "  mode: cashier\n", "ui.mode", "cashier"},
		{"diagnostics is not a start screen", "  mode: diagnostics\n", "ui.mode", "PIN"},
		{"unknown language", "  language: fr\n", "ui.language", "fr"},
		{"idle_timeout not a duration", "  idle_timeout: soon\n", "ui.idle_timeout", "not a duration"},
		{"idle_timeout too short", "  idle_timeout: 1s\n", "ui.idle_timeout", "out of range"},
		{"idle_timeout too long", "  idle_timeout: 1h\n", "ui.idle_timeout", "out of range"},
		{"pin_hash not hex", "  pin_hash: \"sha256:" + strings.Repeat("z", 64) + "\"\n", "ui.pin_hash", "64 hex"},
		{"pin_hash too short", "  pin_hash: \"sha256:abcd\"\n", "ui.pin_hash", "64 hex"},
		{"pin_hash is the PIN", "  pin_hash: \"2580\"\n", "ui.pin_hash", "--hash-pin"},
		{"font missing", "  font: nope.ttf\n", "ui.font", "nope.ttf"},
		{"font is a directory", "  font: .\n", "ui.font", "not a regular file"},
		{"unknown key", "  colour: red\n", "ui.colour", "unknown key"},
		{"menu item without name", "  menu:\n    - {price: \"1.00\"}\n", "ui.menu[0].name", "required"},
		{"menu item without price", "  menu:\n    - {name: A}\n", "ui.menu[0].price", "required"},
		{"menu price not yuan", "  menu:\n    - {name: A, price: 1.005}\n", "ui.menu[0].price", "yuan"},
		{"menu price zero", "  menu:\n    - {name: A, price: \"0\"}\n", "ui.menu[0].price", "out of range"},
		{"menu name repeated", "  menu:\n    - {name: A, price: 1}\n    - {name: A, price: 2}\n", "ui.menu[1].name", "another item"},
		{"menu name too long", "  menu:\n    - {name: " + long + ", price: 1}\n", "ui.menu[0].name", "at most"},
		{"menu name with a control character", "  menu:\n    - {name: \"A\\tB\", price: 1}\n", "ui.menu[0].name", "control"},
		{"menu too long", many, "ui.menu", "at most"},
		{"menu not a list", "  menu: {name: A}\n", "ui.menu", "a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := Parse(append(f.yaml(t), []byte("ui:\n"+tt.yaml)...), f.dir)
			requireOneProblem(t, err, tt.field, tt.want)
		})
	}
}

// requireOneProblem checks that err is exactly one problem, with field
// and a message containing want.
func requireOneProblem(t *testing.T, err error, field, want string) {
	t.Helper()
	require.Error(t, err)
	errs := Errors(err)
	require.Len(t, errs, 1, "want one problem, got: %v", err)
	assert.Equal(t, field, errs[0].Field)
	assert.Contains(t, err.Error(), want)
}

func TestPINHash(t *testing.T) {
	h := HashPIN("2580")
	assert.Len(t, h, len(PINHashPrefix)+64)
	checked, err := checkPINHash(h)
	require.NoError(t, err)
	assert.Equal(t, h, checked, "HashPIN writes what the config accepts")
	assert.True(t, PINMatches(h, "2580"))
	assert.False(t, PINMatches(h, "2581"))
	assert.False(t, PINMatches(h, ""))
	assert.False(t, PINMatches("", ""), "no hash is no PIN, not an empty one")
	assert.Equal(t, "sha256:03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4", HashPIN("1234"),
		"the same digest as sha256sum, so an operator can check it")
}

func TestUISoundCommand(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(append(f.yaml(t), []byte("ui:\n  sound_command: \"sh -c 'cat >/dev/null'\"\n")...), f.dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"sh", "-c", "'cat", ">/dev/null'"}, cfg.UI.SoundCommand, "split at spaces, no shell quoting")
	assert.Empty(t, cfg.Warnings)

	cfg, err = Parse(append(f.yaml(t), []byte("ui:\n  sound_command: no-such-player -q\n")...), f.dir)
	require.NoError(t, err, "a missing player does not stop the kiosk")
	require.Len(t, cfg.Warnings, 1)
	assert.Contains(t, cfg.Warnings[0], "ui.sound_command")
}

func TestUIMenuPriceIsFen(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(append(f.yaml(t), []byte("ui:\n  menu:\n    - {name: A, price: 12}\n")...), f.dir)
	require.NoError(t, err)
	assert.Equal(t, money.Fen(12_00), cfg.UI.Menu[0].Price, "a whole number is yuan, not fen")
}
