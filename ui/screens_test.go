package ui

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// widgetSet holds the widgets screens showed, their renderers' parts
// included, so that a later show can be checked against them.
type widgetSet map[fyne.Widget]bool

func (s widgetSet) note(h *harness) {
	for _, o := range h.objects() {
		if w, ok := o.(fyne.Widget); ok {
			s[w] = true
		}
	}
}

// made lists the widgets on screen that s does not hold.
func (s widgetSet) made(h *harness) []string {
	var out []string
	for _, o := range h.objects() {
		w, ok := o.(fyne.Widget)
		if !ok || s[w] {
			continue
		}
		switch w := w.(type) {
		case *widget.Label:
			out = append(out, fmt.Sprintf("label %q", w.Text))
		case *widget.Button:
			out = append(out, fmt.Sprintf("button %q", w.Text))
		default:
			out = append(out, fmt.Sprintf("%T", w))
		}
	}
	return out
}

// The screens are built once and updated in place (issue 14): the second
// payment through them, and the next in the other language, show the
// very widgets of the first, with new texts.
func TestPaymentsReuseTheScreens(t *testing.T) {
	t.Run("kiosk", func(t *testing.T) {
		h := newHarness(t, nil)
		pay := func(each func()) {
			n := len(h.r.charges(sim.DemoRich))
			h.scan(agent.ScanCard, cardRich)
			h.waitScreen(ScreenCard)
			each()
			h.tap("Coffee  ¥5.00")
			each()
			h.tap(h.k.tx.t(mConfirm))
			each()
			h.waitFor("the paid result", func() bool {
				return len(h.r.charges(sim.DemoRich)) == n+1 && h.k.State().Screen == ScreenResult
			})
			each()
			h.tap(h.k.tx.t(mDone))
			each()
		}
		seen := widgetSet{}
		pay(func() { seen.note(h) })
		check := func() { assert.Empty(t, seen.made(h), "made anew on screen %s", h.k.State().Screen) }
		pay(check)
		h.k.toggleLang()
		check()
		pay(check)
	})
	t.Run("canteen", func(t *testing.T) {
		h := newHarness(t, func(o *Options, _ *Deps) { o.Mode = ModeCanteen })
		h.tap("Coffee  ¥5.00")
		pay := func(each func()) {
			n := len(h.r.charges(sim.DemoRich))
			h.scan(agent.ScanCard, cardRich)
			h.waitFor("the paid result", func() bool {
				return len(h.r.charges(sim.DemoRich)) == n+1 && h.k.State().Screen == ScreenResult
			})
			each()
		}
		seen := widgetSet{}
		seen.note(h)
		pay(func() { seen.note(h) })
		pay(func() { assert.Empty(t, seen.made(h), "made anew") })
	})
}
