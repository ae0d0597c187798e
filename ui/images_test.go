package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/campuspos/kiosk/agent"
)

// TestReferenceImages keeps the main screens as images, so that a layout
// regression shows. Fyne's test driver renders in software with the test
// font; a missing master is written to testdata/failed/ for review.
func TestReferenceImages(t *testing.T) {
	for _, lang := range []string{langEN, langZH} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, func(o *Options, _ *Deps) { o.Lang = lang })
			test.AssertImageMatches(t, "idle_"+lang+".png", h.k.Window().Canvas().Capture())

			h.scan(agent.ScanCard, cardNormal)
			h.waitScreen(ScreenCard)
			test.AssertImageMatches(t, "card_"+lang+".png", h.k.Window().Canvas().Capture())

			h.tap("米饭套餐  ¥12.00")
			h.tap(h.k.tx.t(mConfirm))
			h.waitScreen(ScreenResult)
			test.AssertImageMatches(t, "receipt_"+lang+".png", h.k.Window().Canvas().Capture())
		})
		t.Run("canteen_"+lang, func(t *testing.T) {
			h := newHarness(t, func(o *Options, _ *Deps) { o.Lang = lang; o.Mode = ModeCanteen })
			h.keys("6.5")
			h.tap(h.k.tx.t(mArm))
			h.scan(agent.ScanCard, cardNormal)
			h.waitScreen(ScreenResult)
			test.AssertImageMatches(t, "canteen_paid_"+lang+".png", h.k.Window().Canvas().Capture())
		})
		t.Run("diagnostics_"+lang, func(t *testing.T) {
			// The simulator's clock is the test's, which the Date header
			// follows: the token's expiry and the clock offset hold still.
			// Paid and settled before the kiosk starts, so that its first
			// count of unfinished orders cannot catch an order in flight.
			r := newRig(t)
			settleWeek(t, r)
			payToday(t, r)
			h := startKiosk(t, test.NewTempApp(t), r, func(o *Options, _ *Deps) { o.Lang, o.Version = lang, "v1.0.0" })
			t.Cleanup(h.stop)
			h.tap(h.k.tx.t(mService))
			h.keys(testPIN)
			h.tap(h.k.tx.t(mOK))
			h.waitFor("the journal counts", func() bool { return h.k.diag.countsRead && h.k.diag.tokenRead })
			// The status bar's count is read by Run, apart from
			// diagnostics: under load it can come after the counts above.
			h.waitFor("the unfinished count", func() bool { return h.k.State().Unfinished == 1 })
			// Tall enough for every section, which a technician scrolls.
			h.k.Window().Resize(fyne.NewSize(1024, 2100))
			test.AssertImageMatches(t, "diagnostics_"+lang+".png", h.k.Window().Canvas().Capture())
		})
	}
}
