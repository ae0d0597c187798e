package ui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
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

// cardFromLookup is the card to charge from a lookup (agent.CardLookup.Choose
// picks it); with no card at all, account stays "".
func cardFromLookup(l agent.CardLookup, now time.Time) cardInfo {
	c, refusal, ok := l.Choose(now)
	if !ok {
		return cardInfo{refusal: mNotFound}
	}
	return cardInfo{account: c.Account, name: agent.MaskName(c.Name), balance: c.Balance, cached: c.Cached,
		refusal: refusalText(refusal)}
}

// refusalText is the catalogue's words for why a card may not pay.
func refusalText(r agent.CardRefusal) msg {
	switch r {
	case agent.CardLost:
		return mRefusedLost
	case agent.CardFrozen:
		return mRefusedFrozen
	case agent.CardExpired:
		return mRefusedExpiry
	}
	return ""
}

// outcome is a result screen: what happened, in the customer's words.
type outcome struct {
	result     string // a Result constant
	title      string
	lines      []string
	importance widget.Importance
}

// payOutcome says what a payment's journalled order and error mean for
// the customer: the order's Outcome, journalled before Pay returned, is
// what the journal says the customer was told.
func (k *Kiosk) payOutcome(o agent.Order, err error, c cardInfo, amount money.Fen) outcome {
	tx := k.tx
	kind := o.Outcome.Kind
	if o.OrderNo != "" && kind == "" {
		// Journalled, but its outcome could not be: the reconciler treats
		// the order as an orphan and finds out.
		kind = agent.OutcomeWillConfirm
	}
	switch kind {
	case agent.OutcomePaid:
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
	case agent.OutcomeRecorded:
		return outcome{result: ResultOffline, title: tx.t(mRecorded), lines: []string{amount.String(), tx.t(mRecordedHint)},
			importance: widget.WarningImportance}
	case agent.OutcomeWillConfirm:
		return outcome{result: ResultUnknown, title: tx.t(mUnknown), lines: []string{amount.String(), tx.t(mUnknownHint)},
			importance: widget.WarningImportance}
	case agent.OutcomeDeclined:
		return outcome{result: ResultDeclined, title: tx.t(mDeclined, k.declineReason(err, o)), importance: widget.DangerImportance}
	case agent.OutcomeRefusedOffline:
		return k.offlineRefused(o.Outcome.Reason, o.Message)
	}
	// Not charged: never sent, or refused before anything was journalled.
	var refusal *agent.OfflineRefusal
	var invalid *agent.InvalidRequest
	var declined *agent.Declined
	reason := tx.t(mNoPlatform)
	switch {
	case errors.As(err, &refusal):
		return k.offlineRefused(refusal.Code, refusal.Reason)
	case errors.As(err, &declined):
		reason = k.declineReason(err, o)
	case errors.As(err, &invalid):
		reason = invalid.Reason
	}
	return outcome{result: ResultNotCharged, title: tx.t(mNotCharged, reason), importance: widget.DangerImportance}
}

// offlineRefused is the screen of a payment refused offline: the
// catalogue's words for the limit (code), else the agent's English reason.
func (k *Kiosk) offlineRefused(code, reason string) outcome {
	if key := msg("offline." + code); k.tx.has(key) {
		reason = k.tx.t(key)
	}
	return outcome{result: ResultOfflineRefused, title: k.tx.t(mOfflineRefuse, reason), importance: widget.DangerImportance}
}

// declineReason says in plain words why the platform refused: the
// catalogue's text for a known code; else the platform's own message
// (in Chinese) or the code's English text.
func (k *Kiosk) declineReason(err error, o agent.Order) string {
	tx := k.tx
	var d *agent.Declined
	code, platformMsg, text := o.Code, "", ""
	if errors.As(err, &d) {
		if d.System {
			return tx.t(mSystemRefused, d.Text)
		}
		code, platformMsg, text = d.Code, d.Message, d.Text
	}
	if key := msg("decline." + code); tx.has(key) {
		return tx.t(key)
	}
	if tx.lang == langZH && platformMsg != "" {
		return platformMsg
	}
	if text != "" {
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
	var d *agent.Declined
	title := tx.t(mLookupFailed, tx.t(mNoPlatform))
	switch {
	case errors.Is(err, agent.ErrCardNotFound):
		title = tx.t(mNotFound)
	case errors.As(err, &d) && !d.System:
		title = tx.t(mLookupFailed, k.declineReason(err, agent.Order{}))
	case errors.Is(err, agent.ErrPlatformUnreachable):
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
	id, err := k.mapper.Identify(s)
	if err != nil {
		k.setResult(func() outcome {
			return outcome{result: ResultLookupFailed, title: k.tx.t(mUnmapped), importance: widget.DangerImportance}
		})
		k.show(ScreenResult)
		return
	}
	if k.mode == ModeCanteen {
		k.charge(id)
		return
	}
	k.lookup(id)
}

// lookup asks for the card off the UI goroutine; Cancel abandons it.
func (k *Kiosk) lookup(id agent.Identity) {
	ctx, cancel := context.WithCancel(k.ctx())
	k.busy, k.cancelOp = true, cancel
	k.show(ScreenLookup)
	gen := k.gen
	ok := k.spawn(func() {
		l, err := k.deps.Agent.LookupCard(ctx, id)
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
		o, err := k.deps.Agent.Pay(ctx, agent.PayInput{Account: card.account, Amount: amount})
		n, cerr := k.deps.Agent.UnfinishedCount(ctx)
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
func (k *Kiosk) charge(id agent.Identity) {
	amount := k.amount
	k.busy, k.paying = true, true
	k.show(ScreenPaying)
	ctx := context.WithoutCancel(k.ctx())
	now := k.opts.Now()
	k.spawn(func() {
		var done func()
		l, err := k.deps.Agent.LookupCard(ctx, id)
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
			o, err := k.deps.Agent.Pay(ctx, agent.PayInput{Account: card.account, Amount: amount})
			n, cerr := k.deps.Agent.UnfinishedCount(ctx)
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
		rep, err := k.deps.Agent.ReconcileAll(ctx)
		n, cerr := k.deps.Agent.UnfinishedCount(ctx)
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
