package ui

import (
	"context"
	"errors"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// The Kiosk's half of the flows: it feeds events to the machine, carries
// out the effects the machine returns, and runs the work they ask for off
// the UI goroutine, feeding the answers back.

// feed makes a button's callback of a transition.
func (k *Kiosk) feed(transition func() effect) func() {
	return func() { k.apply(transition()) }
}

// apply carries out what a transition asks: release the lookup it ended,
// report the state, announce a verdict, redraw, start the work.
func (k *Kiosk) apply(e effect) {
	if e.endLookup && k.cancelLookup != nil {
		k.cancelLookup()
		k.cancelLookup = nil
	}
	k.publish(e.announce)
	if e.diagnostics {
		k.diag, k.diagMsg = diagInfo{}, ""
	}
	if e.render {
		k.render()
	}
	switch e.start.kind {
	case jobLookup:
		k.lookup(e.start)
	case jobPay:
		k.pay(e.start)
	case jobCharge:
		k.charge(e.start)
	case jobVerifyPay:
		k.verifyPay(e.start)
	}
	if e.diagnostics {
		k.loadDiagnostics()
	}
}

// publish copies what State reports from the machine; with announce, the
// verdict just shown is reported and sounded too. It keeps the verdict,
// not its words, so that a language switch redraws it in the new one.
func (k *Kiosk) publish(announce bool) {
	result := ""
	if announce {
		result = k.word(k.m.verdict).result
	}
	k.mu.Lock()
	k.st.Screen, k.st.Mode = string(k.m.screen), k.m.shownMode()
	if announce {
		k.st.LastResult = result
	}
	k.mu.Unlock()
	if announce && k.deps.Signal != nil {
		k.deps.Signal(result)
	}
}

// onScan takes a scan on the UI goroutine: kept for diagnostics' echo,
// mapped to the identity it names, and handed to the machine, which
// decides whether this screen takes it.
func (k *Kiosk) onScan(s agent.Scan) {
	k.lastScan = s.Kind + " " + agent.MaskAccount(s.Text)
	if s.Device != "" {
		k.lastScan = s.Device + ": " + k.lastScan
	}
	id, err := k.mapper.Identify(s)
	k.apply(k.m.scanned(id, err, k.opts.Now()))
}

// lookup asks for the card off the UI goroutine; Cancel abandons it.
func (k *Kiosk) lookup(j job) {
	ctx, cancel := context.WithCancel(k.ctx())
	k.cancelLookup = cancel
	ok := k.spawn(func() {
		l, err := k.deps.Agent.LookupCard(ctx, j.id)
		k.post(func() {
			cancel()
			k.apply(k.m.lookedUp(j.gen, l, err, k.opts.Now()))
		})
	})
	if !ok {
		cancel()
	}
}

// pay charges the card on screen, off the UI goroutine. The payment is not
// cancellable, by the customer or by shutdown: once the order is
// journalled its outcome must be recorded and shown.
func (k *Kiosk) pay(j job) {
	ctx := context.WithoutCancel(k.ctx())
	k.spawn(func() {
		v, unfinished := k.payCard(ctx, j.card, j.amount, nil, false)
		k.post(func() { k.payFinished(v, unfinished) })
	})
}

// verifyPay checks the card's password, then pays with the proof, off the
// UI goroutine and, like pay, not cancellable once started. A wrong
// password goes back to the password screen; a card locked on this
// terminal is a result. When the platform cannot be reached the password
// cannot be checked, and Pay, asked without a proof, journals the refusal
// (offline acceptance never covers an amount that needs the password).
func (k *Kiosk) verifyPay(j job) {
	ctx := context.WithoutCancel(k.ctx())
	k.spawn(func() {
		proof, err := k.deps.Agent.VerifyCardPassword(ctx, j.card.account, j.pwd)
		clear(j.pwd)
		var wrong *agent.WrongPasswordError
		var locked *agent.CardLockedError
		switch {
		case err == nil:
			v, n := k.payCard(ctx, j.card, j.amount, &proof, false)
			k.post(func() { k.payFinished(v, n) })
		case errors.As(err, &wrong) && wrong.LockedUntil.IsZero():
			k.post(func() { k.apply(k.m.passwordWrong(wrong.TriesLeft)) })
		case errors.As(err, &wrong):
			k.post(func() {
				k.payFinished(verdict{kind: verdictPasswordLocked, card: j.card, until: wrong.LockedUntil}, -1)
			})
		case errors.As(err, &locked):
			k.post(func() { k.payFinished(verdict{kind: verdictPasswordLocked, card: j.card, until: locked.Until}, -1) })
		case errors.Is(err, agent.ErrPlatformUnreachable):
			v, n := k.payCard(ctx, j.card, j.amount, nil, false)
			k.post(func() { k.payFinished(v, n) })
		default:
			k.post(func() { k.payFinished(verdict{kind: verdictLookupFailed, err: err}, -1) })
		}
	})
}

// charge is the canteen's one step: look the card up and, if the machine's
// rule (judgeLookup) lets it pay, pay the armed amount, all off the UI
// goroutine and, like pay, not cancellable.
func (k *Kiosk) charge(j job) {
	ctx := context.WithoutCancel(k.ctx())
	now := k.opts.Now()
	k.spawn(func() {
		l, err := k.deps.Agent.LookupCard(ctx, j.id)
		card, v := judgeLookup(l, err, now)
		unfinished := -1
		if v.kind == verdictNone {
			v, unfinished = k.payCard(ctx, card, j.amount, nil, true)
			v.named = true
		}
		k.post(func() { k.payFinished(v, unfinished) })
	})
}

// payCard pays amount from card (with the password's proof, when it was
// checked; attended: at the canteen's till, where the cashier is there
// and no password is asked) and counts the unfinished orders after it,
// for the status bar (-1 when they could not be counted). It runs off the
// UI goroutine.
func (k *Kiosk) payCard(ctx context.Context, card cardInfo, amount money.Fen, proof *agent.PasswordProof, attended bool) (verdict, int) {
	o, err := k.deps.Agent.Pay(ctx, agent.PayInput{Account: card.account, Amount: amount, Proof: proof, Attended: attended})
	v := verdict{kind: verdictPayment, err: err, card: card, order: o, amount: amount}
	n, cerr := k.deps.Agent.UnfinishedCount(ctx)
	if cerr != nil {
		return v, -1
	}
	return v, n
}

// payFinished shows a payment's verdict, with the unfinished count
// (unless -1) brought up to date.
func (k *Kiosk) payFinished(v verdict, unfinished int) {
	if unfinished >= 0 {
		k.setUnfinished(unfinished)
	}
	k.apply(k.m.payFinished(v))
}

// reconcile runs a reconciler pass over every unfinished order.
func (k *Kiosk) reconcile() {
	k.diagMsg = k.tx.t(mWorking)
	k.render()
	gen := k.m.gen
	ctx := k.ctx()
	k.spawn(func() {
		rep, err := k.deps.Agent.ReconcileAll(ctx)
		n, cerr := k.deps.Agent.UnfinishedCount(ctx)
		k.post(func() {
			if cerr == nil {
				k.setUnfinished(n)
			}
			if !k.m.current(gen) {
				return
			}
			if err != nil {
				k.diagMsg = k.tx.t(mFailed, err.Error())
			} else {
				k.diagMsg = k.tx.t(mReconciled, len(rep.Settled))
			}
			k.render()
		})
	})
}

// runExtra runs an extra diagnostics action.
func (k *Kiosk) runExtra(a DiagnosticAction) {
	k.diagMsg = k.tx.t(mWorking)
	k.render()
	gen := k.m.gen
	ctx := k.ctx()
	k.spawn(func() {
		text, err := a.Do(ctx)
		k.post(func() {
			if !k.m.current(gen) {
				return
			}
			if err != nil {
				k.diagMsg = k.tx.t(mFailed, err.Error())
			} else {
				k.diagMsg = a.Label + ": " + text
			}
			k.render()
		})
	})
}
