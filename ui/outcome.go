package ui

import (
	"errors"

	"fyne.io/fyne/v2/widget"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// outcome is a result screen: what happened, in the customer's words.
type outcome struct {
	result     string // a Result constant
	title      string
	lines      []string
	importance widget.Importance
}

// word says a verdict in the customer's words, in the language shown now.
func (k *Kiosk) word(v verdict) outcome {
	tx := k.tx
	switch v.kind {
	case verdictUnmapped:
		return outcome{result: ResultLookupFailed, title: tx.t(mUnmapped), importance: widget.DangerImportance}
	case verdictLookupFailed:
		return k.lookupFailure(v.err)
	case verdictNotFound:
		return outcome{result: ResultLookupFailed, title: tx.t(mNotFound), importance: widget.DangerImportance}
	case verdictRefused:
		return outcome{result: ResultCardRefused, title: tx.t(v.card.refusal), importance: widget.DangerImportance}
	case verdictPasswordLocked:
		until := v.until.In(k.deps.Agent.Options().Location).Format("15:04")
		return outcome{result: ResultPasswordLocked, title: tx.t(mPwdLocked, until), lines: []string{tx.t(mPwdCentre)},
			importance: widget.DangerImportance}
	case verdictPayment:
		out := k.payOutcome(v.order, v.err, v.card, v.amount)
		if v.named && v.card.name != "" {
			out.lines = append([]string{v.card.name}, out.lines...)
		}
		return out
	}
	return outcome{}
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
