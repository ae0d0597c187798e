package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/app"
)

func TestPrepareAndKioskYAML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	d, err := Prepare(dir, logf)
	require.NoError(t, err)
	require.Len(t, logged, 1)
	assert.Contains(t, logged[0], "generated")

	st, err := LoadSimSettings(d.SimYAML)
	require.NoError(t, err)
	opts, err := st.Options()
	require.NoError(t, err)
	assert.Equal(t, AppKey, opts.AppKey)
	assert.NotNil(t, opts.ClientKey)
	assert.NotNil(t, opts.PlatformKey)
	assert.Equal(t, sim.DemoCards(), opts.Cards)

	require.NoError(t, d.WriteKioskYAML("http://127.0.0.1:1/tsm", opts.AppKey, opts.AppSecret, opts.Location.String()))
	cfg, err := config.Load(d.KioskYAML)
	require.NoError(t, err)
	assert.Empty(t, cfg.Warnings)
	assert.Equal(t, d.Path(Store), cfg.Store.Path)
	assert.Equal(t, config.ModeCanteen, cfg.Terminal.Mode)
	assert.True(t, cfg.Offline.Enabled, "the demo shows offline acceptance")
	assert.Equal(t, config.ModeKiosk, cfg.UI.Mode)
	assert.Equal(t, Menu(), cfg.UI.Menu)
	assert.True(t, config.PINMatches(cfg.UI.PINHash, PIN))
	kb, ok := cfg.DeviceNamed(KeyboardDevice)
	require.True(t, ok)
	assert.Equal(t, "keyboard:?kind=card", kb.Spec)
	mapper := app.ScanMapper(cfg)
	for _, c := range sim.DemoCards() {
		q, err := mapper.Identify(agent.Scan{Device: KeyboardDevice, Kind: agent.ScanCard, Text: c.CardID})
		require.NoError(t, err)
		assert.Equal(t, agent.Identity{Type: "cardid", ID: c.CardID}, q)
		if c.Barcode != "" {
			q, err = mapper.Identify(agent.Scan{Device: KeyboardDevice, Kind: agent.ScanCard, Text: c.Barcode})
			require.NoError(t, err)
			assert.Equal(t, agent.Identity{Type: "barcode", ID: c.Barcode}, q, "a payment code typed in is a QR code")
		}
	}
	var over bool
	for _, m := range cfg.UI.Menu {
		over = over || m.Price > cfg.Offline.MaxAmount
	}
	assert.True(t, over, "one item is dearer than the offline limit")

	// A second run reuses everything.
	logged = nil
	_, err = Prepare(dir, logf)
	require.NoError(t, err)
	assert.Contains(t, logged[0], "reusing")
}

func TestPrepareRefusesABrokenKey(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ClientKey), []byte("not a key"), 0o600))
	_, err := Prepare(dir, func(string, ...any) {})
	var de *Error
	require.True(t, errors.As(err, &de), "a file the user can delete is their problem to fix: %v", err)
	assert.Contains(t, err.Error(), "delete it")
}

func TestSimOptionsNameTheSetting(t *testing.T) {
	st := SimSettings{Timezone: "Mars/Olympus", TokenTTL: "forever"}
	_, err := st.Options()
	require.Error(t, err)
	for _, want := range []string{"app_key", "app_secret_file", "client_public_key", "timezone", "token_ttl"} {
		assert.Contains(t, err.Error(), want)
	}
	var de *Error
	assert.True(t, errors.As(err, &de))
}

// sim.yaml sets the simulator's field variations, as onecard-sim's flags do.
func TestSimFieldVariations(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	d, err := Prepare(dir, func(string, ...any) {})
	require.NoError(t, err)
	base, err := os.ReadFile(d.SimYAML)
	require.NoError(t, err)
	write := func(t *testing.T, extra string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "sim.yaml")
		// Absolute paths: the keys stay in the demo directory.
		body := strings.NewReplacer(": "+Secret, ": "+d.Path(Secret), ": "+ClientPub, ": "+d.Path(ClientPub),
			": "+PlatformKey, ": "+d.Path(PlatformKey)).Replace(string(base))
		require.NoError(t, os.WriteFile(path, []byte(body+extra), 0o600))
		return path
	}

	st, err := LoadSimSettings(write(t, "refunds_uncapped: true\nquery_forgets_refunds: true\n"+
		"hold:\n  fraction: 0.25\n  for: 30s\n  seed: 7\nduplicate_reply: 60070\nstrict: true\nwrong_password_retcode: 60099\n"))
	require.NoError(t, err)
	opts, err := st.Options()
	require.NoError(t, err)
	assert.True(t, opts.Strict)
	assert.True(t, opts.RefundsUncapped)
	assert.True(t, opts.QueryForgetsRefunds)
	assert.Equal(t, sim.HoldPolicy{Fraction: 0.25, For: 30 * time.Second, Seed: 7}, opts.Hold)
	assert.Equal(t, onecard.RetcodeOrderExists, opts.DuplicateReply, "an unquoted 60070 is the string")
	assert.Equal(t, "60099", opts.WrongPasswordRetcode)

	st, err = LoadSimSettings(write(t, "duplicate_reply: replay\nhold: {fraction: 0}\n"))
	require.NoError(t, err)
	opts, err = st.Options()
	require.NoError(t, err)
	assert.Equal(t, sim.DuplicateReplay, opts.DuplicateReply)
	assert.Equal(t, sim.HoldPolicy{}, opts.Hold, "a zero fraction holds nothing and needs no for")
	assert.False(t, opts.RefundsUncapped)
	assert.Empty(t, opts.WrongPasswordRetcode, "the simulator's default, 60003")
	simulator, err := sim.NewHandler(opts)
	require.NoError(t, err, "the simulator takes the options")
	simulator.Close()

	_, err = LoadSimSettings(write(t, "refunds_uncapped: maybe\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refunds_uncapped: line")
	assert.Contains(t, err.Error(), "maybe")
	var de *Error
	assert.True(t, errors.As(err, &de))
}

func TestSimFieldVariationErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		st   SimSettings
		want []string
	}{
		{"fraction over 1", SimSettings{Hold: &SimHold{Fraction: "1.5", For: "1s"}}, []string{"hold.fraction", `"1.5"`}},
		{"fraction not a number", SimSettings{Hold: &SimHold{Fraction: "half", For: "1s"}}, []string{"hold.fraction", `"half"`}},
		{"fraction NaN", SimSettings{Hold: &SimHold{Fraction: "NaN", For: "1s"}}, []string{"hold.fraction"}},
		{"no fraction", SimSettings{Hold: &SimHold{For: "1s", Seed: "3"}}, []string{"hold.fraction: required"}},
		{"fraction without for", SimSettings{Hold: &SimHold{Fraction: "0.5"}}, []string{"hold.for: required"}},
		{"for zero", SimSettings{Hold: &SimHold{Fraction: "0.5", For: "0s"}}, []string{"hold.for", `"0s"`}},
		{"for not a duration", SimSettings{Hold: &SimHold{Fraction: "0.5", For: "soon"}}, []string{"hold.for", `"soon"`}},
		{"seed negative", SimSettings{Hold: &SimHold{Fraction: "0.5", For: "1s", Seed: "-1"}}, []string{"hold.seed", `"-1"`}},
		{"two at once", SimSettings{Hold: &SimHold{Fraction: "2", For: "never"}}, []string{"hold.fraction", "hold.for"}},
		{"unknown duplicate reply", SimSettings{DuplicateReply: "60046"}, []string{"duplicate_reply", "60046"}},
		{"wrong password answered with success", SimSettings{WrongPasswordRetcode: "0"}, []string{"wrong_password_retcode", `"0"`}},
		{"wrong password retcode not digits", SimSettings{WrongPasswordRetcode: "bad pwd"}, []string{"wrong_password_retcode", `"bad pwd"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.st.Options()
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			var de *Error
			assert.True(t, errors.As(err, &de))
		})
	}
}
