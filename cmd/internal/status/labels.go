package status

import (
	"errors"
	"strings"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Payment outcomes, the values of kiosk_payments_total's outcome label:
// what the customer was told, as the journal recorded it.
const (
	outcomePaid            = "paid"
	outcomeDeclined        = "declined"
	outcomeUnknown         = "unknown"
	outcomeOfflineAccepted = "offline_accepted"
	// outcomeRefusedOffline: the platform was unreachable and the payment
	// fell outside the offline limits.
	outcomeRefusedOffline = "refused_offline"
	// outcomeVoided: never reached the platform, offline acceptance off.
	outcomeVoided = "voided"
)

// outcomes lists every outcome, so that each series exists (at 0) from
// the first scrape: a rate over a series that appears late misses its
// first increment.
func outcomes() []string {
	return []string{outcomePaid, outcomeDeclined, outcomeUnknown, outcomeOfflineAccepted, outcomeRefusedOffline, outcomeVoided}
}

// paymentOutcome says what the customer was told when c is the write that
// decided a payment: its creation as offline_accepted or refused offline
// (the platform known to be unreachable), or its move out of sending by
// the payment itself.
//
// The reconciler also moves payments out of sending: orphans, left behind
// by a crash, whose customer was told nothing. It counts a look at the
// platform (Attempts) with every such move, and sends them only to states a
// payment never reaches directly (orphan_charged, needs_review) otherwise;
// the payment's own settlement leaves Attempts alone. That is how an orphan
// is told apart, and TestOrphanIsNoPaymentOutcome holds the agent to it.
func paymentOutcome(c agent.OrderChange) (string, bool) {
	o := c.After
	if o.Kind != agent.KindPay {
		return "", false
	}
	if c.Before == nil {
		switch {
		case o.State == agent.StateOfflineAccepted:
			return outcomeOfflineAccepted, true
		case o.State == agent.StateVoided && o.Code == agent.OfflineRefusedCode:
			return outcomeRefusedOffline, true
		}
		return "", false
	}
	if c.Before.State != agent.StateSending || o.Attempts != c.Before.Attempts {
		return "", false
	}
	switch o.State {
	case agent.StatePaid:
		return outcomePaid, true
	case agent.StateDeclined:
		return outcomeDeclined, true
	case agent.StateUnknown:
		return outcomeUnknown, true
	case agent.StateOfflineAccepted:
		return outcomeOfflineAccepted, true
	case agent.StateVoided:
		if o.Code == agent.OfflineRefusedCode {
			return outcomeRefusedOffline, true
		}
		return outcomeVoided, true
	}
	return "", false
}

// methods lists the platform methods with their short label: the method
// name after "synjones.onecard." (or "synjones."), as the spec's tables
// name them.
func methods() map[string]string {
	return map[string]string{
		onecard.MethodAccessToken: "authorize.access_token",
		onecard.MethodQueryCard:   "query.card",
		onecard.MethodPay:         "gdccard.pay",
		onecard.MethodRefund:      "gdccard.refund",
		onecard.MethodPayQuery:    "pay.query",
		onecard.MethodDownBill:    "down.bill",
	}
}

// methodOther labels a method the client does not know, so that a bad
// value cannot make series without end.
const methodOther = "other"

// Error kinds, the values of kiosk_platform_errors_total's kind label.
const (
	// kindDeclined: the platform answered and refused (a retcode, or a
	// definite errcode).
	kindDeclined = "declined"
	// kindUnknown: sent, and no trustworthy answer came back
	// (onecard.OutcomeUnknown).
	kindUnknown = "unknown"
	// kindNotSent: refused locally or never reached the platform.
	kindNotSent = "not_sent"
)

func errorKind(err error) string {
	var (
		re *onecard.RequestError
		te *onecard.TransportError
	)
	switch {
	case onecard.OutcomeUnknown(err):
		return kindUnknown
	case errors.As(err, &re), errors.As(err, &te) && !te.Sent:
		return kindNotSent
	}
	return kindDeclined
}

// Codes of errors that carry none from the platform, and of codes that are
// not a platform code at all.
const (
	codeNone  = "none"
	codeOther = "other"
)

// maxCodeLen bounds a code label: the spec's codes are at most 5 digits.
const maxCodeLen = 8

// errorCode is the platform's errcode or retcode of err (onecard.ErrorCode),
// codeNone when it carries none, codeOther when what it carries does not
// look like a code: a label takes only a bounded set of values.
func errorCode(err error) string {
	c := onecard.ErrorCode(err)
	switch {
	case c == "":
		return codeNone
	case len(c) > maxCodeLen || strings.Trim(strings.TrimPrefix(c, "-"), "0123456789") != "" || c == "-":
		return codeOther
	}
	return c
}

// stateFrom is kiosk_order_transitions_total's from label for a created
// order.
const stateFrom = "new"
