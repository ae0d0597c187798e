package ui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// cardInfo is the card on screen: what a person may see of it, and the
// account a payment names.
type cardInfo struct {
	account string
	name    string // masked
	balance money.Fen
	// cached: the platform was unreachable and this is the terminal's
	// memory of the card, balance as last seen.
	cached bool
	// refusal says why the card cannot pay; "" when it can.
	refusal msg
}

// cardFromLookup picks the card to charge from a lookup: of several
// (an identity with an old lost card and a new one) the first that can
// pay, else the first, whose refusal is then shown.
func cardFromLookup(l agent.CardLookup, now time.Time) cardInfo {
	if l.Cached != nil {
		c := cardInfo{account: l.Cached.Account, name: l.Cached.MaskedName, balance: l.Cached.Balance, cached: true}
		switch {
		case l.Cached.Lost:
			c.refusal = mRefusedLost
		case l.Cached.Frozen:
			c.refusal = mRefusedFrozen
		}
		return c
	}
	first := cardInfo{refusal: mNotFound} // no card at all: account stays ""
	for i, oc := range l.Cards {
		c := cardInfo{account: oc.Account, name: agent.MaskName(oc.Name), balance: oc.Balance}
		switch {
		case oc.Lost:
			c.refusal = mRefusedLost
		case oc.Frozen:
			c.refusal = mRefusedFrozen
		case expired(oc.ExpDate, now):
			c.refusal = mRefusedExpiry
		}
		if c.refusal == "" {
			return c
		}
		if i == 0 {
			first = c
		}
	}
	return first
}

// expired reports whether a yyyyMMdd expiry date has passed; a missing or
// malformed date is left to the platform to judge.
func expired(exp string, now time.Time) bool {
	d, err := time.ParseInLocation("20060102", exp, now.Location())
	return err == nil && now.After(d.AddDate(0, 0, 1))
}

// outcome is a result screen: what happened, in the customer's words.
type outcome struct {
	result     string // a Result constant
	title      string
	lines      []string
	importance widget.Importance
}

// payOutcome says what a payment's journalled order and error mean for
// the customer. The order's state decides when the order was journalled:
// it is what the journal says the customer was told.
func (k *Kiosk) payOutcome(o agent.Order, err error, c cardInfo, amount money.Fen) outcome {
	tx := k.tx
	var refusal *agent.OfflineRefusal
	state := o.State
	if o.OrderNo == "" {
		// Refused before anything was journalled: not charged.
		state = agent.StateVoided
	}
	switch state {
	case agent.StatePaid:
		out := outcome{result: ResultPaid, title: tx.t(mPaid) + "  " + amount.String(), importance: widget.SuccessImportance}
		if o.OutID != "" {
			out.lines = append(out.lines, tx.t(mOutID, o.OutID))
		}
		if !c.cached && c.balance >= amount {
			// The balance the lookup showed, less this payment: exact
			// unless the card paid elsewhere in between.
			out.lines = append(out.lines, tx.t(mNewBalance, (c.balance-amount).String()))
		}
		return out
	case agent.StateOfflineAccepted:
		return outcome{result: ResultOffline, title: tx.t(mRecorded), lines: []string{amount.String(), tx.t(mRecordedHint)},
			importance: widget.WarningImportance}
	case agent.StateUnknown, agent.StateSending:
		// Sending: the outcome could not be journalled; the reconciler
		// treats the order as an orphan and finds out.
		return outcome{result: ResultUnknown, title: tx.t(mUnknown), lines: []string{amount.String(), tx.t(mUnknownHint)},
			importance: widget.WarningImportance}
	case agent.StateDeclined:
		return outcome{result: ResultDeclined, title: tx.t(mDeclined, k.declineReason(err, o)), importance: widget.DangerImportance}
	}
	if errors.As(err, &refusal) {
		reason := refusal.Reason
		if key := msg("offline." + refusal.Code); tx.has(key) {
			reason = tx.t(key)
		}
		return outcome{result: ResultOfflineRefused, title: tx.t(mOfflineRefuse, reason), importance: widget.DangerImportance}
	}
	reason := tx.t(mNoPlatform)
	var be *onecard.BusinessError
	var re *onecard.RequestError
	switch {
	case errors.As(err, &be):
		reason = k.declineReason(err, o)
	case errors.As(err, &re):
		reason = re.Reason
	}
	return outcome{result: ResultNotCharged, title: tx.t(mNotCharged, reason), importance: widget.DangerImportance}
}

// declineReason says in plain words why the platform refused: the
// catalogue's text for a known retcode; else the platform's own message
// (in Chinese) or the retcode's English text.
func (k *Kiosk) declineReason(err error, o agent.Order) string {
	tx := k.tx
	var be *onecard.BusinessError
	var se *onecard.SystemError
	code, platformMsg := o.Code, ""
	switch {
	case errors.As(err, &be):
		code, platformMsg = be.Retcode, be.Msg
	case errors.As(err, &se):
		return tx.t(mSystemRefused, onecard.SystemErrorText(se.Code))
	}
	if key := msg("decline." + code); tx.has(key) {
		return tx.t(key)
	}
	if tx.lang == langZH && platformMsg != "" {
		return platformMsg
	}
	if text := onecard.RetcodeText(code); code != "" && text != "business error" {
		return text
	}
	if platformMsg != "" {
		return platformMsg
	}
	return tx.t(mDeclineOther, code)
}

// lookupFailure says why a card could not be shown.
func (k *Kiosk) lookupFailure(err error) outcome {
	tx := k.tx
	var be *onecard.BusinessError
	var te *onecard.TransportError
	title := tx.t(mLookupFailed, tx.t(mNoPlatform))
	switch {
	case errors.As(err, &be) && be.Retcode == onecard.RetcodeAccountNotFound:
		title = tx.t(mNotFound)
	case errors.As(err, &be):
		title = tx.t(mLookupFailed, k.declineReason(err, agent.Order{}))
	case errors.As(err, &te) && !te.Sent:
		title = tx.t(mUnreachable)
	}
	return outcome{result: ResultLookupFailed, title: title, importance: widget.DangerImportance}
}

// onScan handles a scan on the UI goroutine: a card for the kiosk's idle
// (or last result) screen or the canteen's armed amount, an echo in
// diagnostics. Scans anywhere else are dropped: a student mid-purchase who
// taps again must not start a second one.
func (k *Kiosk) onScan(s agent.Scan) {
	k.lastScan = s.Kind + " " + agent.MaskAccount(s.Text)
	if s.Device != "" {
		k.lastScan = s.Device + ": " + k.lastScan
	}
	switch {
	case k.screen == ScreenDiagnostics:
		k.render()
		return
	case k.busy:
		return
	case k.mode == ModeKiosk && (k.screen == ScreenIdle || k.screen == ScreenResult):
		// The next student need not wait for the last one's result to go.
	case k.mode == ModeCanteen && k.armed && (k.screen == ScreenArmed || k.screen == ScreenResult):
	case k.mode == ModeCanteen && k.screen == ScreenIdle:
		k.touch()
		k.notice = k.tx.t(mNotArmed)
		k.render()
		return
	default:
		return
	}
	k.touch()
	q, err := k.mapper.Query(s)
	if err != nil {
		k.setResult(func() outcome {
			return outcome{result: ResultLookupFailed, title: k.tx.t(mUnmapped), importance: widget.DangerImportance}
		})
		k.show(ScreenResult)
		return
	}
	if k.mode == ModeCanteen {
		k.charge(q)
		return
	}
	k.lookup(q)
}

// lookup asks for the card off the UI goroutine; Cancel abandons it.
func (k *Kiosk) lookup(q onecard.CardQuery) {
	ctx, cancel := context.WithCancel(k.ctx())
	k.busy, k.cancelOp = true, cancel
	k.show(ScreenLookup)
	gen := k.gen
	ok := k.spawn(func() {
		l, err := k.deps.Service.LookupCard(ctx, q)
		k.post(func() {
			cancel()
			if gen != k.gen {
				return // cancelled, or timed out: the student has gone
			}
			k.busy, k.cancelOp = false, nil
			k.bar.update()
			if err != nil {
				k.setResult(func() outcome { return k.lookupFailure(err) })
				k.show(ScreenResult)
				return
			}
			k.card = cardFromLookup(l, k.opts.Now())
			if k.card.account == "" {
				k.setResult(func() outcome {
					return outcome{result: ResultLookupFailed, title: k.tx.t(mNotFound), importance: widget.DangerImportance}
				})
				k.show(ScreenResult)
				return
			}
			if k.card.refusal != "" {
				refusal := k.card.refusal
				k.setResult(func() outcome {
					return outcome{result: ResultCardRefused, title: k.tx.t(refusal), importance: widget.DangerImportance}
				})
			}
			k.show(ScreenCard)
		})
	})
	if !ok {
		cancel()
	}
}

// choose sets the amount (and item) and asks for confirmation.
func (k *Kiosk) choose(item string, amount money.Fen) {
	k.item, k.amount = item, amount
	k.show(ScreenConfirm)
}

// pay charges the card on screen, off the UI goroutine. The payment is not
// cancellable, by the customer or by shutdown: once the order is
// journalled its outcome must be recorded and shown.
func (k *Kiosk) pay() {
	card, amount := k.card, k.amount
	k.busy, k.paying = true, true
	k.show(ScreenPaying)
	ctx := context.WithoutCancel(k.ctx())
	k.spawn(func() {
		o, err := k.deps.Service.Pay(ctx, agent.PayInput{Account: card.account, Amount: amount})
		n, cerr := k.deps.Service.Journal().UnfinishedCount(ctx)
		k.post(func() {
			k.busy, k.paying = false, false
			if cerr == nil {
				k.setUnfinished(n)
			}
			k.setResult(func() outcome { return k.payOutcome(o, err, card, amount) })
			k.show(ScreenResult)
		})
	})
}

// charge is the canteen's one step: look the card up and pay the armed
// amount, off the UI goroutine.
func (k *Kiosk) charge(q onecard.CardQuery) {
	amount := k.amount
	k.busy, k.paying = true, true
	k.show(ScreenPaying)
	ctx := context.WithoutCancel(k.ctx())
	now := k.opts.Now()
	k.spawn(func() {
		var done func()
		l, err := k.deps.Service.LookupCard(ctx, q)
		card := cardFromLookup(l, now)
		switch {
		case err != nil:
			done = func() { k.setResult(func() outcome { return k.lookupFailure(err) }) }
		case card.account == "":
			done = func() {
				k.setResult(func() outcome {
					return outcome{result: ResultLookupFailed, title: k.tx.t(mNotFound), importance: widget.DangerImportance}
				})
			}
		case card.refusal != "":
			done = func() {
				k.setResult(func() outcome {
					return outcome{result: ResultCardRefused, title: k.tx.t(card.refusal), importance: widget.DangerImportance}
				})
			}
		default:
			o, err := k.deps.Service.Pay(ctx, agent.PayInput{Account: card.account, Amount: amount})
			n, cerr := k.deps.Service.Journal().UnfinishedCount(ctx)
			done = func() {
				if cerr == nil {
					k.setUnfinished(n)
				}
				k.setResult(func() outcome {
					out := k.payOutcome(o, err, card, amount)
					if card.name != "" {
						out.lines = append([]string{card.name}, out.lines...)
					}
					return out
				})
			}
		}
		k.post(func() {
			k.busy, k.paying = false, false
			done()
			k.show(ScreenResult)
		})
	})
}

// arm sets the canteen's amount for the cards that follow.
func (k *Kiosk) arm(amount money.Fen) {
	k.amount, k.armed, k.entry, k.entryErr, k.notice = amount, true, "", false, ""
	k.show(ScreenArmed)
}

// disarm goes back to keying an amount.
func (k *Kiosk) disarm() {
	k.armed, k.amount = false, 0
	k.goHome()
}

// openDiagnostics shows the PIN screen, or diagnostics when no PIN is set.
func (k *Kiosk) openDiagnostics() {
	if k.busy {
		return
	}
	k.pinEntry, k.pinWrong, k.diagMsg = "", false, ""
	if k.pinHash == nil {
		k.enterDiagnostics()
		return
	}
	k.show(ScreenPIN)
}

// submitPIN checks the PIN typed.
func (k *Kiosk) submitPIN() {
	ok := k.pinMatches(k.pinEntry)
	k.pinEntry = ""
	if !ok {
		k.pinWrong = true
		k.render()
		return
	}
	k.pinWrong = false
	k.enterDiagnostics()
}

// setMode switches between kiosk and canteen (from diagnostics).
func (k *Kiosk) setMode(m Mode) {
	k.mode, k.armed, k.amount = m, false, 0
	k.render()
}

// reconcile runs a reconciler pass over every unfinished order.
func (k *Kiosk) reconcile() {
	k.diagMsg = k.tx.t(mWorking)
	k.render()
	gen := k.gen
	ctx := k.ctx()
	k.spawn(func() {
		rep, err := k.deps.Service.ReconcileAll(ctx)
		n, cerr := k.deps.Service.Journal().UnfinishedCount(ctx)
		k.post(func() {
			if cerr == nil {
				k.setUnfinished(n)
			}
			if gen != k.gen {
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
	gen := k.gen
	ctx := k.ctx()
	k.spawn(func() {
		text, err := a.Do(ctx)
		k.post(func() {
			if gen != k.gen {
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
