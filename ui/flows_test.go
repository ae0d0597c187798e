package ui

import (
	"context"
	"fmt"
	"image/color"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// Card reader numbers of the simulator's demo cards.
const (
	cardNormal = "3197650001" // 张三, ¥100.00
	cardRich   = "3197650002" // 李四
	cardLow    = "3197650003" // 王五, ¥0.50
	cardLost   = "3197650004" // 赵六's old card, reported lost
)

// charges lists the simulator's successful payments of an account.
func (r *rig) charges(account string) []sim.Transaction {
	var out []sim.Transaction
	for _, tx := range r.Simulator.Transactions() {
		if tx.Account == account && tx.Kind == sim.KindPay && tx.Status == onecard.StatusPaid {
			out = append(out, tx)
		}
	}
	return out
}

func (r *rig) balance(t *testing.T, account string) money.Fen {
	t.Helper()
	b, ok := r.Simulator.Balance(account)
	require.True(t, ok)
	return b
}

func TestKioskHappyPath(t *testing.T) {
	h := newHarness(t, nil)
	assert.Equal(t, State{Mode: ModeKiosk, Screen: ScreenIdle, Online: true}, h.k.State())
	assert.True(t, h.shows("Scan your campus card or QR code"))

	h.scan(agent.ScanCard, cardNormal)
	h.waitScreen(ScreenCard)
	assert.True(t, h.shows("Cardholder: 张*"), h.texts())
	assert.True(t, h.shows("Balance: ¥100.00"))
	assert.True(t, h.shows("Account: **0001"), "the account is masked")
	assert.False(t, h.shows(cardNormal), "the card number is never shown")

	h.tap("米饭套餐  ¥12.00")
	assert.Equal(t, ScreenConfirm, h.k.State().Screen)
	assert.True(t, h.shows("Pay ¥12.00?"))
	h.tap("Pay now")
	h.waitScreen(ScreenResult)

	assert.Equal(t, ResultPaid, h.k.State().LastResult)
	assert.True(t, h.shows("Paid"))
	assert.True(t, h.shows("Balance now: ¥88.00"))
	charges := h.r.charges(sim.DemoNormal)
	require.Len(t, charges, 1, "charged once")
	assert.Equal(t, money.Fen(12_00), charges[0].Amount)
	assert.True(t, h.shows("Transaction: "+charges[0].OutID))
	assert.Equal(t, money.Fen(88_00), h.r.balance(t, sim.DemoNormal))

	// A student who reads Chinese switches while the receipt is up: the
	// receipt itself is redrawn in Chinese.
	h.tap("中文")
	assert.True(t, h.shows("支付成功  ¥12.00"), h.texts())
	assert.True(t, h.shows("当前余额：¥88.00"), h.texts())
	h.tap("English")

	h.tap("Done")
	assert.Equal(t, ScreenIdle, h.k.State().Screen)
}

func TestKioskKeypadAmount(t *testing.T) {
	h := newHarness(t, nil)
	h.scan(agent.ScanCard, cardRich)
	h.waitScreen(ScreenCard)
	h.tap("Other amount")
	assert.Equal(t, ScreenAmount, h.k.State().Screen)
	h.tap("OK")
	assert.True(t, h.shows("Enter an amount above zero"), "nothing typed: refused on screen")
	h.keys("0.25")
	h.keys("9") // a third decimal is not taken
	assert.True(t, h.shows("¥0.25"))
	h.tap("OK")
	assert.True(t, h.shows("Pay ¥0.25?"))
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPaid, h.k.State().LastResult)
	require.Len(t, h.r.charges(sim.DemoRich), 1)
	assert.Equal(t, money.Fen(25), h.r.charges(sim.DemoRich)[0].Amount)
}

func TestKioskDeclinedLowBalance(t *testing.T) {
	h := newHarness(t, nil)
	h.scan(agent.ScanCard, cardLow)
	h.waitScreen(ScreenCard)
	assert.True(t, h.shows("Balance: ¥0.50"))
	h.tap("Coffee  ¥5.00")
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultDeclined, h.k.State().LastResult)
	assert.True(t, h.shows("Declined: the balance is too low"), h.texts())
	assert.Equal(t, money.Fen(50), h.r.balance(t, sim.DemoLow))

	// The next student scans while the result is still up.
	h.scan(agent.ScanCard, cardNormal)
	h.waitScreen(ScreenCard)
	assert.True(t, h.shows("Balance: ¥100.00"))
	h.tap("Cancel")
	assert.Equal(t, ScreenIdle, h.k.State().Screen)
}

func TestKioskDeclinedReasonInChinese(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *Deps) { o.Lang = "zh" })
	h.scan(agent.ScanCard, cardLow)
	h.waitScreen(ScreenCard)
	h.tap("Coffee  ¥5.00")
	h.tap("确认支付")
	h.waitScreen(ScreenResult)
	assert.True(t, h.shows("支付失败：余额不足"), h.texts())
}

func TestKioskLostCardRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.scan(agent.ScanCard, cardLost)
	h.waitScreen(ScreenCard)
	assert.Equal(t, ResultCardRefused, h.k.State().LastResult)
	assert.True(t, h.shows("This card is reported lost and cannot pay"))
	for _, o := range h.texts() {
		assert.NotContains(t, o, "¥12.00", "no menu for a refused card")
	}
	h.tap("Cancel")
	assert.Equal(t, ScreenIdle, h.k.State().Screen)
	assert.Empty(t, h.r.charges(sim.DemoLost))
}

func TestKioskUnknownCard(t *testing.T) {
	h := newHarness(t, nil)
	h.scan(agent.ScanCard, "3197659999")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultLookupFailed, h.k.State().LastResult)
	assert.True(t, h.shows("This card is not recognised"), h.texts())
}

func TestKioskOfflineAcceptanceAndRefusal(t *testing.T) {
	h := newHarness(t, nil)
	// Seen online first: the terminal caches the card for offline use.
	_, err := h.r.Service.LookupCard(context.Background(), agent.Identity{Type: "cardid", ID: cardNormal})
	require.NoError(t, err)
	h.r.net.Down.Store(true)

	h.scan(agent.ScanCard, cardNormal)
	h.waitScreen(ScreenCard)
	assert.True(t, h.shows("Offline: balance as last seen online"), h.texts())
	h.waitFor("the status bar to show offline", func() bool { return !h.k.State().Online && h.shows("Offline") })
	h.tap("米饭套餐  ¥12.00")
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultOffline, h.k.State().LastResult)
	assert.True(t, h.shows("Recorded offline, will be confirmed"), h.texts())
	h.waitFor("one unfinished order", func() bool { return h.k.State().Unfinished == 1 })
	assert.True(t, h.shows("Unconfirmed: 1"))
	assert.Empty(t, h.r.charges(sim.DemoNormal), "nothing reached the platform")

	// Over the offline limit of ¥30.00 per payment: refused, with why.
	h.tap("Done")
	h.scan(agent.ScanCard, cardNormal)
	h.waitScreen(ScreenCard)
	h.tap("Other amount")
	h.keys("35")
	h.tap("OK")
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultOfflineRefused, h.k.State().LastResult)
	assert.True(t, h.shows("Cannot accept offline: the amount is above the offline limit per payment"), h.texts())
	h.tap("中文")
	assert.True(t, h.shows("无法离线收款：离线单笔金额过大"), "the reason in the customer's language: %v", h.texts())
	h.tap("English")

	// Back online, the reconciler sends the recorded payment: charged once.
	h.r.net.Down.Store(false)
	rep, err := h.r.Service.ReconcileAll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Unfinished)
	assert.Len(t, h.r.charges(sim.DemoNormal), 1)
}

func TestCanteenArmedChargesStudentsInARow(t *testing.T) {
	var signals []string // appended on the UI goroutine, which the test runs
	h := newHarness(t, func(o *Options, d *Deps) {
		o.Mode = ModeCanteen
		d.Signal = func(r string) { signals = append(signals, r) }
	})
	assert.Equal(t, State{Mode: ModeCanteen, Screen: ScreenIdle, Online: true}, h.k.State())

	h.scan(agent.ScanCard, cardNormal)
	h.waitFor("the not-armed notice", func() bool { return h.shows("Set an amount first") })
	assert.Empty(t, h.r.charges(sim.DemoNormal), "nothing armed, nothing charged")

	h.keys("6.5")
	assert.True(t, h.shows("¥6.5"))
	h.tap("Charge this amount")
	assert.Equal(t, ScreenArmed, h.k.State().Screen)
	assert.True(t, h.shows("Tap the card: ¥6.50"))

	h.scan(agent.ScanCard, cardNormal)
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPaid, h.k.State().LastResult)
	assert.True(t, h.shows("Paid  ¥6.50"), h.texts())
	assert.True(t, h.shows("Tap the card: ¥6.50"), "the amount stays armed")

	// The next student taps while the last result is still showing.
	h.scan(agent.ScanCard, cardRich)
	h.waitFor("the second payment", func() bool { return len(h.r.charges(sim.DemoRich)) == 1 })
	h.waitScreen(ScreenResult)
	assert.Equal(t, money.Fen(100_00-6_50), h.r.balance(t, sim.DemoNormal))
	assert.Equal(t, money.Fen(6_50), h.r.charges(sim.DemoRich)[0].Amount)

	h.scan(agent.ScanCard, cardLost)
	h.waitFor("the lost card refused", func() bool { return h.k.State().LastResult == ResultCardRefused })
	h.waitScreen(ScreenResult)
	assert.True(t, h.shows("This card is reported lost"))

	assert.Equal(t, []string{ResultPaid, ResultPaid, ResultCardRefused}, signals, "one signal a result, as it shows")
	var flashes []color.Color
	for _, o := range h.objects() {
		if r, ok := o.(*canvas.Rectangle); ok && r.FillColor != nil {
			if c, ok := r.FillColor.(color.NRGBA); ok && c.A == 0x40 {
				flashes = append(flashes, c)
			}
		}
	}
	assert.Len(t, flashes, 1, "the result's colour fills the middle")

	h.tap("Change amount")
	assert.Equal(t, ScreenIdle, h.k.State().Screen)
	h.tap("Coffee  ¥5.00")
	assert.True(t, h.shows("Tap the card: ¥5.00"), "a fixed-price button arms at once")
}

func TestIdleTimeoutReturnsHome(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *Deps) { o.IdleTimeout = time.Second })
	h.scan(agent.ScanCard, cardNormal)
	h.waitScreen(ScreenCard)
	h.tap("Other amount")
	h.keys("12")
	// Activity keeps the screen: just under the timeout, then a key.
	h.r.Clock.Advance(900 * time.Millisecond)
	h.keys("3")
	h.r.Clock.Advance(900 * time.Millisecond)
	h.runPosted(3) // three ticks, 0.1 s apart
	assert.Equal(t, ScreenAmount, h.k.State().Screen, "0.9s after the last key the screen stays")

	h.r.Clock.Advance(200 * time.Millisecond)
	h.waitScreen(ScreenIdle)
	assert.True(t, h.shows("Scan your campus card or QR code"))
	assert.Empty(t, h.r.charges(sim.DemoNormal))
}

func TestWrongPINThenDiagnostics(t *testing.T) {
	var pulled bool
	h := newHarness(t, func(_ *Options, d *Deps) {
		d.Devices = func() []DeviceStatus {
			return []DeviceStatus{{Name: "reader", Connected: true, Scans: 3}, {Name: "qr", LastError: "unplugged"}}
		}
		d.Extra = []DiagnosticAction{{Label: "Pull the network", Do: func(context.Context) (string, error) {
			pulled = true
			return "network down", nil
		}}}
	})
	h.tap("Service")
	assert.Equal(t, State{Mode: ModeDiagnostics, Screen: ScreenPIN, Online: true}, h.k.State())
	h.keys("1234")
	assert.True(t, h.shows("••••"), "one dot a digit")
	assert.False(t, h.shows("1234"), "never the digits")
	h.tap("OK")
	assert.Equal(t, ScreenPIN, h.k.State().Screen)
	assert.True(t, h.shows("Wrong PIN"))

	h.keys(testPIN)
	h.tap("OK")
	assert.Equal(t, ScreenDiagnostics, h.k.State().Screen)
	assert.True(t, h.shows("Platform: online since"))
	assert.True(t, h.shows("Unfinished orders: 0"))
	h.waitFor("device states", func() bool { return h.shows("qr: not connected unplugged") })
	assert.True(t, h.shows("reader: connected, 3 scans, 0 dropped"))
	assert.True(t, h.shows("Device problem"), "the status bar shows it too")

	h.scan(agent.ScanCard, cardNormal)
	h.waitFor("the scan echo", func() bool { return h.shows("Last scan: reader: card ******0001") })

	h.tap("Pull the network")
	h.waitFor("the action's answer", func() bool { return h.shows("Pull the network: network down") })
	assert.True(t, pulled)

	h.tap("Reconcile now")
	h.waitFor("the reconciler's answer", func() bool { return h.shows("Reconciled: 0 orders settled") })

	h.tap("Canteen")
	h.tap("中文")
	assert.True(t, h.shows("维护"))
	h.tap("返回")
	assert.Equal(t, State{Mode: ModeCanteen, Screen: ScreenIdle, Online: true}, h.k.State())
	assert.True(t, h.shows("请输入金额或选择价格"))
}

func TestKeyboardFeedsTheScannerInput(t *testing.T) {
	var typed []rune
	var enters int
	h := newHarness(t, func(_ *Options, d *Deps) {
		d.Keyboard = func(r rune, enter bool) {
			if enter {
				enters++
				return
			}
			typed = append(typed, r)
		}
	})
	c := h.k.Window().Canvas()
	test.TypeOnCanvas(c, "3197")
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	assert.Equal(t, "3197", string(typed))
	assert.Equal(t, 1, enters)
}

func TestNewRefusesBadOptions(t *testing.T) {
	r := newRig(t)
	app := test.NewTempApp(t)
	for name, o := range map[string]Options{
		"mode": {Mode: "shop"},
		"lang": {Lang: "fr"},
		"menu": {Menu: []MenuItem{{Name: "free lunch"}}},
	} {
		_, err := New(app, Deps{Agent: r.Service}, o)
		assert.Error(t, err, name)
	}
	_, err := New(app, Deps{}, Options{})
	assert.Error(t, err, "no service")
}

// Five wrong PINs lock diagnostics through the program's guard (a real
// agent.PINGuard over the rig's journal); the screen says until when, and
// not even the right PIN opens it before then.
func TestPINLockoutFlow(t *testing.T) {
	r := newRig(t)
	guard := agent.NewPINGuard(func(pin string) bool { return pin == testPIN }, r.Store, r.Clock, agent.PINPolicy{})
	h := startKiosk(t, test.NewTempApp(t), r, func(_ *Options, d *Deps) {
		d.CheckPIN = func(pin string) agent.PINAttempt {
			a, err := guard.Try(context.Background(), pin)
			require.NoError(t, err)
			return a
		}
	})
	t.Cleanup(h.stop)
	h.tap("Service")
	for left := 4; left > 0; left-- {
		h.keys("1111")
		h.tap("OK")
		require.True(t, h.shows(fmt.Sprintf("Wrong PIN (tries left before a lockout: %d)", left)))
	}
	h.keys("1111")
	h.tap("OK")
	until := r.Clock.Now().Add(time.Minute).In(r.Service.Options().Location).Format("15:04")
	assert.True(t, h.shows("Too many wrong PINs: locked until "+until))
	h.keys(testPIN)
	h.tap("OK")
	assert.Equal(t, ScreenPIN, h.k.State().Screen, "locked: the right PIN waits too")

	r.Clock.Advance(time.Minute)
	h.keys(testPIN)
	h.tap("OK")
	assert.Equal(t, ScreenDiagnostics, h.k.State().Screen)
}
