package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
)

// The card passwords of the tests: the rich demo card's (sim.DemoCards)
// and one that is not.
const (
	testCardPassword  = sim.DemoRichPassword
	wrongCardPassword = "111000"
)

// passwordRig is a rig whose service asks for the card's password above
// ¥20.00.
func passwordRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t)
	r.Service = r.NewService(r.Store, passwordAbove20)
	return r
}

func passwordAbove20(o *agent.Options) {
	o.Password = agent.PasswordPolicy{Mode: agent.PasswordAbove, Above: 20_00}
}

// startPasswordKiosk starts a self-service kiosk on r and takes the rich
// card to the confirmation of amount (typed on the keypad).
func startPasswordKiosk(t *testing.T, r *rig, amount string) *harness {
	t.Helper()
	h := startKiosk(t, test.NewTempApp(t), r, nil)
	t.Cleanup(h.stop)
	h.scan(agent.ScanCard, cardRich)
	h.waitScreen(ScreenCard)
	h.tap("Other amount")
	h.keys(amount)
	h.tap("OK")
	require.Equal(t, ScreenConfirm, h.k.State().Screen)
	return h
}

func TestPasswordNotNeededUnderTheThreshold(t *testing.T) {
	r := passwordRig(t)
	h := startPasswordKiosk(t, r, "20")
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPaid, h.k.State().LastResult)
	assert.Len(t, r.charges(sim.DemoRich), 1)
}

func TestPasswordRightThenPaid(t *testing.T) {
	r := passwordRig(t)
	h := startPasswordKiosk(t, r, "25")
	h.tap("Pay now")
	require.Equal(t, ScreenPassword, h.k.State().Screen)
	assert.True(t, h.shows("To pay ¥25.00, enter your card's password"), "%q", h.texts())
	assert.Empty(t, r.charges(sim.DemoRich), "nothing charged before the password")
	h.keys(testCardPassword)
	assert.True(t, h.shows("••••••"), "dots, never digits: %q", h.texts())
	assert.False(t, h.shows(testCardPassword))
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPaid, h.k.State().LastResult)
	require.Len(t, r.charges(sim.DemoRich), 1)
	assert.Equal(t, money.Fen(25_00), r.charges(sim.DemoRich)[0].Amount)
	assert.Empty(t, h.k.m.pwd, "the digits typed are forgotten")
}

func TestPasswordWrongThenRetry(t *testing.T) {
	r := passwordRig(t)
	h := startPasswordKiosk(t, r, "25")
	h.tap("Pay now")
	h.keys(wrongCardPassword)
	h.tap("Pay now")
	h.waitScreen(ScreenPassword)
	assert.True(t, h.shows("Wrong password (tries left: 2)"), "%q", h.texts())
	assert.Empty(t, r.charges(sim.DemoRich))
	h.tap("Clear")
	h.keys(testCardPassword)
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPaid, h.k.State().LastResult)
	assert.Len(t, r.charges(sim.DemoRich), 1)
}

func TestPasswordThirdWrongLocksTheCardAcrossARestart(t *testing.T) {
	r := passwordRig(t)
	h := startPasswordKiosk(t, r, "25")
	h.tap("Pay now")
	for i := range 3 {
		h.keys(wrongCardPassword)
		h.tap("Pay now")
		if i < 2 {
			h.waitScreen(ScreenPassword)
		}
	}
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPasswordLocked, h.k.State().LastResult)
	assert.True(t, h.shows("Please go to the card centre"), "%q", h.texts())
	assert.Empty(t, r.charges(sim.DemoRich))
	// Diagnostics says so.
	h.tap("Service")
	h.keys(testPIN)
	h.tap("OK")
	h.waitScreen(ScreenDiagnostics)
	h.waitFor("the locked card in diagnostics", func() bool { return h.shows("Cards locked by wrong passwords now: 1") })
	assert.True(t, h.shows("Card password: asked above ¥20.00; 3 wrong lock a card here for 15m0s"), "%q", h.texts())
	h.stop()

	// The kiosk restarts on the same journal: the card is still locked,
	// even with the right password.
	require.NoError(t, r.Store.Close())
	store, err := offline.Open(r.Path)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	r.Store = store
	r.Service = r.NewService(store, passwordAbove20)
	h2 := startPasswordKiosk(t, r, "25")
	h2.tap("Pay now")
	h2.keys(testCardPassword)
	h2.tap("Pay now")
	h2.waitScreen(ScreenResult)
	assert.Equal(t, ResultPasswordLocked, h2.k.State().LastResult)
	assert.Empty(t, r.charges(sim.DemoRich))
}

func TestPasswordPlatformUnreachableRefusedAndJournalled(t *testing.T) {
	r := passwordRig(t)
	h := startPasswordKiosk(t, r, "25") // the card was seen online
	h.tap("Pay now")
	h.keys(testCardPassword)
	r.net.Down.Store(true)
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultOfflineRefused, h.k.State().LastResult)
	assert.True(t, h.shows("Cannot accept offline: this amount needs your card's password, which can only be checked online"), "%q", h.texts())
	r.net.Down.Store(false)
	assert.Empty(t, r.charges(sim.DemoRich))
	orders, err := r.Store.Orders(t.Context(), agent.OrderFilter{})
	require.NoError(t, err)
	require.Len(t, orders, 1, "the refusal is journalled")
	assert.Equal(t, agent.OutcomeRefusedOffline, orders[0].Outcome.Kind)
}

// The canteen's till: with payment.password never (its default)
// nothing changes; a self-service kiosk switched to canteen mode (its
// policy above ¥20.00) pays like a till too, the cashier being there.
func TestPasswordNeverAtTheCanteenTill(t *testing.T) {
	for name, policy := range map[string]agent.PasswordPolicy{
		"never":                 {Mode: agent.PasswordNever},
		"self-service's policy": {Mode: agent.PasswordAbove, Above: 20_00},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			r.Service = r.NewService(r.Store, func(o *agent.Options) { o.Password = policy })
			h := startKiosk(t, test.NewTempApp(t), r, func(o *Options, _ *Deps) { o.Mode = ModeCanteen })
			t.Cleanup(h.stop)
			h.keys("45")
			h.tap("Charge this amount")
			h.waitScreen(ScreenArmed)
			h.scan(agent.ScanCard, cardRich)
			h.waitFor("the paid result", func() bool { return h.k.State().LastResult == ResultPaid })
			assert.Len(t, r.charges(sim.DemoRich), 1)
		})
	}
}

// TestPasswordKeypadImages keeps the card password keypad as images in
// both languages, with a wrong try and digits typed: dots, never digits.
func TestPasswordKeypadImages(t *testing.T) {
	for _, lang := range []string{langEN, langZH} {
		t.Run(lang, func(t *testing.T) {
			r := passwordRig(t)
			h := startKiosk(t, test.NewTempApp(t), r, func(o *Options, _ *Deps) { o.Lang = lang })
			t.Cleanup(h.stop)
			h.scan(agent.ScanCard, cardRich)
			h.waitScreen(ScreenCard)
			h.tap(h.k.tx.t(mOtherAmount))
			h.keys("25")
			h.tap(h.k.tx.t(mOK))
			h.tap(h.k.tx.t(mConfirm))
			h.keys(wrongCardPassword)
			h.tap(h.k.tx.t(mConfirm))
			h.waitScreen(ScreenPassword)
			h.keys("8025")
			test.AssertImageMatches(t, "password_"+lang+".png", h.k.Window().Canvas().Capture())
		})
	}
}

// The idle timeout leaves the password keypad like any screen, and the
// digits typed are zeroed in the buffer that held them; so do Cancel and
// a submit (the job gets a copy, zeroed once checked).
func TestPasswordDigitsAreZeroed(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	m, _ := newMachine(ModeKiosk, 30*time.Second, nil, t0)
	m.needPassword = func(a money.Fen) bool { return a > 20_00 }
	m.card = cardInfo{account: sim.DemoRich}
	toKeypad := func() []byte {
		m.choose("", 25_00)
		m.confirm()
		require.Equal(t, Screen(ScreenPassword), m.screen)
		for _, d := range "654321" {
			m.keyPassword(string(d))
		}
		require.Equal(t, "654321", string(m.pwd))
		return m.pwd[:cap(m.pwd)]
	}

	buf := toKeypad()
	m.touch(t0)
	m.tick(t0.Add(31 * time.Second))
	assert.Equal(t, Screen(ScreenIdle), m.screen, "the idle timeout")
	assert.Equal(t, make([]byte, len(buf)), buf, "zeroed")

	m.card = cardInfo{account: sim.DemoRich}
	buf = toKeypad()
	m.keyPassword("del")
	assert.Equal(t, "65432", string(m.pwd))
	assert.Zero(t, buf[5], "the deleted digit is zeroed")
	m.goHome()
	assert.Equal(t, make([]byte, len(buf)), buf, "Cancel")

	m.card = cardInfo{account: sim.DemoRich}
	buf = toKeypad()
	e := m.submitPassword()
	assert.Equal(t, make([]byte, len(buf)), buf, "submitted: the machine keeps nothing")
	assert.Equal(t, jobVerifyPay, e.start.kind)
	assert.Equal(t, "654321", string(e.start.pwd), "the job's own copy")
}
