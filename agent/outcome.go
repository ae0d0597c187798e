package agent

// OutcomeKind is what a customer was told of a payment. The values are
// also the outcome label of the kiosk_payments_total metric.
type OutcomeKind string

// What a customer can be told of a payment.
const (
	// OutcomePaid: confirmed by the platform.
	OutcomePaid OutcomeKind = "paid"
	// OutcomeDeclined: refused by the platform; Reason is its code.
	OutcomeDeclined OutcomeKind = "declined"
	// OutcomeWillConfirm: sent, no answer; "the outcome will be confirmed".
	OutcomeWillConfirm OutcomeKind = "unknown"
	// OutcomeRecorded: the platform is unreachable and the payment was
	// accepted within the offline limits; "recorded".
	OutcomeRecorded OutcomeKind = "offline_accepted"
	// OutcomeRefusedOffline: the platform is unreachable and the payment
	// fell outside the offline limits; Reason is the limit (Offline*).
	OutcomeRefusedOffline OutcomeKind = "refused_offline"
	// OutcomeNotCharged: it never reached the platform (offline acceptance
	// off, or a local refusal); nothing was charged.
	OutcomeNotCharged OutcomeKind = "voided"
)

// Outcomes lists every outcome.
func Outcomes() []OutcomeKind {
	return []OutcomeKind{OutcomePaid, OutcomeDeclined, OutcomeWillConfirm, OutcomeRecorded, OutcomeRefusedOffline, OutcomeNotCharged}
}

// Charges reports whether a customer told k was told the payment went
// through, was recorded or would be confirmed: such a payment must end up
// charged exactly once.
func (k OutcomeKind) Charges() bool {
	return k == OutcomePaid || k == OutcomeRecorded || k == OutcomeWillConfirm
}

// Known reports whether k is one of Outcomes.
func (k OutcomeKind) Known() bool {
	for _, o := range Outcomes() {
		if k == o {
			return true
		}
	}
	return false
}

// Outcome is what the customer was told of a payment, journalled on the
// order when the payment decided it and before anyone saw it. An order
// with no Outcome (Kind "") is a refund, or a payment whose customer was
// told nothing (a crash before the outcome was journalled: an orphan).
type Outcome struct {
	Kind OutcomeKind
	// Reason is the platform's code for declined, the offline limit
	// (OfflineAmount, …) for refused_offline; "" otherwise.
	Reason string
}

// OutcomeFromHistory reconstructs what the customer of payment o was told
// from its history and codes, for orders journalled before outcomes were
// (the journal's migration); new orders carry their Outcome.
func OutcomeFromHistory(o Order) Outcome {
	if o.Kind != KindPay || len(o.History) == 0 {
		return Outcome{}
	}
	// The first move the payment itself made, or the state it was created
	// in: what it showed. A later move is the reconciler's.
	first := o.History[0]
	if first.To == StateSending && len(o.History) > 1 {
		first = o.History[1]
	} else if first.To == StateSending {
		return Outcome{}
	}
	switch first.To {
	case StatePaid:
		return Outcome{Kind: OutcomePaid}
	case StateUnknown:
		return Outcome{Kind: OutcomeWillConfirm}
	case StateOfflineAccepted:
		return Outcome{Kind: OutcomeRecorded}
	case StateDeclined:
		return Outcome{Kind: OutcomeDeclined, Reason: o.Code}
	case StateVoided:
		if o.Code == OfflineRefusedCode {
			return Outcome{Kind: OutcomeRefusedOffline}
		}
		return Outcome{Kind: OutcomeNotCharged}
	}
	return Outcome{}
}
