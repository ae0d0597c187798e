package agent

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent/onecard"
)

// Bill row statuses. The bill carries only the outcome of a transaction: a
// payment later refunded stays "60", the refund being a row of its own.
const (
	billStatusSuccess = "60"
	billStatusFailed  = "77"
)

// BillMatches lists every bill reconciliation class, in report order.
func BillMatches() []BillMatch {
	return []BillMatch{BillMatched, BillPlatformOnly, BillJournalOnly, BillAmountMismatch, BillStatusMismatch}
}

// CompareBill compares one day's bill with the journal's orders of that day
// and returns the report (Created = now).
//
// orders are the journal orders created on that platform-local day plus
// every journal order whose number appears on the bill, whatever day it was
// created (an order sent just before midnight may be billed the next day).
// An order may be passed more than once; the copy updated last counts. A nil
// bill is an empty one.
//
// Every order number on either side gets one class:
//   - BillPlatformOnly: on the bill, not in the journal;
//   - BillJournalOnly: in the journal in a state the platform should know
//     of (or may know of: the unfinished ones), not on the bill;
//   - BillStatusMismatch: on both, but the bill's type or status contradicts
//     the journal's kind or state, the journal has not settled the order
//     yet, or the number is billed more than once;
//   - BillAmountMismatch: on both, states agree, amounts differ;
//   - BillMatched: everything else, including an order that never reached
//     the platform or was refused by it and is, as expected, not billed.
//
// The bill may hold other terminals' orders when several share an app_key;
// the caller drops those rows first if it wants them out of the report.
func CompareBill(date string, bill *onecard.Bill, orders []Order, now time.Time) BillReport {
	r := BillReport{Date: date, Created: now, State: SettlementDone, Counts: make(map[BillMatch]int)}
	for _, m := range BillMatches() {
		r.Counts[m] = 0
	}

	billed := make(map[string][]onecard.BillRow)
	if bill != nil {
		r.BillCount, r.BillTotal = bill.Count, bill.Total
		for _, row := range bill.Rows {
			billed[row.OrderNo] = append(billed[row.OrderNo], row)
		}
	}
	journal := make(map[string]Order, len(orders))
	for _, o := range orders {
		if prev, ok := journal[o.OrderNo]; ok && !o.Updated.After(prev.Updated) {
			continue
		}
		journal[o.OrderNo] = o
	}

	nos := make([]string, 0, len(billed)+len(journal))
	for no := range billed {
		nos = append(nos, no)
	}
	for no := range journal {
		if _, ok := billed[no]; !ok {
			nos = append(nos, no)
		}
	}
	// Sorting the numbers sorts the lines, and makes the report the same
	// whatever order the maps iterate in.
	slices.Sort(nos)

	for _, no := range nos {
		o, inJournal := journal[no]
		var line BillLine
		switch rows := billed[no]; {
		case !inJournal:
			line = billPlatformOnlyLine(no, rows)
		case len(rows) == 0:
			line = billJournalOnlyLine(o)
		default:
			line = billBothLine(o, rows)
		}
		r.Counts[line.Match]++
		if line.Match != BillMatched {
			r.Lines = append(r.Lines, line)
		}
	}
	return r
}

// billPlatformOnlyLine judges a number the bill has and the journal does not.
func billPlatformOnlyLine(no string, rows []onecard.BillRow) BillLine {
	row := billMainRow(rows)
	line := BillLine{OrderNo: no, Match: BillPlatformOnly, BillType: row.Type, BillStatus: row.Status,
		BillAmount: row.Amount, OutID: row.OutID, Account: row.Account, BillTime: row.Time}
	switch row.Status {
	case billStatusSuccess:
		// Money moved with no sale behind it on this terminal, or the
		// journal lost an order: either way a person must find out which.
		line.Note = fmt.Sprintf("SERIOUS: the platform %s %s under this number but the journal has no such order",
			billPlatformDid(row), row.Amount)
	case billStatusFailed:
		line.Note = fmt.Sprintf("the platform failed a %s the journal has no order for; no money moved",
			billTypeName(row.Type))
	default:
		line.Note = fmt.Sprintf("the platform has a %s in status %q that the journal has no order for",
			billTypeName(row.Type), row.Status)
	}
	if len(rows) > 1 {
		line.Note += fmt.Sprintf("; the number appears %d times on the bill", len(rows))
	}
	return line
}

// billJournalOnlyLine judges an order the bill does not show.
func billJournalOnlyLine(o Order) BillLine {
	line := BillLine{OrderNo: o.OrderNo, JournalState: o.State, JournalAmount: o.Amount, OutID: o.OutID}
	switch {
	case !billExpected(o.State):
		// Never reached the platform, was refused, or awaits a person: its
		// absence agrees with the journal.
		line.Match = BillMatched
	case billUnsettled(o.State):
		line.Match = BillJournalOnly
		line.Note = fmt.Sprintf("journal still %s and the bill does not show it: query the platform", o.State)
	default:
		line.Match = BillJournalOnly
		line.Note = fmt.Sprintf("journal says the platform took it (%s) but the bill does not show it: "+
			"query the platform (it may be on a neighbouring day's bill)", o.State)
	}
	return line
}

// billBothLine judges an order that is both in the journal and on the bill.
func billBothLine(o Order, rows []onecard.BillRow) BillLine {
	row := billMainRow(rows)
	line := BillLine{OrderNo: o.OrderNo, JournalState: o.State, JournalAmount: o.Amount,
		BillType: row.Type, BillStatus: row.Status, BillAmount: row.Amount, OutID: row.OutID,
		Account: row.Account, BillTime: row.Time}
	if line.OutID == "" {
		line.OutID = o.OutID
	}

	var problems []string
	if len(rows) > 1 {
		// order_no is unique per the spec, so a second row is the platform
		// contradicting itself, possibly a double charge.
		problems = append(problems, fmt.Sprintf("the number appears %d times on the bill", len(rows)))
	}
	if want := billTypeOf(o.Kind); row.Type != want {
		problems = append(problems, fmt.Sprintf("journal has a %s order but the bill a %s (type %s)",
			billKindName(o.Kind), billTypeName(row.Type), row.Type))
	} else if why := billStatusProblem(o, row); why != "" {
		problems = append(problems, why)
	}
	amountDiffers := row.Amount != o.Amount
	if amountDiffers {
		problems = append(problems, fmt.Sprintf("amounts differ: journal %s, bill %s", o.Amount, row.Amount))
	}

	switch {
	case len(problems) == 0:
		line.Match = BillMatched
	case amountDiffers && len(problems) == 1:
		line.Match = BillAmountMismatch
	default:
		// A wrong state outweighs a wrong amount: it says whether money
		// moved at all. The amount note is kept alongside.
		line.Match = BillStatusMismatch
	}
	line.Note = strings.Join(problems, "; ")
	return line
}

// billStatusProblem says how the bill row's status contradicts the journal
// state of an order of the row's type, or "" when they agree.
func billStatusProblem(o Order, row onecard.BillRow) string {
	did := billPlatformDid(row)
	switch row.Status {
	case billStatusSuccess, billStatusFailed:
	default:
		return fmt.Sprintf("bill status %q is neither %s (success) nor %s (failed)", row.Status,
			billStatusSuccess, billStatusFailed)
	}
	switch {
	case billUnsettled(o.State):
		// The reconciler has not settled it yet; it settles it with a
		// pay.query, which the bill's answer only foretells.
		return fmt.Sprintf("journal still %s but the platform %s it: query it to settle", o.State, did)
	case o.State == StateNeedsReview:
		return fmt.Sprintf("order awaits review; the platform %s it", did)
	case row.Status == billStatusSuccess && o.Kind == KindRefund && o.State != StatePaid &&
		billChargedState(KindPay, o.State):
		return fmt.Sprintf("journal has the refund order in state %s, which only a payment takes; "+
			"the platform refunded it (a refund gone through is paid)", o.State)
	case row.Status == billStatusSuccess && !billChargedState(o.Kind, o.State):
		return fmt.Sprintf("journal %s but the platform %s it", o.State, did)
	case row.Status == billStatusFailed && !billFailedState(o.State):
		return fmt.Sprintf("journal %s but the platform %s it", o.State, did)
	}
	return ""
}

// billChargedState reports whether a journal state agrees with a successful
// bill row: for a payment, charged (whatever refunds followed, which are
// rows of their own); for a refund order, gone through, which the journal
// calls paid.
func billChargedState(k OrderKind, s OrderState) bool {
	if k == KindRefund {
		return s == StatePaid
	}
	switch s {
	case StatePaid, StateRefunded, StatePartiallyRefunded, StateOrphanCharged, StateOrphanRefunded:
		return true
	}
	return false
}

// billFailedState reports whether a journal state agrees with a failed bill row:
// no money moved.
func billFailedState(s OrderState) bool {
	switch s {
	case StateDeclined, StateVoided, StateFailedAfterOffline:
		return true
	}
	return false
}

// billExpected reports whether the platform should have (or, for an
// unfinished order, may have) a record of an order in this state, so that
// its absence from the bill needs looking into.
func billExpected(s OrderState) bool {
	switch s {
	case StatePaid, StateRefunded, StatePartiallyRefunded, StateOrphanCharged, StateOrphanRefunded,
		StateUnknown, StateOfflineAccepted, StateSending:
		return true
	}
	return false
}

// billUnsettled reports whether the journal does not yet know whether the
// platform took an order in this state.
func billUnsettled(s OrderState) bool {
	return s == StateSending || s == StateUnknown || s == StateOfflineAccepted
}

// billMainRow picks the row that speaks for a number billed more than once: a
// successful one, since that is where money moved.
func billMainRow(rows []onecard.BillRow) onecard.BillRow {
	for _, r := range rows {
		if r.Status == billStatusSuccess {
			return r
		}
	}
	return rows[0]
}

// billTypeOf is the bill type an order of kind k is billed under, or "" for
// a kind the bill does not know.
func billTypeOf(k OrderKind) string {
	switch k {
	case KindPay:
		return onecard.BillTypePay
	case KindRefund:
		return onecard.BillTypeRefund
	}
	return ""
}

func billKindName(k OrderKind) string {
	if k == "" {
		return "kind-less"
	}
	return string(k)
}

func billTypeName(t string) string {
	switch t {
	case onecard.BillTypePay:
		return "payment"
	case onecard.BillTypeRefund:
		return "refund"
	}
	return "type " + t
}

// billPlatformDid says in words what a successful or failed bill row
// records.
func billPlatformDid(row onecard.BillRow) string {
	switch {
	case row.Status == billStatusFailed:
		return "failed"
	case row.Type == onecard.BillTypeRefund:
		return "refunded"
	}
	return "charged"
}
