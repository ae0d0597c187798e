// Package promises checks the terminal's two promises against a platform
// ledger: no order is charged twice, no student pays for something the
// terminal never confirmed to them, every payment the terminal did confirm
// is charged exactly once, and no refund pays out more than was charged.
//
// It is the one statement of those invariants, used by every whole-system
// test (the chaos test, the money-lifecycle simulation): they compare a
// settled journal, what the customers were shown, and the simulator's
// ledger, and Check says which order breaks which invariant.
package promises

import (
	"fmt"
	"slices"
	"strings"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// Told is what a customer was shown for one purchase: the terminal said it
// was paid, recorded (offline) or would be confirmed.
type Told struct {
	// Purchase names the purchase (the test's own count), so that one
	// order number shown for two purchases is caught.
	Purchase int
	OrderNo  string
	Account  string
	Amount   money.Fen
	State    agent.OrderState
}

// Invariant names one promise Check verifies.
type Invariant string

// The invariants.
const (
	// ToldChargedOnce: every payment a customer was told was paid,
	// recorded or pending is charged exactly once, for its amount.
	ToldChargedOnce Invariant = "told_charged_once"
	// UntoldNetsZero: every payment the customer was never told about is,
	// in the end, not charged (or charged and refunded in full).
	UntoldNetsZero Invariant = "untold_nets_zero"
	// RefundsMatch: for every payment, what the platform refunded equals
	// the journal's refunded amount (or lies within its pending refunds),
	// and never exceeds the payment.
	RefundsMatch Invariant = "refunds_match"
	// NeverDeniedWhileHeld: no order is declined, voided or failed in the
	// journal while the platform has it done.
	NeverDeniedWhileHeld Invariant = "never_denied_while_held"
	// OneNumberOnePurchase: no order number is shown or charged for two
	// purchases.
	OneNumberOnePurchase Invariant = "one_number_one_purchase"
	// NoStrayTransactions: every platform transaction under this terminal
	// has a journal order (relaxed when the journal was restored from a
	// backup: the orders made since are the platform's alone).
	NoStrayTransactions Invariant = "no_stray_transactions"
)

// Invariants lists them in report order.
func Invariants() []Invariant {
	return []Invariant{ToldChargedOnce, UntoldNetsZero, RefundsMatch, NeverDeniedWhileHeld, OneNumberOnePurchase, NoStrayTransactions}
}

// Input is what Check compares.
type Input struct {
	// Orders is the settled journal, every order.
	Orders []agent.Order
	// Told is what customers were shown. The journal's own record of what
	// it told (written before showing it, so it also holds an outcome a
	// crash kept from the screen) is added to it.
	Told []Told
	// Ledger is the platform's, every transaction.
	Ledger []sim.Transaction
	// Restored says the journal was restored from a backup during the
	// run: payments it lost exist on the platform only, and are not
	// strays. They are counted in Report.Lost.
	Restored bool
}

// Report is Check's verdict and figures.
type Report struct {
	// Violations lists each broken promise, one sentence per order.
	Violations map[Invariant][]string
	// Payments and Refunds count the journal's orders; Told and Untold
	// split the payments by what the customer saw.
	Payments, Refunds, Told, Untold int
	// Refunded is what the platform refunded in all.
	Refunded money.Fen
	// Lost counts platform payments a restored journal no longer has.
	Lost int
	// Forgotten counts payments a customer was told were recorded or
	// pending that a restored journal no longer has and the platform never
	// got: nobody can send them any more (the canteen's loss, no student's).
	Forgotten int
	// FailedAfterOffline counts payments a customer was told were recorded
	// or pending that the platform then declined (the card's balance, a
	// lost card): the goods went out unpaid, as the journal reports.
	FailedAfterOffline int
	// InReview counts payments whose refunds disagree with the platform's
	// while one of them is in a person's hands (needs_review): after a
	// restore, a refund number the journal reused for another amount.
	InReview int
}

// OK reports whether every promise held.
func (r Report) OK() bool { return r.Broken() == 0 }

// Broken counts the violations.
func (r Report) Broken() int {
	n := 0
	for _, v := range r.Violations {
		n += len(v)
	}
	return n
}

// String is one line per invariant with its count, then the violations.
func (r Report) String() string {
	var b strings.Builder
	for _, inv := range Invariants() {
		fmt.Fprintf(&b, "%s=%d ", inv, len(r.Violations[inv]))
	}
	for _, inv := range Invariants() {
		for _, v := range r.Violations[inv] {
			fmt.Fprintf(&b, "\n  %s: %s", inv, v)
		}
	}
	return strings.TrimSpace(b.String())
}

// charged reports whether a platform transaction moved money (a payment
// charged, possibly refunded since; a refund paid out).
func charged(tx sim.Transaction) bool {
	return tx.Status == onecard.StatusPaid || tx.Status == onecard.StatusRefunded
}

// Check compares and reports.
func Check(in Input) Report {
	r := Report{Violations: map[Invariant][]string{}}
	fail := func(inv Invariant, format string, args ...any) {
		r.Violations[inv] = append(r.Violations[inv], fmt.Sprintf(format, args...))
	}
	journal := map[string]agent.Order{}
	for _, o := range in.Orders {
		journal[o.OrderNo] = o
		if o.Kind == agent.KindRefund {
			r.Refunds++
		} else {
			r.Payments++
		}
	}
	ledger := map[string][]sim.Transaction{}
	refunded := map[string]money.Fen{}
	for _, tx := range in.Ledger {
		ledger[tx.OrderNo] = append(ledger[tx.OrderNo], tx)
		if tx.Kind == sim.KindRefund && charged(tx) {
			refunded[tx.RefundOf] += tx.Amount
			r.Refunded += tx.Amount
		}
	}
	told := append(slices.Clone(in.Told), toldFromJournal(in.Orders)...)

	// One order number, one purchase; every told purchase charged once.
	byNo := map[string]Told{}
	for _, t := range told {
		if prev, ok := byNo[t.OrderNo]; ok {
			if prev.Amount != t.Amount || prev.Account != t.Account ||
				prev.Purchase != t.Purchase && prev.Purchase >= 0 && t.Purchase >= 0 {
				fail(OneNumberOnePurchase, "order %s was shown for purchase %d (%s) and purchase %d (%s)",
					t.OrderNo, prev.Purchase, prev.Amount.Yuan(), t.Purchase, t.Amount.Yuan())
			}
			continue
		}
		byNo[t.OrderNo] = t
	}
	r.Told = len(byNo)
	for no, t := range byNo {
		var charges []sim.Transaction
		for _, tx := range ledger[no] {
			if tx.Kind == sim.KindPay && charged(tx) {
				charges = append(charges, tx)
			}
		}
		_, inJournal := journal[no]
		switch {
		case len(charges) == 0 && !inJournal && in.Restored && t.State != agent.StatePaid:
			r.Forgotten++
		case len(charges) == 0 && t.State != agent.StatePaid && journal[no].State == agent.StateFailedAfterOffline &&
			slices.ContainsFunc(ledger[no], func(tx sim.Transaction) bool { return tx.Status == onecard.StatusFailed }):
			r.FailedAfterOffline++
		case len(charges) == 0:
			fail(ToldChargedOnce, "order %s: the customer was told %s for %s, the platform never charged it (journal: %s)", no, t.State, t.Amount.Yuan(), journal[no].State)
		case len(charges) > 1:
			fail(ToldChargedOnce, "order %s charged %d times", no, len(charges))
		case charges[0].Amount != t.Amount || charges[0].Account != t.Account:
			fail(OneNumberOnePurchase, "order %s: the customer was told %s, the platform charged %s", no, t.Amount.Yuan(), charges[0].Amount.Yuan())
		}
		if o, ok := journal[no]; ok && o.Amount != t.Amount {
			fail(OneNumberOnePurchase, "order %s: the customer was told %s, the journal has %s", no, t.Amount.Yuan(), o.Amount.Yuan())
		}
	}

	for _, o := range in.Orders {
		txs := ledger[o.OrderNo]
		held := slices.ContainsFunc(txs, charged)
		switch {
		case o.Kind == agent.KindPay:
			if _, wasTold := byNo[o.OrderNo]; !wasTold {
				r.Untold++
				var net money.Fen
				for _, tx := range txs {
					if tx.Kind == sim.KindPay && charged(tx) {
						net += tx.Amount
					}
				}
				if net -= refunded[o.OrderNo]; net != 0 {
					fail(UntoldNetsZero, "order %s: never confirmed to the customer, ends %s with %s charged", o.OrderNo, o.State, net.Yuan())
				}
			}
			platform := refunded[o.OrderNo]
			var pending money.Fen
			reviewed := false
			for _, no := range o.PendingRefunds {
				pending += journal[no].Amount
				reviewed = reviewed || journal[no].State == agent.StateNeedsReview
			}
			switch {
			case platform > o.Amount:
				fail(RefundsMatch, "payment %s of %s: the platform refunded %s", o.OrderNo, o.Amount.Yuan(), platform.Yuan())
			case (platform < o.Refunded || platform > o.Refunded+pending) && reviewed && in.Restored:
				r.InReview++
			case platform < o.Refunded || platform > o.Refunded+pending:
				fail(RefundsMatch, "payment %s: the journal has %s refunded (%s pending), the platform refunded %s",
					o.OrderNo, o.Refunded.Yuan(), pending.Yuan(), platform.Yuan())
			}
			if held && (o.State == agent.StateDeclined || o.State == agent.StateVoided || o.State == agent.StateFailedAfterOffline) {
				fail(NeverDeniedWhileHeld, "payment %s is %s in the journal, charged on the platform", o.OrderNo, o.State)
			}
		case held && o.State == agent.StateDeclined:
			fail(NeverDeniedWhileHeld, "refund %s is declined in the journal, paid out by the platform", o.OrderNo)
		}
	}

	for no, txs := range ledger {
		o, ok := journal[no]
		switch {
		case ok && string(o.Kind) == string(txs[0].Kind):
		case !ok && in.Restored:
			if txs[0].Kind == sim.KindPay {
				r.Lost++
			}
		default:
			fail(NoStrayTransactions, "platform %s %s (%s) has no journal order", txs[0].Kind, no, txs[0].Status)
		}
	}
	for _, inv := range Invariants() {
		slices.Sort(r.Violations[inv])
	}
	return r
}

// toldFromJournal reads what customers were told from the orders'
// journalled outcomes: the journal records them before they are shown.
// Their purchase is unknown (-1).
func toldFromJournal(orders []agent.Order) []Told {
	var told []Told
	for _, o := range orders {
		if agent.ToldCustomer(o) {
			told = append(told, Told{Purchase: -1, OrderNo: o.OrderNo, Account: o.Account, Amount: o.Amount, State: toldState(o.Outcome.Kind)})
		}
	}
	return told
}

// toldState is the state a payment returns with when its customer is told
// k: what a test that watched the payment saw.
func toldState(k agent.OutcomeKind) agent.OrderState {
	switch k {
	case agent.OutcomePaid:
		return agent.StatePaid
	case agent.OutcomeRecorded:
		return agent.StateOfflineAccepted
	case agent.OutcomeWillConfirm:
		return agent.StateUnknown
	}
	return ""
}
