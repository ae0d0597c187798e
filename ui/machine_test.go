package ui

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
)

// The screen state machine on its own: no window, no agent, no goroutine.
// The flow tests drive the same transitions through the Fyne screens.

var (
	machineStart = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	studentID    = agent.Identity{Type: "cardid", ID: "3197650001"}
	studentCard  = agent.Card{Account: "100001", Name: "张三", Balance: 100_00}
)

const (
	machineTimeout = 30 * time.Second
	// armedAmount is what the canteen tests arm, in fen.
	armedAmount = 6_50
)

// newTestMachine starts a machine in mode with the tests' PIN.
func newTestMachine(t *testing.T, mode Mode) *machine {
	t.Helper()
	m, first := newMachine(mode, machineTimeout, checkTestPIN, machineStart)
	require.True(t, first.render, "the first screen is drawn")
	return m
}

// atCard takes a kiosk machine from idle to the card screen of
// studentCard.
func atCard(t *testing.T) *machine {
	t.Helper()
	m := newTestMachine(t, ModeKiosk)
	e := m.scanned(studentID, nil, machineStart)
	m.lookedUp(e.start.gen, agent.CardLookup{Cards: []agent.Card{studentCard}}, nil, machineStart)
	require.Equal(t, Screen(ScreenCard), m.screen)
	return m
}

// armed is a canteen machine with armedAmount armed.
func armed(t *testing.T) *machine {
	t.Helper()
	m := newTestMachine(t, ModeCanteen)
	m.arm(armedAmount)
	require.Equal(t, Screen(ScreenArmed), m.screen)
	return m
}

// charging is a canteen machine charging a card armedAmount.
func charging(t *testing.T) *machine {
	t.Helper()
	m := armed(t)
	m.scanned(studentID, nil, machineStart)
	require.Equal(t, Screen(ScreenPaying), m.screen)
	return m
}

func TestMachineStarts(t *testing.T) {
	for _, c := range []struct {
		name     string
		mode     Mode
		checkPIN func(string) agent.PINAttempt
		screen   Screen
		shown    Mode
		diag     bool
	}{
		{"kiosk", ModeKiosk, checkTestPIN, ScreenIdle, ModeKiosk, false},
		{"canteen", ModeCanteen, checkTestPIN, ScreenIdle, ModeCanteen, false},
		{"diagnostics behind a PIN", ModeDiagnostics, checkTestPIN, ScreenPIN, ModeDiagnostics, false},
		{"diagnostics without a PIN", ModeDiagnostics, nil, ScreenDiagnostics, ModeDiagnostics, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, e := newMachine(c.mode, machineTimeout, c.checkPIN, machineStart)
			assert.Equal(t, c.screen, m.screen)
			assert.Equal(t, c.shown, m.shownMode())
			assert.Equal(t, c.diag, e.diagnostics, "diagnostics read when it opens")
			assert.NotEqual(t, ModeDiagnostics, m.mode, "a working mode behind diagnostics")
		})
	}
}

// Which screens take a scan, and what they start with it.
func TestMachineScan(t *testing.T) {
	charge := effect{render: true, start: job{kind: jobCharge, id: studentID, amount: armedAmount}}
	for _, c := range []struct {
		name   string
		setup  func(t *testing.T) *machine
		mapErr error
		want   effect // gen is filled in from the machine
		screen Screen
		notice msg
		// taken: the scan counts as activity for the idle timeout
		taken bool
	}{
		{
			name:   "kiosk idle: looked up",
			setup:  func(t *testing.T) *machine { return newTestMachine(t, ModeKiosk) },
			want:   effect{render: true, start: job{kind: jobLookup, id: studentID}},
			screen: ScreenLookup,
			taken:  true,
		},
		{
			name: "kiosk result: the next student need not wait",
			setup: func(t *testing.T) *machine {
				m := newTestMachine(t, ModeKiosk)
				m.scanned(studentID, errors.New("no idtype"), machineStart)
				require.Equal(t, Screen(ScreenResult), m.screen)
				return m
			},
			want:   effect{render: true, start: job{kind: jobLookup, id: studentID}},
			screen: ScreenLookup,
			taken:  true,
		},
		{
			name:   "kiosk idle, unmapped: a result",
			setup:  func(t *testing.T) *machine { return newTestMachine(t, ModeKiosk) },
			mapErr: errors.New("scan from qr: no idtype"),
			want:   effect{render: true, announce: true},
			screen: ScreenResult,
			taken:  true,
		},
		{
			name: "kiosk lookup in flight: dropped",
			setup: func(t *testing.T) *machine {
				m := newTestMachine(t, ModeKiosk)
				m.scanned(studentID, nil, machineStart)
				return m
			},
			screen: ScreenLookup,
		},
		{
			name:   "kiosk card screen, mid-purchase: dropped",
			setup:  atCard,
			screen: ScreenCard,
		},
		{
			name: "kiosk confirm screen: dropped",
			setup: func(t *testing.T) *machine {
				m := atCard(t)
				m.choose("Coffee", 5_00)
				return m
			},
			screen: ScreenConfirm,
		},
		{
			name: "kiosk paying: dropped",
			setup: func(t *testing.T) *machine {
				m := atCard(t)
				m.choose("Coffee", 5_00)
				m.confirm()
				return m
			},
			screen: ScreenPaying,
		},
		{
			name:   "canteen not armed: a notice",
			setup:  func(t *testing.T) *machine { return newTestMachine(t, ModeCanteen) },
			want:   effect{render: true},
			screen: ScreenIdle,
			notice: mNotArmed,
			taken:  true,
		},
		{
			name:   "canteen armed: charged",
			setup:  armed,
			want:   charge,
			screen: ScreenPaying,
			taken:  true,
		},
		{
			name: "canteen armed, last result up: charged",
			setup: func(t *testing.T) *machine {
				m := charging(t)
				m.payFinished(verdict{kind: verdictPayment, amount: armedAmount})
				return m
			},
			want:   charge,
			screen: ScreenPaying,
			taken:  true,
		},
		{
			name:   "canteen charging: dropped",
			setup:  charging,
			screen: ScreenPaying,
		},
		{
			name: "diagnostics: echoed only",
			setup: func(t *testing.T) *machine {
				m, _ := newMachine(ModeDiagnostics, machineTimeout, nil, machineStart)
				return m
			},
			want:   effect{render: true},
			screen: ScreenDiagnostics,
		},
		{
			name: "PIN screen: dropped",
			setup: func(t *testing.T) *machine {
				m := newTestMachine(t, ModeKiosk)
				m.openDiagnostics()
				return m
			},
			screen: ScreenPIN,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.setup(t)
			gen := m.gen
			later := machineStart.Add(10 * time.Second)
			e := m.scanned(studentID, c.mapErr, later)
			if c.want.start.kind != jobNone {
				c.want.start.gen = m.gen
			}
			assert.Equal(t, c.want, e)
			assert.Equal(t, c.screen, m.screen)
			assert.Equal(t, c.notice, m.notice)
			if assert.ObjectsAreEqual(effect{}, e) {
				assert.Equal(t, gen, m.gen, "a dropped scan leaves the screen as it is")
			}
			assert.Equal(t, c.taken, m.lastActivity.Equal(later), "a scan taken, and only one, is activity")
			if c.mapErr != nil {
				assert.Equal(t, verdictUnmapped, m.verdict.kind)
			}
		})
	}
}

// A self-service lookup's answers, and the late one for a screen left.
// judgeLookup, which decides them, is the canteen's rule too.
func TestMachineLookedUp(t *testing.T) {
	lost := studentCard
	lost.Lost = true
	for _, c := range []struct {
		name     string
		lookup   agent.CardLookup
		err      error
		screen   Screen
		announce bool
		verdict  verdictKind
		account  string // of the card on screen
	}{
		{"found", agent.CardLookup{Cards: []agent.Card{studentCard}}, nil, ScreenCard, false, verdictNone, "100001"},
		{"refused: the card screen says why", agent.CardLookup{Cards: []agent.Card{lost}}, nil, ScreenCard, true, verdictRefused, "100001"},
		{"no card", agent.CardLookup{}, nil, ScreenResult, true, verdictNotFound, ""},
		{"not found", agent.CardLookup{}, agent.ErrCardNotFound, ScreenResult, true, verdictLookupFailed, ""},
		{"failed", agent.CardLookup{}, agent.ErrPlatformUnreachable, ScreenResult, true, verdictLookupFailed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newTestMachine(t, ModeKiosk)
			start := m.scanned(studentID, nil, machineStart)
			require.True(t, m.busy())
			e := m.lookedUp(start.start.gen, c.lookup, c.err, machineStart)
			assert.Equal(t, c.screen, m.screen)
			assert.Equal(t, c.announce, e.announce)
			assert.True(t, e.endLookup, "the lookup is over")
			assert.False(t, m.busy())
			assert.Equal(t, c.account, m.card.account)
			if c.announce {
				assert.Equal(t, c.verdict, m.verdict.kind)
				assert.ErrorIs(t, m.verdict.err, c.err)
			}
			if c.account != "" {
				assert.Equal(t, "张*", m.card.name, "masked")
			}
		})
	}

	t.Run("late, after Cancel: dropped", func(t *testing.T) {
		m := newTestMachine(t, ModeKiosk)
		start := m.scanned(studentID, nil, machineStart)
		cancel := m.goHome()
		assert.True(t, cancel.endLookup, "the lookup in flight is cancelled")
		assert.Equal(t, Screen(ScreenIdle), m.screen)
		assert.False(t, m.busy())

		e := m.lookedUp(start.start.gen, agent.CardLookup{Cards: []agent.Card{studentCard}}, nil, machineStart)
		assert.Equal(t, effect{}, e)
		assert.Equal(t, Screen(ScreenIdle), m.screen, "the student has gone")
		assert.Empty(t, m.card.account)
	})
	t.Run("late, after the next scan's lookup started: dropped", func(t *testing.T) {
		m := newTestMachine(t, ModeKiosk)
		first := m.scanned(studentID, nil, machineStart)
		m.goHome()
		second := m.scanned(studentID, nil, machineStart)
		assert.Equal(t, effect{}, m.lookedUp(first.start.gen, agent.CardLookup{}, nil, machineStart))
		assert.Equal(t, Screen(ScreenLookup), m.screen, "still waiting for the second")
		m.lookedUp(second.start.gen, agent.CardLookup{Cards: []agent.Card{studentCard}}, nil, machineStart)
		assert.Equal(t, Screen(ScreenCard), m.screen)
	})
}

// A kiosk purchase: item or keyed amount, confirmation, payment.
func TestMachinePurchase(t *testing.T) {
	t.Run("menu item", func(t *testing.T) {
		m := atCard(t)
		m.choose("Coffee", 5_00)
		assert.Equal(t, Screen(ScreenConfirm), m.screen)
		e := m.confirm()
		assert.Equal(t, Screen(ScreenPaying), m.screen)
		assert.Equal(t, job{kind: jobPay, card: m.card, amount: 5_00, gen: m.gen}, e.start)
		assert.Equal(t, effect{}, m.confirm(), "a second tap pays nothing more")
		assert.Equal(t, effect{}, m.goHome(), "a payment in flight is never left")
		assert.Equal(t, effect{}, m.tick(machineStart.Add(time.Hour)), "nor timed out")
		assert.Equal(t, effect{}, m.openDiagnostics(), "nor left for diagnostics")

		done := m.payFinished(verdict{kind: verdictPayment, card: m.card, amount: 5_00})
		assert.True(t, done.announce)
		assert.Equal(t, Screen(ScreenResult), m.screen)
		assert.False(t, m.busy())
		assert.Equal(t, verdictPayment, m.verdict.kind)
	})
	t.Run("keyed amount", func(t *testing.T) {
		m := atCard(t)
		m.otherAmount()
		assert.Equal(t, Screen(ScreenAmount), m.screen)
		assert.Equal(t, effect{render: true}, m.chooseEntry())
		assert.True(t, m.entryErr, "nothing typed: refused on screen")
		assert.Equal(t, Screen(ScreenAmount), m.screen)
		for _, key := range []string{"0", ".", "2", "5", "9"} {
			m.keyAmount(key)
		}
		assert.False(t, m.entryErr, "a key clears the error")
		assert.Equal(t, "0.25", m.entry, "a third decimal is not taken")
		m.chooseEntry()
		assert.Equal(t, Screen(ScreenConfirm), m.screen)
		assert.EqualValues(t, 25, m.amount)
		assert.Empty(t, m.item)
	})
}

// The idle timeout sends a screen left alone home, but never one waiting
// for an answer.
func TestMachineTimeout(t *testing.T) {
	for _, c := range []struct {
		name   string
		setup  func(t *testing.T) *machine
		after  time.Duration
		screen Screen
	}{
		{"card screen, left alone", atCard, machineTimeout, ScreenIdle},
		{"card screen, just before", atCard, machineTimeout - time.Millisecond, ScreenCard},
		{"lookup in flight", func(t *testing.T) *machine {
			m := newTestMachine(t, ModeKiosk)
			m.scanned(studentID, nil, machineStart)
			return m
		}, time.Hour, ScreenLookup},
		{"canteen result: back to the armed amount", func(t *testing.T) *machine {
			m := charging(t)
			m.payFinished(verdict{kind: verdictRefused})
			return m
		}, machineTimeout, ScreenArmed},
		{"PIN screen", func(t *testing.T) *machine {
			m := newTestMachine(t, ModeKiosk)
			m.openDiagnostics()
			return m
		}, machineTimeout, ScreenIdle},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.setup(t)
			m.tick(machineStart.Add(c.after))
			assert.Equal(t, c.screen, m.screen)
		})
	}

	t.Run("activity keeps the screen", func(t *testing.T) {
		m := atCard(t)
		m.otherAmount()
		m.touch(machineStart.Add(20 * time.Second))
		m.tick(machineStart.Add(machineTimeout))
		assert.Equal(t, Screen(ScreenAmount), m.screen)
		m.tick(machineStart.Add(20*time.Second + machineTimeout))
		assert.Equal(t, Screen(ScreenIdle), m.screen)
		assert.Empty(t, m.card.account, "the student's card is forgotten")
		assert.Zero(t, m.amount)
	})
}

// The canteen's armed amount.
func TestMachineCanteen(t *testing.T) {
	m := newTestMachine(t, ModeCanteen)
	m.scanned(studentID, nil, machineStart)
	require.Equal(t, mNotArmed, m.notice)
	m.keyAmount("6")
	assert.Empty(t, m.notice, "typing clears the notice")
	m.keyAmount(".")
	m.keyAmount("5")
	m.armEntry()
	assert.Equal(t, Screen(ScreenArmed), m.screen)
	assert.EqualValues(t, armedAmount, m.amount)
	assert.Empty(t, m.entry)

	e := m.scanned(studentID, nil, machineStart)
	assert.EqualValues(t, armedAmount, e.start.amount)
	m.payFinished(verdict{kind: verdictPayment, amount: armedAmount, named: true})
	assert.EqualValues(t, armedAmount, m.amount, "the amount stays armed")
	m.goHome()
	assert.Equal(t, Screen(ScreenArmed), m.screen, "home is the armed amount")

	m.disarm()
	assert.Equal(t, Screen(ScreenIdle), m.screen)
	assert.False(t, m.armed)
	assert.Zero(t, m.amount)
	m.armEntry()
	assert.True(t, m.entryErr, "nothing typed: nothing armed")
	assert.False(t, m.armed)
}

func TestMachinePIN(t *testing.T) {
	m := newTestMachine(t, ModeKiosk)
	assert.Equal(t, effect{}, m.submitPIN(), "only the PIN screen takes a PIN")
	m.openDiagnostics()
	require.Equal(t, Screen(ScreenPIN), m.screen)
	assert.Equal(t, ModeDiagnostics, m.shownMode())

	for _, key := range []string{"1", "2", "3", "4"} {
		m.keyPIN(key)
	}
	assert.Equal(t, effect{render: true}, m.submitPIN())
	assert.Equal(t, Screen(ScreenPIN), m.screen, "a wrong PIN stays")
	assert.True(t, m.pinWrong)
	assert.Empty(t, m.pinEntry, "and is forgotten")

	for _, key := range []string{"9", "del", "clear"} {
		m.keyPIN(key)
	}
	assert.Empty(t, m.pinEntry)
	for _, r := range testPIN {
		m.keyPIN(string(r))
	}
	e := m.submitPIN()
	assert.Equal(t, Screen(ScreenDiagnostics), m.screen)
	assert.True(t, e.diagnostics, "diagnostics is read afresh")
	assert.False(t, m.pinWrong)

	m.goHome()
	assert.Equal(t, Screen(ScreenIdle), m.screen)
	assert.Equal(t, ModeKiosk, m.shownMode())
	m.openDiagnostics()
	assert.False(t, m.pinWrong, "the last wrong PIN is not shown again")

	t.Run("no PIN", func(t *testing.T) {
		m, _ := newMachine(ModeKiosk, machineTimeout, nil, machineStart)
		e := m.openDiagnostics()
		assert.Equal(t, Screen(ScreenDiagnostics), m.screen, "diagnostics opens directly")
		assert.True(t, e.diagnostics)
	})
	t.Run("PIN length", func(t *testing.T) {
		pin := ""
		for range pinMaxLen + 3 {
			pin = editPIN(pin, "7")
		}
		assert.Len(t, pin, pinMaxLen)
	})
	t.Run("busy", func(t *testing.T) {
		m := newTestMachine(t, ModeKiosk)
		m.scanned(studentID, nil, machineStart)
		assert.Equal(t, effect{}, m.openDiagnostics(), "not while a card is being looked up")
		assert.Equal(t, Screen(ScreenLookup), m.screen)
	})
}

// Switching the mode from diagnostics disarms the canteen.
func TestMachineModeSwitch(t *testing.T) {
	m, _ := newMachine(ModeCanteen, machineTimeout, nil, machineStart)
	m.arm(armedAmount)
	m.openDiagnostics()
	for _, c := range []struct {
		mode Mode
		home Screen
	}{{ModeKiosk, ScreenIdle}, {ModeCanteen, ScreenIdle}} {
		gen := m.gen
		assert.Equal(t, effect{render: true}, m.setMode(c.mode))
		assert.Equal(t, gen, m.gen, "diagnostics stays on screen")
		assert.Equal(t, ModeDiagnostics, m.shownMode())
		assert.Equal(t, c.mode, m.mode)
		assert.False(t, m.armed)
		assert.Zero(t, m.amount)
		assert.Equal(t, c.home, m.home())
	}
	m.goHome()
	assert.Equal(t, Screen(ScreenIdle), m.screen)
	assert.Equal(t, ModeCanteen, m.shownMode())
}

// A locked guard's answer keeps the PIN screen up with until when, and
// forgets the digits as a wrong PIN does.
func TestMachinePINLocked(t *testing.T) {
	until := machineStart.Add(time.Minute)
	m, _ := newMachine(ModeKiosk, machineTimeout, func(string) agent.PINAttempt {
		return agent.PINAttempt{Locked: true, LockedUntil: until}
	}, machineStart)
	m.openDiagnostics()
	m.keyPIN("1")
	assert.Equal(t, effect{render: true}, m.submitPIN())
	assert.Equal(t, Screen(ScreenPIN), m.screen)
	assert.Equal(t, until, m.pinLockedUntil)
	assert.False(t, m.pinWrong, "the screen says locked, not wrong")
	assert.Empty(t, m.pinEntry)
}
