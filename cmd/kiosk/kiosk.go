package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/logging"
	"github.com/campuspos/kiosk/cmd/internal/status"
	"github.com/campuspos/kiosk/device"
	"github.com/campuspos/kiosk/ui"
)

// appID is the Fyne application ID: it names the kiosk's preferences
// directory, so it must stay the same from release to release.
const appID = "io.github.campuspos.kiosk"

// onScreens, when set, runs on a goroutine of its own once the screens
// run, until ctx ends: the screen test (screens_test.go) sets it in the
// child process to drive and capture the real kiosk's screens.
var onScreens func(ctx context.Context, k *ui.Kiosk)

// start runs the kiosk until the window closes or ctx ends (SIGTERM), then
// stops everything it started, in reverse order.
func start(ctx context.Context, stop func(), f flags, stderr io.Writer, getenv func(string) string) error {
	// The log's last lines, in its own text, for the diagnostics screen.
	ring := newLogRing(logRingSize)
	logTo := io.MultiWriter(stderr, ring)
	// The defaults until the configuration says otherwise; masked already.
	log, err := logging.New(logTo, config.Log{})
	if err != nil {
		return err
	}
	if !hasDisplay(getenv) {
		// Checked first: without a display the UI library fails deep
		// inside its driver, after the store and scanners were opened.
		return errors.New("no display (neither DISPLAY nor WAYLAND_DISPLAY is set); `make run` falls back to the headless demo")
	}

	path := configPath(f, getenv)
	var extra []ui.DiagnosticAction
	if f.demo != "" {
		plat, kioskYAML, err := startDemo(f.demo, log)
		if err != nil {
			return err
		}
		defer plat.Close()
		path, extra = kioskYAML, plat.actions()
	}

	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if log, err = logging.New(logTo, cfg.Log); err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	if w := pinWarning(cfg, f.demo != ""); w != "" {
		log.Warn(w)
	}
	keyboard, err := keyboardDevice(cfg)
	if err != nil {
		return err
	}

	orders, metrics := logging.NewOrderLog(log), status.NewMetrics()
	// The locked cards are read from the agent, which exists only once
	// OpenWith returns; nothing scrapes before then.
	var a *app.App
	cardPasswords := status.NewCardPasswordMetrics(func(ctx context.Context) (int, error) {
		return a.Service.CardPasswordLocks(ctx)
	})
	a, err = app.OpenWith(cfg, agent.SystemClock{}, app.Hooks{
		Call: func(c onecard.CallInfo) {
			orders.Call(c)
			metrics.ObserveCall(c)
		},
		Order: func(ctx context.Context, c agent.OrderChange) {
			orders.Order(ctx, c)
			metrics.ObserveOrder(ctx, c)
		},
		Password: func(c agent.PasswordCheck) {
			logCardPassword(log, c)
			cardPasswords.Observe(c)
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Error("closing the journal", "err", err)
		}
	}()
	if r, ok := a.Store.Restored(); ok {
		log.Warn("the journal is older than order numbers this terminal used: restored from a backup? "+
			"New order numbers continue past them; reconcile the bill of every day since the copy (kioskctl bill --reconcile)",
			"journal_reserved", r.Reserved, "guard_reserved", r.Guard)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	devs, err := app.OpenDevices(runCtx, cfg, device.Options{}, log)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer func() {
		// The reconciler, settlement, the state file and the signal
		// watcher end with runCtx; the screens' goroutines were waited
		// for already.
		cancel()
		if err := devs.Close(); err != nil {
			log.Warn("closing the scanners", "err", err)
		}
		wg.Wait()
	}()

	if st := cfg.Settlement; st.Enabled {
		log.Info("daily settlement", "at", st.AtClock(), "timezone", cfg.Platform.Timezone,
			"jitter", st.Jitter, "catch_up_days", st.CatchUpDays)
	} else {
		log.Warn("settlement.enabled is false: the terminal does not settle its days; " +
			"bills are then reconciled only by kioskctl bill --reconcile")
	}
	// Each runs until runCtx ends; an error before that is logged.
	runUntilDone := func(name string, run func(context.Context) error) {
		wg.Go(func() {
			if err := run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error(name+" stopped", "err", err)
			}
		})
	}
	runUntilDone("reconciler", a.Service.RunReconciler)
	runUntilDone("settlement", a.Service.RunSettlement)
	// No hash, no guard: diagnostics opens without a PIN (start warns).
	guard := pinGuard(cfg, a.Store)
	var pinMetrics *status.PINMetrics
	if guard != nil {
		pinMetrics = status.NewPINMetrics(guard.State, time.Now)
	}
	// The characters the screens show and no font has, for the status
	// endpoint, which starts before the screens: "" until ui.New below.
	var screens atomic.Pointer[ui.Kiosk]
	missingGlyphs := func() string {
		if k := screens.Load(); k != nil {
			return k.MissingGlyphs()
		}
		return ""
	}
	var statusAddr string // as bound, for the state file
	if cfg.Status.Listen != "" {
		srv := status.New(status.Options{Config: cfg, Agent: a.Service, Tokens: a.Store, Devices: devs.Status,
			Metrics: metrics, PIN: pinMetrics, CardPassword: cardPasswords, MissingGlyphs: missingGlyphs, Version: version(), Log: log})
		// Listening here, not in the goroutine, so that a port in use stops
		// the start-up with its reason instead of a kiosk that is silently
		// unwatched.
		ln, err := net.Listen("tcp", cfg.Status.Listen)
		if err != nil && f.demo != "" && errors.Is(err, syscall.EADDRINUSE) {
			// A second demo on one machine (or a test beside `make run`).
			log.Warn("status.listen is in use: the demo takes a free port", "listen", cfg.Status.Listen)
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			return fmt.Errorf("status.listen: %w", err)
		}
		statusAddr = ln.Addr().String()
		log.Info("status endpoint", "addr", ln.Addr().String())
		wg.Go(func() {
			if err := srv.Serve(runCtx, ln); err != nil {
				log.Error("status endpoint stopped", "err", err)
			}
		})
	}

	fa := fyneapp.NewWithID(appID)
	deps := uiDeps(a, devs, keyboard, extra)
	deps.LogLines = ring.Lines
	if guard != nil {
		deps.CheckPIN = pinCheck(guard, log, pinMetrics)
	}
	if len(cfg.UI.SoundCommand) > 0 {
		snd := newSounder(runCtx, cfg.UI.SoundCommand, log)
		defer snd.Wait()
		deps.Signal = snd.play
	}
	k, err := ui.New(fa, deps, uiOptions(cfg, f.windowed))
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	screens.Store(k)
	// Setting up allocated far more than it keeps (cutting the Chinese
	// font alone: ~20 MiB, ui/cjkfont.go), and the Go runtime would hold
	// the freed memory up to its next GC goal, about twice what is live:
	// tens of MiB of a small terminal's memory for nothing. Give it back
	// once, now.
	debug.FreeOSMemory()
	for _, w := range k.Warnings() {
		log.Warn(w)
	}
	// Run starts the screens' goroutines and returns; Wait is for them,
	// and for a payment in flight to reach the journal, before the store
	// closes (this defer runs before those that close it).
	k.Run(runCtx)
	defer func() {
		cancel()
		k.Wait()
	}()
	if statePath := getenv("KIOSK_STATE_FILE"); statePath != "" {
		wg.Go(func() { exposeState(runCtx, statePath, k, statusAddr, log) })
	}
	if onScreens != nil {
		wg.Go(func() { onScreens(runCtx, k) })
	}
	wg.Go(func() {
		select {
		case <-ctx.Done():
			// A second signal now kills the process: a shutdown that
			// hangs must not need kill -9 to end.
			stop()
			log.Info("shutting down")
			fyne.Do(fa.Quit)
		case <-runCtx.Done():
		}
	})

	log.Info("kiosk started", "config", path, "termid", cfg.Terminal.TermID, "mode", cfg.UI.Mode)
	// Full screen unless --windowed: ui.Options.Windowed tells New.
	k.Window().ShowAndRun()
	return nil
}

// hasDisplay reports whether a window can be opened: on Linux and the
// BSDs an X or Wayland display must be named; elsewhere there always is
// one.
func hasDisplay(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "android":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// uiDeps connects the screens to the agent, the scanners and the
// configured diagnostics PIN; keyboard is the keyboard input's name, or "".
func uiDeps(a *app.App, devs *app.Devices, keyboard string, extra []ui.DiagnosticAction) ui.Deps {
	d := ui.Deps{
		Agent:    a.Service,
		Scans:    devs,
		Mapper:   app.ScanMapper(a.Config),
		Devices:  func() []ui.DeviceStatus { return deviceStatus(devs.Status()) },
		Keyboard: keyboardFunc(devs, keyboard),
		Extra:    extra,
	}
	return d
}

// uiOptions translates the configuration into the screens' options.
func uiOptions(cfg *config.Config, windowed bool) ui.Options {
	menu := make([]ui.MenuItem, len(cfg.UI.Menu))
	for i, m := range cfg.UI.Menu {
		menu[i] = ui.MenuItem{Name: m.Name, Price: m.Price}
	}
	return ui.Options{
		Mode:        ui.Mode(cfg.UI.Mode),
		Lang:        cfg.UI.Language,
		Menu:        menu,
		IdleTimeout: cfg.UI.IdleTimeout,
		TermID:      cfg.Terminal.TermID,
		Windowed:    windowed,
		FontPath:    cfg.UI.Font,
		Now:         time.Now,
		Version:     version(),
		// Shown on the diagnostics screen: nothing secret goes in.
		ConfigSummary: configSummary(cfg),
	}
}

// version is the main module's version from the build information, with
// the VCS revision when known; "dev" for a development build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

// configSummary is the configuration as diagnostics shows it: where the
// platform is and what this terminal is, never a secret (no app_key,
// app_secret or key material; a URL loses any user info and query).
func configSummary(cfg *config.Config) []string {
	out := []string{
		"platform " + safeURL(cfg.Platform.URL),
		"bill " + safeURL(cfg.Platform.BillURL),
		"timezone " + cfg.Platform.Timezone,
		"termid " + cfg.Terminal.TermID,
		"merchant " + cfg.Terminal.MercAcc,
		"mode " + cfg.UI.Mode,
		"language " + cfg.UI.Language,
		fmt.Sprintf("devices %d", len(cfg.Devices)),
		"journal " + cfg.Store.Path,
	}
	if cfg.Platform.PublicKey == nil {
		out = append(out, "reply signatures not verified (no platform public key)")
	}
	return out
}

// safeURL drops a URL's user info, query and fragment, which may carry
// credentials.
func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// keyboardDevice returns the name of the configured keyboard input (the
// kiosk window's keys), or "". There can be one: every key typed in the
// window goes to it.
func keyboardDevice(cfg *config.Config) (string, error) {
	specs, err := app.DeviceSpecs(cfg)
	if err != nil {
		return "", err
	}
	name := ""
	for i, s := range specs {
		if s.Type != device.TypeKeyboard {
			continue
		}
		if name != "" {
			return "", &config.Error{File: cfg.File, Field: fmt.Sprintf("devices[%d].spec", i),
				Err: fmt.Errorf("a second keyboard input; the window's keys already go to %q", name)}
		}
		name = s.Name
	}
	return name, nil
}

// keyboardFunc passes the window's keys to the keyboard input, or is nil
// when there is none.
func keyboardFunc(devs *app.Devices, name string) func(r rune, enter bool) {
	if name == "" {
		return nil
	}
	kb := devs.Keyboard(name)
	if kb == nil {
		return nil
	}
	return func(r rune, enter bool) {
		if enter {
			kb.Key(device.KeyEnter)
			return
		}
		kb.Type(r)
	}
}

// deviceStatus is the part of the devices' status the screens show.
func deviceStatus(in []device.Status) []ui.DeviceStatus {
	out := make([]ui.DeviceStatus, len(in))
	for i, s := range in {
		out[i] = ui.DeviceStatus{Name: s.Name, Connected: s.Connected, LastError: s.LastError, Scans: s.Scans, Dropped: s.Dropped}
	}
	return out
}
