package ui

import (
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// Screen is one of the kiosk's screens. The constants below are untyped
// so that State.Screen stays a plain string for the programs that read it
// (the state file, the smoke test).
type Screen string

// Screen names, as State reports them.
const (
	ScreenIdle        = "idle"        // the mode's home: "scan your card" (kiosk), amount keypad (canteen)
	ScreenLookup      = "lookup"      // a card lookup is in progress
	ScreenCard        = "card"        // card found (or refused): choose an item
	ScreenAmount      = "amount"      // keypad amount (kiosk)
	ScreenConfirm     = "confirm"     // confirm the payment (kiosk)
	ScreenPaying      = "paying"      // a payment is in progress
	ScreenResult      = "result"      // the outcome of a payment or lookup
	ScreenArmed       = "armed"       // canteen: an amount is armed, waiting for cards
	ScreenPassword    = "password"    // the card's password, for an amount that needs it (kiosk)
	ScreenPIN         = "pin"         // diagnostics PIN
	ScreenDiagnostics = "diagnostics" // diagnostics
)

// awaiting is the answer the screen waits for. While one is out, scans
// are dropped, the idle timeout waits and diagnostics stays shut.
type awaiting int

const (
	awaitNothing awaiting = iota
	// awaitLookup: a self-service card lookup, which Cancel abandons.
	awaitLookup
	// awaitPayment: a payment, or the canteen's lookup and payment.
	// Nothing leaves its screen but its outcome: the customer must be
	// told what the journal holds.
	awaitPayment
)

// jobKind is the work a transition asks the Kiosk to start.
type jobKind int

const (
	jobNone   jobKind = iota
	jobLookup         // look id up for the card screen (self-service)
	jobPay            // pay amount from card (self-service, confirmed)
	jobCharge         // look id up and pay amount, in one step (canteen)
	// jobVerifyPay checks the card's password, then pays (self-service,
	// an amount that needs the password).
	jobVerifyPay
)

// job is work for the Kiosk to run off the UI goroutine: the machine
// decides it, the Kiosk calls the agent and feeds the answer back.
type job struct {
	kind   jobKind
	id     agent.Identity // jobLookup, jobCharge
	card   cardInfo       // jobPay
	amount money.Fen      // jobPay, jobCharge, jobVerifyPay
	// pwd is the card's password typed (jobVerifyPay): the job's own
	// copy, zeroed by whoever runs the job once it is checked.
	pwd []byte
	// gen is the screen the answer is for: a lookup's answer for a screen
	// left since is dropped.
	gen int
}

// effect is what a transition asks of the Kiosk: the I/O and drawing the
// machine does not do itself. The zero effect asks nothing.
type effect struct {
	// render: what the screen shows changed; redraw it.
	render bool
	// announce: a new verdict is shown: report it in State.LastResult and
	// sound it (Deps.Signal).
	announce bool
	// endLookup: the lookup in flight is answered or abandoned; release
	// it (an abandoned one is cancelled).
	endLookup bool
	// diagnostics: diagnostics opened; read afresh what it shows.
	diagnostics bool
	// start is work to start; jobNone for none.
	start job
}

// machine is the kiosk's screen state and the rules that move it: which
// screen is up, what it shows and waits for, which events it takes. It
// does no I/O and draws nothing: each transition changes the state and
// returns the effect for the Kiosk to carry out. It belongs to the UI
// goroutine.
type machine struct {
	idleTimeout time.Duration
	checkPIN    func(pin string) agent.PINAttempt // nil: diagnostics opens without a PIN

	mode         Mode // working mode: kiosk or canteen
	screen       Screen
	gen          int // bumped on every screen change: answers for a left screen are dropped
	lastActivity time.Time
	awaiting     awaiting
	card         cardInfo
	item         string    // the menu item chosen, "" for a keyed amount
	amount       money.Fen // the amount to pay (kiosk) or armed (canteen)
	armed        bool
	entry        string  // the amount typed on the keypad
	entryErr     bool    // the amount typed was refused
	notice       msg     // a one-line note on the canteen's home screen, "" for none
	verdict      verdict // what the last result reported
	pinEntry     string
	pinWrong     bool
	// pinTriesLeft is how many wrong PINs remain before a lockout, as
	// the last wrong one said; pinLockedUntil, while diagnostics is
	// locked, when it opens again.
	pinTriesLeft   int
	pinLockedUntil time.Time
	// needPassword says whether an amount needs the card's password (nil:
	// none does). pwd holds the digits typed, in a buffer of its own that
	// is zeroed whenever the screen is left (clearPassword); pwdWrong and
	// pwdTriesLeft are what the last wrong one said.
	needPassword func(money.Fen) bool
	pwd          []byte
	pwdWrong     bool
	pwdTriesLeft int
}

// pwdMaxLen is the longest card password the keypad takes (query.card's
// pwd is at most 32 bytes; campus query passwords are six digits).
const pwdMaxLen = 16

// clearPassword zeroes and forgets the password typed.
func (m *machine) clearPassword() {
	clear(m.pwd)
	m.pwd = m.pwd[:0]
}

// newMachine starts on the home screen of mode, or, for ModeDiagnostics,
// on the PIN screen (diagnostics itself without a PIN) with kiosk mode
// behind it; the effect draws the first screen.
func newMachine(mode Mode, idleTimeout time.Duration, checkPIN func(pin string) agent.PINAttempt, now time.Time) (*machine, effect) {
	m := &machine{idleTimeout: idleTimeout, checkPIN: checkPIN, mode: mode, lastActivity: now}
	if mode == ModeDiagnostics {
		m.mode = ModeKiosk
		return m, m.openDiagnostics()
	}
	return m, m.goHome()
}

// busy reports whether a lookup or payment is in flight.
func (m *machine) busy() bool { return m.awaiting != awaitNothing }

// inDiagnostics reports whether the PIN or diagnostics screen is up.
func (m *machine) inDiagnostics() bool {
	return m.screen == ScreenPIN || m.screen == ScreenDiagnostics
}

// shownMode is the mode State reports: diagnostics on its own screens
// and the PIN's, else the working mode.
func (m *machine) shownMode() Mode {
	if m.inDiagnostics() {
		return ModeDiagnostics
	}
	return m.mode
}

// current reports whether an answer to work started at gen is for the
// screen still up.
func (m *machine) current(gen int) bool { return gen == m.gen }

// home is the screen the idle timeout and Cancel go back to.
func (m *machine) home() Screen {
	if m.mode == ModeCanteen && m.armed {
		return ScreenArmed
	}
	return ScreenIdle
}

// show switches to a screen.
func (m *machine) show(s Screen) effect {
	m.screen = s
	m.gen++
	return effect{render: true}
}

// conclude shows v on screen s and announces it.
func (m *machine) conclude(v verdict, s Screen) effect {
	m.verdict = v
	e := m.show(s)
	e.announce = true
	return e
}

// touch notes activity (a tap, a key, a scan taken): the idle timeout
// counts from the last one.
func (m *machine) touch(now time.Time) { m.lastActivity = now }

// tick applies the idle timeout: a screen left alone for idleTimeout goes
// home, unless it waits for an answer.
func (m *machine) tick(now time.Time) effect {
	if m.busy() || m.screen == m.home() || now.Sub(m.lastActivity) < m.idleTimeout {
		return effect{}
	}
	return m.goHome()
}

// goHome leaves whatever is on screen (abandoning a lookup) for the
// mode's home: Cancel, Done, Back and the idle timeout. A payment in
// flight is never left: its outcome must be shown.
func (m *machine) goHome() effect {
	if m.awaiting == awaitPayment {
		return effect{}
	}
	abandoned := m.awaiting == awaitLookup
	m.awaiting = awaitNothing
	m.card, m.item, m.entry, m.entryErr, m.notice = cardInfo{}, "", "", false, ""
	m.pinEntry, m.pinWrong = "", false
	m.clearPassword()
	m.pwdWrong = false
	if m.mode == ModeKiosk {
		m.amount = 0
	}
	e := m.show(m.home())
	e.endLookup = abandoned
	return e
}

// scanned takes a scan, mapped to id (mapErr when it names nothing the
// terminal can look up): a card for the kiosk's idle (or last result)
// screen or the canteen's armed amount, an echo in diagnostics. Scans
// anywhere else are dropped: a student mid-purchase who taps again must
// not start a second one.
func (m *machine) scanned(id agent.Identity, mapErr error, now time.Time) effect {
	switch {
	case m.screen == ScreenDiagnostics:
		return effect{render: true} // the scan's echo
	case m.busy():
		return effect{}
	case m.mode == ModeKiosk && (m.screen == ScreenIdle || m.screen == ScreenResult):
		// The next student need not wait for the last one's result to go.
	case m.mode == ModeCanteen && m.armed && (m.screen == ScreenArmed || m.screen == ScreenResult):
	case m.mode == ModeCanteen && m.screen == ScreenIdle:
		m.touch(now)
		m.notice = mNotArmed
		return effect{render: true}
	default:
		return effect{}
	}
	m.touch(now)
	if mapErr != nil {
		return m.conclude(verdict{kind: verdictUnmapped}, ScreenResult)
	}
	if m.mode == ModeCanteen {
		m.awaiting = awaitPayment
		e := m.show(ScreenPaying)
		e.start = job{kind: jobCharge, id: id, amount: m.amount, gen: m.gen}
		return e
	}
	m.awaiting = awaitLookup
	e := m.show(ScreenLookup)
	e.start = job{kind: jobLookup, id: id, gen: m.gen}
	return e
}

// lookedUp takes a self-service lookup's answer for the screen of gen: the
// card screen (saying why, for a card that cannot pay), or the result of
// a failed lookup.
func (m *machine) lookedUp(gen int, l agent.CardLookup, err error, now time.Time) effect {
	if !m.current(gen) {
		return effect{} // cancelled, or timed out: the student has gone
	}
	m.awaiting = awaitNothing
	card, v := judgeLookup(l, err, now)
	m.card = card
	var e effect
	switch v.kind {
	case verdictNone:
		e = m.show(ScreenCard)
	case verdictRefused:
		e = m.conclude(v, ScreenCard)
	default:
		e = m.conclude(v, ScreenResult)
	}
	e.endLookup = true
	return e
}

// choose sets the amount (and item) and asks for confirmation.
func (m *machine) choose(item string, amount money.Fen) effect {
	m.item, m.amount = item, amount
	return m.show(ScreenConfirm)
}

// otherAmount opens the keypad for an amount of the student's own.
func (m *machine) otherAmount() effect {
	m.entry, m.entryErr = "", false
	return m.show(ScreenAmount)
}

// keyAmount edits the amount being typed.
func (m *machine) keyAmount(key string) effect {
	m.entry, m.entryErr, m.notice = editAmount(m.entry, key), false, ""
	return effect{render: true}
}

// useEntry hands the amount typed to next, or refuses it on screen.
func (m *machine) useEntry(next func(money.Fen) effect) effect {
	f, ok := parseEntry(m.entry)
	if !ok {
		m.entryErr = true
		return effect{render: true}
	}
	return next(f)
}

// chooseEntry chooses the amount typed (self-service).
func (m *machine) chooseEntry() effect {
	return m.useEntry(func(f money.Fen) effect { return m.choose("", f) })
}

// confirm starts paying the amount chosen from the card on screen; only
// the confirmation screen starts a payment, and only once.
func (m *machine) confirm() effect {
	if m.screen != ScreenConfirm {
		return effect{}
	}
	if m.needPassword != nil && m.needPassword(m.amount) {
		m.clearPassword()
		m.pwdWrong = false
		return m.show(ScreenPassword)
	}
	m.awaiting = awaitPayment
	e := m.show(ScreenPaying)
	e.start = job{kind: jobPay, card: m.card, amount: m.amount, gen: m.gen}
	return e
}

// keyPassword edits the card's password being typed: a digit, "del" or
// "clear".
func (m *machine) keyPassword(key string) effect {
	switch {
	case key == "clear":
		m.clearPassword()
	case key == "del":
		if n := len(m.pwd); n > 0 {
			m.pwd[n-1] = 0
			m.pwd = m.pwd[:n-1]
		}
	case len(key) == 1 && key[0] >= '0' && key[0] <= '9' && len(m.pwd) < pwdMaxLen:
		if m.pwd == nil {
			m.pwd = make([]byte, 0, pwdMaxLen) // never grown: no copy left behind
		}
		m.pwd = append(m.pwd, key[0])
	}
	return effect{render: true}
}

// submitPassword checks the password typed, then pays: the payment's
// screen until the answer; only the password screen starts it, once.
func (m *machine) submitPassword() effect {
	if m.screen != ScreenPassword || len(m.pwd) == 0 {
		return effect{}
	}
	pwd := make([]byte, len(m.pwd))
	copy(pwd, m.pwd)
	m.clearPassword()
	m.awaiting = awaitPayment
	e := m.show(ScreenPaying)
	e.start = job{kind: jobVerifyPay, card: m.card, amount: m.amount, gen: m.gen, pwd: pwd}
	return e
}

// passwordWrong takes a wrong password's answer: the password screen
// again, saying so and how many tries are left before the card is locked
// on this terminal. Nothing was charged.
func (m *machine) passwordWrong(triesLeft int) effect {
	m.awaiting = awaitNothing
	m.pwdWrong, m.pwdTriesLeft = true, triesLeft
	return m.show(ScreenPassword)
}

// payFinished takes a payment's answer, or the canteen lookup's verdict
// that stopped one, and shows it.
func (m *machine) payFinished(v verdict) effect {
	m.awaiting = awaitNothing
	return m.conclude(v, ScreenResult)
}

// arm sets the canteen's amount for the cards that follow.
func (m *machine) arm(amount money.Fen) effect {
	m.amount, m.armed, m.entry, m.entryErr, m.notice = amount, true, "", false, ""
	return m.show(ScreenArmed)
}

// armEntry arms the amount typed (canteen).
func (m *machine) armEntry() effect { return m.useEntry(m.arm) }

// disarm goes back to keying an amount.
func (m *machine) disarm() effect {
	m.armed, m.amount = false, 0
	return m.goHome()
}

// openDiagnostics shows the PIN screen, or diagnostics when no PIN is
// set; not while a card is being looked up or charged.
func (m *machine) openDiagnostics() effect {
	if m.busy() {
		return effect{}
	}
	m.pinEntry, m.pinWrong = "", false
	if m.checkPIN == nil {
		return m.enterDiagnostics()
	}
	return m.show(ScreenPIN)
}

// keyPIN edits the PIN being typed.
func (m *machine) keyPIN(key string) effect {
	m.pinEntry = editPIN(m.pinEntry, key)
	return effect{render: true}
}

// submitPIN checks the PIN typed (the program's guard journals a wrong one
// and locks diagnostics after too many): diagnostics, or the PIN screen
// again saying it was wrong, or until when it is locked.
func (m *machine) submitPIN() effect {
	if m.screen != ScreenPIN {
		return effect{}
	}
	var a agent.PINAttempt
	if m.checkPIN != nil {
		a = m.checkPIN(m.pinEntry)
	}
	m.pinEntry = ""
	m.pinLockedUntil = a.LockedUntil
	if !a.OK {
		m.pinWrong, m.pinTriesLeft = a.LockedUntil.IsZero(), a.TriesLeft
		return effect{render: true}
	}
	m.pinWrong = false
	return m.enterDiagnostics()
}

// enterDiagnostics shows diagnostics, to be read afresh.
func (m *machine) enterDiagnostics() effect {
	e := m.show(ScreenDiagnostics)
	e.diagnostics = true
	return e
}

// setMode switches between kiosk and canteen (from diagnostics); the
// canteen starts unarmed.
func (m *machine) setMode(mode Mode) effect {
	m.mode, m.armed, m.amount = mode, false, 0
	return effect{render: true}
}
