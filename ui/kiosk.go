// Package ui holds the kiosk's screens, drawn with Fyne: the self-service
// flow for students, the canteen flow for cashiers and the technicians'
// diagnostics, over the agent (Agent).
//
// The screens' state and the rules that move it are a plain Go type, the
// machine (machine.go), so that the flows can be tested without a window:
// the Kiosk feeds it taps, scans, ticks and answers, draws what it holds,
// and carries out the effects its transitions return (flow.go).
//
// Threading: Fyne widgets belong to the UI goroutine. Button callbacks run
// there; everything that may wait (the platform, the journal, a device
// list) runs on a goroutine of its own and hands its result back through
// fyne.Do. The UI goroutine is the only one touching the fields marked
// "UI goroutine only"; what other goroutines may read (State, Warnings)
// sits behind Kiosk.mu.
package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// Mode is what the terminal is used for.
type Mode string

// Modes.
const (
	// ModeKiosk is self-service: students pick and pay themselves.
	ModeKiosk Mode = "kiosk"
	// ModeCanteen is a cashier's terminal: an amount is armed and each
	// card scanned pays it.
	ModeCanteen Mode = "canteen"
	// ModeDiagnostics is the technicians' screen, behind the PIN. As a
	// starting mode it opens the PIN screen, with kiosk mode behind it.
	ModeDiagnostics Mode = "diagnostics"
)

// Outcomes, as State.LastResult reports them. A payment's are the agent's
// names of what the customer was told (agent.OutcomeKind), as the journal,
// the log and the metrics spell them.
const (
	ResultPaid           = string(agent.OutcomePaid)
	ResultDeclined       = string(agent.OutcomeDeclined)
	ResultOffline        = string(agent.OutcomeRecorded)       // recorded offline, will be confirmed
	ResultUnknown        = string(agent.OutcomeWillConfirm)    // sent, no answer: will be confirmed
	ResultOfflineRefused = string(agent.OutcomeRefusedOffline) // platform unreachable, outside the offline limits
	// ResultNotCharged: it never reached the platform (agent.OutcomeNotCharged),
	// or was refused before anything was journalled.
	ResultNotCharged   = "not_charged"
	ResultCardRefused  = "card_refused"  // lost, frozen or expired card
	ResultLookupFailed = "lookup_failed" // card not found or not looked up
	// ResultPasswordLocked: too many wrong card passwords; not charged.
	ResultPasswordLocked = "password_locked"
)

// MenuItem is one thing for sale: a kiosk menu entry, or a canteen
// fixed-price button.
type MenuItem struct {
	Name  string
	Price money.Fen
}

// DeviceStatus is one scanner's state, for the status bar and diagnostics.
type DeviceStatus struct {
	Name      string
	Connected bool
	LastError string
	Scans     int
	Dropped   int
}

// Options configure the screens.
type Options struct {
	// Mode is the starting mode; empty means canteen, the config default.
	Mode Mode
	// Lang is "zh" (default) or "en".
	Lang string
	// Menu is the kiosk menu and the canteen's fixed-price buttons.
	Menu []MenuItem
	// IdleTimeout sends every screen back to its mode's home after this
	// long without a touch or a scan; default 30s.
	IdleTimeout time.Duration
	// TermID is shown in the status bar.
	TermID string
	// Windowed keeps a normal window (development) instead of full screen.
	Windowed bool
	// FontPath is a font with Chinese characters (.ttf, .otf or .ttc);
	// empty tries the usual system Noto CJK and WenQuanYi paths. The
	// screens draw Chinese with it and Latin with Fyne's own fonts (see
	// kioskTheme). Without one, or when it lacks characters the screens
	// show, Warnings and MissingGlyphs say so: those draw as boxes.
	FontPath string
	// Now is the clock shown and used for the idle timeout; default
	// time.Now.
	Now func() time.Time
	// Version is the program's version, shown in diagnostics; empty shows
	// "dev".
	Version string
	// ConfigSummary is shown in diagnostics, one line each ("termid 17",
	// "mode canteen"). It must hold no secret: diagnostics shows it as is.
	ConfigSummary []string

	// fontPaths replaces the system font paths searched (tests: none, so
	// that no test depends on the machine's fonts); nil means the default.
	fontPaths []string
}

// Deps are the parts the screens drive.
type Deps struct {
	// Agent takes the payments; required (an *agent.Service).
	Agent Agent
	// Scans delivers the scanners' reads; nil for none.
	Scans agent.ScanSource
	// Mapper turns a scan into the identity to look up; nil maps by scan
	// kind only.
	Mapper *agent.ScanMapper
	// Devices reports the scanners' states; nil for none. It is called off
	// the UI goroutine about once a second.
	Devices func() []DeviceStatus
	// Keyboard receives the keys typed in the window (a keyboard-wedge
	// scanner, or a developer typing a card number); nil ignores them. It
	// is called on the UI goroutine and must not block.
	Keyboard func(r rune, enter bool)
	// Extra adds buttons to diagnostics, such as the demo's network switch.
	Extra []DiagnosticAction
	// LogLines returns the latest log lines, oldest first, already masked
	// as the log is; nil shows none. Diagnostics shows the last ten. It is
	// called off the UI goroutine.
	LogLines func() []string
	// CheckPIN tries pin for diagnostics; nil opens diagnostics without a
	// PIN. The screens keep no PIN of their own: the program checks it
	// against the configuration through its lockout guard
	// (agent.PINGuard), which journals a wrong PIN before answering. It
	// is called on the UI goroutine: one journal commit at most.
	CheckPIN func(pin string) agent.PINAttempt
	// Signal is told each result once, as it is shown (a Result
	// constant), so that the terminal can sound it: in a canteen queue
	// the cashier hears a payment rather than watching for it. It is
	// called on the UI goroutine and must not block; nil is silent.
	Signal func(result string)
}

// DiagnosticAction is an extra diagnostics button. Do runs off the UI
// goroutine; its text (or error) is shown when it returns.
type DiagnosticAction struct {
	Label string
	Do    func(ctx context.Context) (string, error)
}

// State is what the kiosk shows, for tests and the smoke test.
type State struct {
	Mode Mode
	// Screen is the screen shown, one of the Screen constants.
	Screen     string
	Online     bool
	Unfinished int
	// LastResult is the last outcome shown (a Result constant), "" before
	// the first.
	LastResult string
}

// Kiosk is the terminal's window: it draws the machine's screens and runs
// the work they ask for.
type Kiosk struct {
	app    fyne.App
	win    fyne.Window
	deps   Deps
	opts   Options
	mapper *agent.ScanMapper
	// post runs a function on the UI goroutine: fyne.Do, or a test's pump.
	post func(func())

	mu       sync.Mutex
	st       State
	warnings []string
	runCtx   context.Context
	active   int // goroutines running (spawn)
	closing  bool
	idleCond *sync.Cond

	// UI goroutine only.
	tx           texts
	m            *machine           // the screen state: what is shown, what it waits for
	cancelLookup context.CancelFunc // cancels the lookup in flight
	online       bool
	since        time.Time
	unfinished   int
	devices      []DeviceStatus
	lastScan     string
	diagMsg      string   // the answer of the last diagnostics action
	diag         diagInfo // what diagnostics read off the UI goroutine
	diagPending  bool     // New opened diagnostics: Run starts its read
	bar          *statusBar
	s            screens                     // every screen's widgets, built once (screens.go)
	page         *fyne.Container             // holds the screen shown, under the status bar
	frame        *fyne.Container             // the window's content: the status bar over page
	spinner      *widget.ProgressBarInfinite // on screen, to stop when it leaves
	newTexts     int                         // texts changed since the window's text textures were flushed (render)
	// diagLive are the diagnostics lines that move with the clock (the
	// token's time left, the clock offset), set each tick on their own
	// rather than by a render of the whole list.
	diagLive struct{ token, clock *widget.Label }
	hasCJK   bool    // a Chinese font was loaded
	cjk      cjkFont // the Chinese font given to Fyne; cut again by cover
	// missing are the characters the screens show that no loaded font
	// has (missingGlyphs); set by New, read-only after.
	missing string
}

// New builds the kiosk window (not shown: the caller shows it and runs
// the app) on the idle screen of the starting mode.
func New(app fyne.App, deps Deps, o Options) (*Kiosk, error) {
	if deps.Agent == nil {
		return nil, errors.New("ui: no agent")
	}
	switch o.Mode {
	case "":
		o.Mode = ModeCanteen
	case ModeKiosk, ModeCanteen, ModeDiagnostics:
	default:
		return nil, fmt.Errorf("ui: unknown mode %q (kiosk, canteen or diagnostics)", o.Mode)
	}
	switch o.Lang {
	case "":
		o.Lang = langZH
	case langZH, langEN:
	default:
		return nil, fmt.Errorf("ui: unknown language %q (zh or en)", o.Lang)
	}
	for i, it := range o.Menu {
		if strings.TrimSpace(it.Name) == "" || it.Price <= 0 {
			return nil, fmt.Errorf("ui: menu item %d (%q, %s): needs a name and a price above zero", i+1, it.Name, it.Price)
		}
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	k := &Kiosk{
		app: app, deps: deps, opts: o, post: fyne.Do,
		mapper: deps.Mapper, runCtx: context.Background(), tx: newTexts(o.Lang),
	}
	k.idleCond = sync.NewCond(&k.mu)
	if k.mapper == nil {
		k.mapper = agent.NewScanMapper(nil, nil)
	}
	paths := o.fontPaths
	if paths == nil {
		paths = defaultFontPaths()
	}
	texts := shownTexts(o, deps)
	cjk, warnings := loadCJKFont(o.FontPath, paths, texts)
	k.cjk, k.hasCJK = cjk, cjk.res != nil
	if k.missing = missingGlyphs(texts, cjk.has); k.missing != "" {
		warnings = append(warnings, fontMissingText(k.missing))
	}
	k.warnings = warnings
	app.Settings().SetTheme(&kioskTheme{cjk: cjk.res})

	k.win = app.NewWindow("CampusPOS")
	if o.Windowed {
		k.win.Resize(fyne.NewSize(1024, 600))
	} else {
		k.win.SetFullScreen(true)
	}
	k.win.Canvas().SetOnTypedRune(func(r rune) {
		k.touch()
		if k.deps.Keyboard != nil {
			k.deps.Keyboard(r, false)
		}
	})
	k.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if k.deps.Keyboard != nil && (e.Name == fyne.KeyReturn || e.Name == fyne.KeyEnter) {
			k.deps.Keyboard(0, true)
		}
	})

	k.online, k.since = deps.Agent.Online()
	k.st.Online = k.online
	m, first := newMachine(o.Mode, o.IdleTimeout, deps.CheckPIN, o.Now())
	k.m = m
	m.needPassword = deps.Agent.PasswordRequired
	k.bar = newStatusBar(k)
	k.buildScreens()
	k.page = container.NewPadded(k.s.idle.col.box)
	k.frame = container.NewBorder(k.bar.obj, nil, nil, nil, k.page)
	// Diagnostics as the starting mode: its read starts in Run, as New
	// starts no goroutine.
	k.diagPending, first.diagnostics = first.diagnostics, false
	k.apply(first)
	// Set once the first screen is in: the window takes its minimum size.
	k.win.SetContent(k.frame)
	k.newTexts = 0
	return k, nil
}

// Window returns the kiosk's window.
func (k *Kiosk) Window() fyne.Window { return k.win }

// Warnings returns what the kiosk could not set up as configured (such as
// a missing Chinese font), for the log.
func (k *Kiosk) Warnings() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.warnings...)
}

// MissingGlyphs returns the characters, once each, that the screens show
// and no loaded font has, "" when there is none: those Fyne draws as
// boxes, or takes from a font the kiosk did not choose. They are the
// catalogue's in both languages (the language toggle reaches either),
// the menu's and diagnostics' texts known at start-up; a card holder's
// name is not known in advance. Safe from any goroutine.
func (k *Kiosk) MissingGlyphs() string { return k.missing }

// State returns what the kiosk shows; safe from any goroutine.
func (k *Kiosk) State() State {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.st
}

// Run starts the goroutines that feed the screens: scans, service events
// (connectivity, settlements) and the clock with the idle timeout. They
// stop when ctx ends; call Run once, before the app's event loop. It does
// not show the window.
func (k *Kiosk) Run(ctx context.Context) {
	k.mu.Lock()
	k.runCtx = ctx
	k.mu.Unlock()
	k.spawn(func() { k.scanLoop(ctx) })
	k.spawn(func() { k.eventLoop(ctx) })
	k.spawn(func() { k.tickLoop(ctx) })
	k.spawn(func() { k.post(k.startPendingDiagnostics) })
}

// Wait blocks until every goroutine the kiosk started has returned: after
// Run's ctx ended, a payment in flight is still recorded in the journal, so
// call Wait before closing the store. No goroutine starts after Wait.
func (k *Kiosk) Wait() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closing = true
	for k.active > 0 {
		k.idleCond.Wait()
	}
}

// spawn runs fn on a goroutine that Wait waits for; false (fn not run)
// once Wait was called.
func (k *Kiosk) spawn(fn func()) bool {
	k.mu.Lock()
	if k.closing {
		k.mu.Unlock()
		return false
	}
	k.active++
	k.mu.Unlock()
	go func() {
		defer func() {
			k.mu.Lock()
			k.active--
			if k.active == 0 {
				k.idleCond.Broadcast()
			}
			k.mu.Unlock()
		}()
		fn()
	}()
	return true
}

func (k *Kiosk) ctx() context.Context {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.runCtx
}

// scanLoop hands every scan to the UI goroutine.
func (k *Kiosk) scanLoop(ctx context.Context) {
	if k.deps.Scans == nil {
		return
	}
	scans := k.deps.Scans.Scans(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-scans:
			if !ok {
				return
			}
			k.post(func() { k.onScan(s) })
		}
	}
}

// eventLoop keeps the status bar's connectivity and unfinished count
// current: read once, then again on every event.
func (k *Kiosk) eventLoop(ctx context.Context) {
	svc := k.deps.Agent
	// Subscribed before the first read, so that no change falls between.
	events := svc.Subscribe(ctx)
	for {
		online, since := svc.Online()
		n, err := svc.UnfinishedCount(ctx)
		k.post(func() {
			k.setOnline(online, since)
			if err == nil {
				k.setUnfinished(n)
			}
		})
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
		}
	}
}

// tickEvery is the clock's period: a second, or a tenth of the idle
// timeout when that is shorter, so that the timeout is kept to 10%.
func (k *Kiosk) tickEvery() time.Duration {
	return max(10*time.Millisecond, min(time.Second, k.opts.IdleTimeout/10))
}

// tickLoop updates the clock and device states and applies the idle
// timeout. Devices are read here, off the UI goroutine, at most once a
// second.
func (k *Kiosk) tickLoop(ctx context.Context) {
	t := time.NewTicker(k.tickEvery())
	defer t.Stop()
	var devRead time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := k.opts.Now()
		var devs []DeviceStatus
		fresh := false
		if k.deps.Devices != nil && time.Since(devRead) >= time.Second {
			devs, fresh, devRead = k.deps.Devices(), true, time.Now()
		}
		k.post(func() { k.tick(now, devs, fresh) })
	}
}

// tick runs on the UI goroutine.
func (k *Kiosk) tick(now time.Time, devs []DeviceStatus, fresh bool) {
	// Rendered only on a change: a render sets every line of the list.
	if fresh && !slices.Equal(devs, k.devices) {
		k.devices = devs
		if k.m.screen == ScreenDiagnostics {
			k.render()
		}
	}
	k.bar.update()
	if k.m.screen == ScreenDiagnostics {
		k.updateDiagLive(now)
	}
	k.apply(k.m.tick(now))
}

// touch notes activity: the idle timeout counts from the last one.
func (k *Kiosk) touch() { k.m.touch(k.opts.Now()) }

func (k *Kiosk) setOnline(online bool, since time.Time) {
	k.online, k.since = online, since
	k.mu.Lock()
	k.st.Online = online
	k.mu.Unlock()
	k.bar.update()
	if k.m.screen == ScreenDiagnostics {
		k.render()
	}
}

func (k *Kiosk) setUnfinished(n int) {
	k.unfinished = n
	k.mu.Lock()
	k.st.Unfinished = n
	k.mu.Unlock()
	k.bar.update()
	if k.m.screen == ScreenDiagnostics {
		k.render()
	}
}

// setLang switches the language and redraws.
func (k *Kiosk) setLang(lang string) {
	k.tx = newTexts(lang)
	k.bar.update()
	k.render()
}

// langLabel names the other language on its toggle: "中文", or "ZH" when
// no Chinese font was found and 中文 would be two boxes.
func (k *Kiosk) langLabel() string {
	if k.tx.lang == langEN && !k.hasCJK {
		return "ZH"
	}
	return k.tx.t(mLangToggle)
}

// toggleLang switches between Chinese and English.
func (k *Kiosk) toggleLang() {
	if k.tx.lang == langZH {
		k.setLang(langEN)
	} else {
		k.setLang(langZH)
	}
}

// button makes a button whose tap counts as activity.
func (k *Kiosk) button(label string, tapped func()) *widget.Button {
	return widget.NewButton(label, func() {
		k.touch()
		tapped()
	})
}
