package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/agenttest"
)

// testFont is a subset of Droid Sans Fallback (Apache-2.0) holding the
// Chinese characters the screens and tests use, so that the reference
// images never depend on the fonts of the machine running the tests
// (TestTestFontCoversTheCatalogue keeps it complete).
const testFont = "testdata/font/DroidSansFallback-subset.ttf"

// testMenu is the menu the tests sell from.
func testMenu() []MenuItem {
	return []MenuItem{{Name: "米饭套餐", Price: 12_00}, {Name: "牛肉面", Price: 8_50}, {Name: "Coffee", Price: 5_00}}
}

// testPIN is the diagnostics PIN of the tests.
const testPIN = "2468"

// checkTestPIN is the tests' Deps.CheckPIN where the lockout is not what
// they test: the program checks the PIN against its configuration, which
// the screens never see.
func checkTestPIN(pin string) agent.PINAttempt { return agent.PINAttempt{OK: pin == testPIN} }

// rig is a real agent.Service (agenttest.Rig: the simulator over loopback
// HTTP, a bbolt journal, one movable clock for both) whose network a test
// can cut, like a pulled cable.
type rig struct {
	*agenttest.Rig
	net *agenttest.NetSwitch
}

func newRig(t testing.TB) *rig {
	t.Helper()
	sw := &agenttest.NetSwitch{}
	return &rig{Rig: agenttest.NewRig(t, agenttest.WrapTransport(sw.Wrap)), net: sw}
}

// scanFeed is the UI's input edge: what a scanner would deliver.
type scanFeed chan agent.Scan

func (f scanFeed) Scans(context.Context) <-chan agent.Scan { return f }

// harness drives a Kiosk on a test app. The test goroutine is the UI
// goroutine: Fyne's test driver runs fyne.Do at once on the calling
// goroutine, which would race with the test's taps, so the kiosk's
// goroutines post to a queue that the test runs while it waits.
type harness struct {
	t      testing.TB
	r      *rig
	k      *Kiosk
	scans  scanFeed
	queue  chan func()
	cancel context.CancelFunc
}

// newHarness starts a kiosk over a fresh rig; edit adjusts the options
// (English, canteen mode, the test font and clock by default).
func newHarness(t *testing.T, edit func(*Options, *Deps)) *harness {
	t.Helper()
	h := startKiosk(t, test.NewTempApp(t), newRig(t), edit)
	t.Cleanup(h.stop)
	return h
}

// startKiosk starts a kiosk on app over r; stop ends it. Benchmarks use it
// directly to start many kiosks on one app and rig.
func startKiosk(tb testing.TB, app fyne.App, r *rig, edit func(*Options, *Deps)) *harness {
	tb.Helper()
	h := &harness{t: tb, r: r, scans: make(scanFeed), queue: make(chan func(), 64)}
	o := Options{Mode: ModeKiosk, Lang: "en", Menu: testMenu(), TermID: "0017", Windowed: true,
		FontPath: testFont, Now: r.Clock.Now, fontPaths: []string{}}
	d := Deps{Agent: r.Service, Scans: h.scans, CheckPIN: checkTestPIN}
	if edit != nil {
		edit(&o, &d)
	}
	k, err := New(app, d, o)
	require.NoError(tb, err)
	require.Empty(tb, k.Warnings(), "the test font loads")
	h.k = k
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	k.post = func(fn func()) {
		select {
		case h.queue <- fn:
		case <-ctx.Done():
		}
	}
	k.Window().Resize(fyne.NewSize(1024, 600))
	k.Run(ctx)
	return h
}

// stop ends the kiosk's goroutines.
func (h *harness) stop() {
	h.cancel()
	h.k.Wait()
}

// waitFor runs the kiosk's posted work until cond holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case fn := <-h.queue:
			fn()
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; state %+v, screen shows %q", what, h.k.State(), h.texts())
		}
	}
}

// runPosted runs the next n pieces of posted work (ticks, answers).
func (h *harness) runPosted(n int) {
	h.t.Helper()
	for range n {
		select {
		case fn := <-h.queue:
			fn()
		case <-time.After(10 * time.Second):
			h.t.Fatal("nothing was posted")
		}
	}
}

func (h *harness) waitScreen(screen string) {
	h.t.Helper()
	h.waitFor("screen "+screen, func() bool { return h.k.State().Screen == screen })
}

// scan delivers a scan, running the UI while the scan loop hands it over.
func (h *harness) scan(kind, text string) {
	h.t.Helper()
	s := agent.Scan{Device: "reader", Kind: kind, Text: text, Time: h.r.Clock.Now()}
	for {
		select {
		case h.scans <- s:
			return
		case fn := <-h.queue:
			fn()
		case <-time.After(10 * time.Second):
			h.t.Fatal("the scan loop took no scan")
		}
	}
}

// objects lists what the window shows: the visible objects, and the parts
// of each widget as its renderer on screen holds them. (Not
// test.LaidOutObjects, which makes a new renderer for every widget each
// time: the benchmarks would count those as the screens' allocations.)
func (h *harness) objects() []fyne.CanvasObject {
	return visibleObjects(nil, h.k.Window().Canvas().Content())
}

// visibleObjects appends o, unless hidden, and what it shows, depth first.
func visibleObjects(out []fyne.CanvasObject, o fyne.CanvasObject) []fyne.CanvasObject {
	if o == nil || !o.Visible() {
		return out
	}
	out = append(out, o)
	var children []fyne.CanvasObject
	switch c := o.(type) {
	case fyne.Widget:
		children = test.WidgetRenderer(c).Objects()
	case *fyne.Container:
		children = c.Objects
	}
	for _, child := range children {
		out = visibleObjects(out, child)
	}
	return out
}

// texts lists the labels and buttons shown.
func (h *harness) texts() []string {
	var out []string
	for _, o := range h.objects() {
		switch w := o.(type) {
		case *widget.Label:
			if w.Text != "" {
				out = append(out, w.Text)
			}
		case *widget.Button:
			out = append(out, "["+w.Text+"]")
		}
	}
	return out
}

// shows reports whether a label containing s is on screen.
func (h *harness) shows(s string) bool {
	for _, txt := range h.texts() {
		if strings.Contains(txt, s) {
			return true
		}
	}
	return false
}

// tap taps the enabled button labelled label.
func (h *harness) tap(label string) {
	h.t.Helper()
	for _, o := range h.objects() {
		if b, ok := o.(*widget.Button); ok && b.Text == label && !b.Disabled() {
			test.Tap(b)
			return
		}
	}
	h.t.Fatalf("no button %q; screen shows %q", label, h.texts())
}

// keys taps keypad keys, one per character.
func (h *harness) keys(s string) {
	h.t.Helper()
	for _, r := range s {
		h.tap(string(r))
	}
}
