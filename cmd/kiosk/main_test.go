package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/demo"
	"github.com/campuspos/kiosk/cmd/internal/syncbuf"
	"github.com/campuspos/kiosk/device"
	"github.com/campuspos/kiosk/offline"
	"github.com/campuspos/kiosk/ui"
)

// TestMain lets the test binary act as the kiosk in a child process (the
// smoke test), so that the real program runs without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("KIOSK_TEST_AS_MAIN") == "1" {
		if dir := os.Getenv(screensEnv); dir != "" {
			onScreens = tourScreens(dir) // TestChineseScreens
		}
		main()
	}
	os.Exit(m.Run())
}

// runKiosk runs the command in-process with env as its environment; only
// paths that end before a window opens may be run this way.
func runKiosk(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), func() {}, args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		code, out, _ := runKiosk(t, nil, "", arg)
		assert.Equal(t, exitOK, code)
		for _, f := range []string{"--config", "--windowed", "--demo", "--hash-pin"} {
			assert.Contains(t, out, f)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("platfrom: {}\n"), 0o600))
	display := map[string]string{"DISPLAY": ":99"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown flag", nil, []string{"--fullscreen"}, "fullscreen"},
		{"stray argument", nil, []string{"start"}, "start"},
		{"demo and config", nil, []string{"--demo", dir, "--config", bad}, "not both"},
		{"hash-pin and demo", nil, []string{"--hash-pin", "--demo", dir}, "no other flag"},
		{"config missing", display, []string{"--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"config from the environment", map[string]string{"DISPLAY": ":99", "KIOSK_CONFIG": bad}, nil, "platfrom"},
		{"demo dir is a file", display, []string{"--demo", bad}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runKiosk(t, tt.env, "", tt.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

func TestNoDisplay(t *testing.T) {
	code, _, stderr := runKiosk(t, nil, "", "--demo", t.TempDir())
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stderr, "no display")
}

func TestHashPIN(t *testing.T) {
	code, out, stderr := runKiosk(t, nil, "2580\n", "--hash-pin")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, "pin_hash: \""+config.HashPIN("2580")+"\"\n", out)

	// The line pastes into a configuration as it is.
	var f fixtureUI
	require.NoError(t, demo.DecodeYAML([]byte(out), &f))
	assert.True(t, config.PINMatches(f.PINHash, "2580"))

	assert.Contains(t, stderr, "warning: a PIN of 4 digits is quickly guessed; use 6 or more")
	code, _, stderr = runKiosk(t, nil, "258013\n", "--hash-pin")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, stderr, "six digits: no warning")

	code, _, _ = runKiosk(t, nil, "2580\r\n", "--hash-pin")
	assert.Equal(t, exitOK, code, "a Windows line end is not part of the PIN")

	for _, bad := range []string{"", "\n", "123\n", "12a4\n", "1234567890123\n", " 1234\n"} {
		code, out, stderr := runKiosk(t, nil, bad, "--hash-pin")
		assert.Equal(t, exitUsage, code, "%q", bad)
		assert.Empty(t, out)
		assert.Contains(t, stderr, "digits")
	}
}

type fixtureUI struct {
	PINHash string `yaml:"pin_hash"`
}

// openDemo starts the demo platform in dir and the agent on its
// configuration, as the kiosk does, without the screens.
func openDemo(t *testing.T, dir string) (*demoPlatform, *app.App, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	plat, path, err := startDemo(dir, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err, logs.String())
	t.Cleanup(plat.Close)
	cfg, err := config.Load(path)
	require.NoError(t, err)
	a, err := app.Open(cfg, agent.SystemClock{})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return plat, a, logs
}

// TestDemoStory is the newcomer's story without the screens: a card seen
// online, the network pulled, a payment recorded offline, the network
// back and the payment settled; then a platform that swallows requests.
func TestDemoStory(t *testing.T) {
	ctx := t.Context()
	plat, a, logs := openDemo(t, t.TempDir())
	svc := a.Service
	card := agent.Identity{Type: "cardid", ID: sim.DemoCards()[0].CardID}

	_, err := svc.LookupCard(ctx, card)
	require.NoError(t, err)

	msg, err := plat.toggleNetwork()
	require.NoError(t, err)
	assert.Contains(t, msg, "pulled")
	_, err = svc.QueryCard(ctx, card)
	var te *onecard.TransportError
	require.ErrorAs(t, err, &te)
	assert.False(t, te.Sent, "a pulled cable refuses the connection: nothing left")
	online, _ := svc.Online()
	assert.False(t, online)
	found, err := svc.LookupCard(ctx, card)
	require.NoError(t, err)
	require.Len(t, found.Cards, 1)
	assert.True(t, found.Cards[0].Cached, "offline, the card seen a moment ago comes from the cache")

	o, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: money.Fen(12_00)})
	require.NoError(t, err)
	assert.Equal(t, agent.StateOfflineAccepted, o.State)

	msg, err = plat.toggleNetwork()
	require.NoError(t, err)
	assert.Contains(t, msg, "back")
	require.Eventually(t, func() bool {
		_, _ = svc.ReconcileAll(ctx)
		got, err := svc.Journal().Order(ctx, o.OrderNo)
		return err == nil && got.State == agent.StatePaid
	}, 20*time.Second, 100*time.Millisecond, "the recorded payment settles once the network is back")
	online, _ = svc.Online()
	assert.True(t, online)

	msg, err = plat.toggleDrops()
	require.NoError(t, err)
	assert.Contains(t, msg, "drops")
	_, err = svc.QueryCard(ctx, card)
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Sent, "a dropped request did leave")
	_, err = plat.toggleDrops()
	require.NoError(t, err)
	_, err = svc.QueryCard(ctx, card)
	require.NoError(t, err)

	for _, c := range sim.DemoCards() {
		assert.NotContains(t, logs.String(), c.CardID, "card numbers stay out of the log")
	}
	plat.Close()
	_, err = plat.toggleNetwork()
	assert.Error(t, err, "nothing to plug once the demo stopped")
}

func TestDemoStartsAfresh(t *testing.T) {
	dir := t.TempDir()
	plat, a, _ := openDemo(t, dir)
	_, err := a.Service.NewOrderNo(t.Context())
	require.NoError(t, err)

	// A second kiosk on the same directory finds the journal held.
	_, _, err = startDemo(dir, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, app.ErrInUse)

	require.NoError(t, a.Close())
	plat.Close()
	s, err := offline.Open(filepath.Join(dir, demo.Store))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	// The next run removes the journal of the last: that platform is gone.
	plat2, _, err := startDemo(dir, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer plat2.Close()
	_, err = os.Stat(filepath.Join(dir, demo.Store))
	assert.True(t, errors.Is(err, os.ErrNotExist), "stat: %v", err)
}

func TestKeyboardDevice(t *testing.T) {
	cfg := &config.Config{Devices: []config.Device{
		{Name: "reader", Spec: "serial:/dev/ttyUSB0"},
		{Name: "window", Spec: "keyboard:?kind=card"},
	}}
	name, err := keyboardDevice(cfg)
	require.NoError(t, err)
	assert.Equal(t, "window", name)

	cfg.Devices = append(cfg.Devices, config.Device{Name: "again", Spec: "keyboard:"})
	_, err = keyboardDevice(cfg)
	require.Error(t, err)
	assert.Equal(t, "devices[2].spec", config.Errors(err)[0].Field)

	name, err = keyboardDevice(&config.Config{})
	require.NoError(t, err)
	assert.Empty(t, name)
}

func TestUIOptions(t *testing.T) {
	cfg := &config.Config{
		Terminal: config.Terminal{TermID: "17"},
		UI: config.UI{Mode: config.ModeKiosk, Language: config.LangEnglish, IdleTimeout: time.Minute,
			PINHash: config.HashPIN("2580"), Font: "/f.ttf", Menu: demo.Menu()},
	}
	o := uiOptions(cfg, true)
	assert.Equal(t, "kiosk", string(o.Mode))
	assert.Equal(t, "en", o.Lang)
	assert.Equal(t, time.Minute, o.IdleTimeout)
	assert.Equal(t, "17", o.TermID)
	assert.True(t, o.Windowed)
	assert.Equal(t, "/f.ttf", o.FontPath)
	require.Len(t, o.Menu, len(cfg.UI.Menu))
	assert.Equal(t, cfg.UI.Menu[0].Name, o.Menu[0].Name)
	assert.Equal(t, cfg.UI.Menu[0].Price, o.Menu[0].Price)
	assert.NotNil(t, o.Now)
}

// TestDemoKeyboard follows what is typed into the window through the
// wiring start does: the keys to the keyboard input, its scans to the
// scan mapper, the lookup to the demo platform. (The screens' part is
// package ui's to test.)
func TestDemoKeyboard(t *testing.T) {
	_, a, _ := openDemo(t, t.TempDir())
	cfg := a.Config
	keyboard, err := keyboardDevice(cfg)
	require.NoError(t, err)
	require.Equal(t, demo.KeyboardDevice, keyboard)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	devs, err := app.OpenDevices(ctx, cfg, device.Options{}, nil)
	require.NoError(t, err)
	defer devs.Close()
	deps := uiDeps(a, devs, keyboard, nil)
	require.NotNil(t, deps.Keyboard)
	scans := deps.Scans.Scans(ctx)

	typeIn := func(text string) agent.Scan {
		t.Helper()
		for _, r := range text {
			deps.Keyboard(r, false)
		}
		deps.Keyboard(0, true)
		select {
		case s := <-scans:
			return s
		case <-time.After(5 * time.Second):
			t.Fatalf("no scan for %q", text)
		}
		return agent.Scan{}
	}
	zhang := sim.DemoCards()[0]
	q, err := deps.Mapper.Identify(typeIn(zhang.CardID))
	require.NoError(t, err)
	assert.Equal(t, agent.Identity{Type: "cardid", ID: zhang.CardID}, q)
	found, err := a.Service.LookupCard(ctx, q)
	require.NoError(t, err)
	require.Len(t, found.Cards, 1)
	assert.Equal(t, zhang.Name, found.Cards[0].Name)

	qr := sim.DemoCards()[5]
	q, err = deps.Mapper.Identify(typeIn(qr.Barcode))
	require.NoError(t, err)
	assert.Equal(t, "barcode", q.Type, "a payment code typed in is looked up as one")

	st := deps.Devices()
	require.Len(t, st, 1)
	assert.Equal(t, ui.DeviceStatus{Name: demo.KeyboardDevice, Connected: true, Scans: 2}, st[0])
}

// The demo's PIN goes through the journal's lockout: each attempt logged
// (never the PIN); five wrong ones lock diagnostics, in the journal.
func TestDemoPINLockout(t *testing.T) {
	dir := t.TempDir()
	_, a, _ := openDemo(t, dir)
	guard := pinGuard(a.Config, a.Store)
	require.NotNil(t, guard, "the demo's PIN guards diagnostics")
	var logs syncbuf.Buffer
	check := pinCheck(guard, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	assert.True(t, check(demo.PIN).OK)
	for range 4 {
		assert.False(t, check("258025").OK)
	}
	a5 := check("258025")
	require.True(t, a5.Locked)
	assert.False(t, check(demo.PIN).OK, "locked")
	assert.Contains(t, logs.String(), "diagnostics locked after too many wrong PINs")
	assert.NotContains(t, logs.String(), "258025", "the PIN is never logged")
	assert.NotContains(t, logs.String(), "pin="+demo.PIN)

	st, err := a.Store.PINState(t.Context())
	require.NoError(t, err)
	assert.True(t, a5.LockedUntil.Equal(st.LockedUntil), "journalled: %s", st.LockedUntil)
}

// Start-up warns of a missing PIN, and of a short one unless it is the
// demo's.
func TestPINWarning(t *testing.T) {
	with := func(pin string) *config.Config {
		cfg := &config.Config{}
		if pin != "" {
			cfg.UI.PINHash = config.HashPIN(pin)
		}
		return cfg
	}
	assert.Contains(t, pinWarning(with(""), false), "opens without a PIN")
	assert.Contains(t, pinWarning(with("2580"), false), "the diagnostics PIN has 4 digits: use 6 or more")
	assert.Empty(t, pinWarning(with("2580"), true), "the demo's PIN is short on purpose")
	assert.Empty(t, pinWarning(with("258013"), false))
}
