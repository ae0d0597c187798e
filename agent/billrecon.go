package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// ReconcileBill downloads one day's bill (all transactions), compares it
// with the journal, acts on what it finds and saves the report:
//   - an unfinished order that disagrees with the bill (or is missing from
//     it) is queried at once by the next reconciler pass;
//   - a charge on the bill for an order the customer was told nothing or
//     "declined" about becomes an orphan charge and is refunded (or left
//     for review, as configured).
func (s *Service) ReconcileBill(ctx context.Context, date string) (BillReport, error) {
	day, err := time.ParseInLocation(onecard.BillDateLayout, date, s.opts.Location)
	if err != nil {
		return BillReport{}, &onecard.RequestError{Method: onecard.MethodDownBill, Field: "bill_date", Reason: fmt.Sprintf("%q is not a date yyyyMMdd", date)}
	}
	// Acting on the bill changes orders the reconciler may be acting on,
	// and one day is never settled twice at once.
	if err := s.lockPass(ctx); err != nil {
		return BillReport{}, err
	}
	defer s.unlockPass()
	prev, _, err := s.journal.BillReport(ctx, date)
	if err != nil {
		return BillReport{}, err
	}
	bill, _, err := s.platform.DownloadBill(ctx, onecard.BillRequest{Date: date, Type: onecard.BillAll, Encrypted: s.opts.Settlement.Encrypted})
	s.observe(err)
	if err != nil {
		return BillReport{}, err
	}
	orders, err := s.journal.Orders(ctx, OrderFilter{From: day, To: day.AddDate(0, 0, 1)})
	if err != nil {
		return BillReport{}, err
	}
	journalNet := dayNet(orders)
	// Orders journalled on another day (just before midnight) can be on
	// this day's bill: fetch those by number.
	have := make(map[string]bool, len(orders))
	for _, o := range orders {
		have[o.OrderNo] = true
	}
	for _, row := range bill.Rows {
		if have[row.OrderNo] {
			continue
		}
		o, err := s.journal.Order(ctx, row.OrderNo)
		switch {
		case err == nil:
			orders = append(orders, o)
			have[row.OrderNo] = true
		case !errors.Is(err, ErrOrderNotFound):
			return BillReport{}, err
		}
	}
	own := s.ownRows(bill, have)
	rep := CompareBill(date, own, orders, s.now())
	rep.Attempts, rep.JournalNet, rep.BillNet = prev.Attempts+1, journalNet, billNet(own)
	if err := s.actOnBill(ctx, rep, bill); err != nil {
		return rep, err
	}
	if err := s.journal.SaveBillReport(ctx, rep); err != nil {
		return rep, fmt.Errorf("saving the bill report: %w", err)
	}
	return rep, nil
}

// dayNet is what the journal says a day's orders took: payments charged
// less refunds paid out (orphan charges and their refunds cancel out).
func dayNet(orders []Order) money.Fen {
	var net money.Fen
	for _, o := range orders {
		switch {
		case o.Kind == KindRefund && o.State == StatePaid:
			net -= o.Amount
		case o.Kind == KindPay && billChargedState(KindPay, o.State):
			net += o.Amount
		}
	}
	return net
}

// billNet is what a bill says: successful payment rows less successful
// refund rows.
func billNet(bill *onecard.Bill) money.Fen {
	var net money.Fen
	for _, r := range bill.Rows {
		switch {
		case r.Status != billStatusSuccess:
		case r.Type == onecard.BillTypePay:
			net += r.Amount
		case r.Type == onecard.BillTypeRefund:
			net -= r.Amount
		}
	}
	return net
}

// actOnBill turns the report's findings into journal work:
//   - a refund order still unconfirmed (or given up on: needs_review) that
//     the bill shows done (or failed) for its amount is settled from the
//     bill: pay.query may not know refund numbers at all;
//   - any other unfinished order that disagrees with the bill is queried at
//     once by the next reconciler pass (an amount that differs makes it
//     needs_review instead: the bill's order is another purchase);
//   - a refund the journal does not have under a refund number derived
//     from one of its payments (a journal restored from a backup) is
//     booked on that payment (adoptBillRefund);
//   - a charge for a payment that failed after the customer was told it
//     was recorded (a copy processed late) makes it paid, as they were told;
//   - a charge for a payment the customer was told nothing or "declined"
//     about is refunded as an orphan charge (or left for review, as
//     configured), but only when it is this purchase's: same amount and
//     account, and not a number the platform had before this terminal sent
//     it (declined as a duplicate). Anything else is needs_review;
//   - any other settled order the bill contradicts (amount, status, billed
//     twice) is needs_review: money is never moved to make them agree.
func (s *Service) actOnBill(ctx context.Context, rep BillReport, bill *onecard.Bill) error {
	rows := map[string]onecard.BillRow{}
	for _, r := range bill.Rows {
		if prev, ok := rows[r.OrderNo]; !ok || prev.Status != billStatusSuccess {
			rows[r.OrderNo] = r
		}
	}
	var none ReconcileReport
	if err := s.reviewJournalOnly(ctx, rep); err != nil {
		return err
	}
	for _, l := range rep.Lines {
		if l.Match == BillPlatformOnly {
			if err := s.adoptBillRefund(ctx, rows[l.OrderNo], rep.Date); err != nil {
				return err
			}
			continue
		}
		if l.Match == BillMatched {
			continue
		}
		o, err := s.journal.Order(ctx, l.OrderNo)
		if err != nil {
			return err
		}
		row, billed := rows[o.OrderNo]
		same := billed && row.Amount == o.Amount && row.Account == o.Account
		why := "the bill shows " + billPlatformDid(row) + " " + row.Amount.Yuan()
		switch {
		case billed && !same && (o.State.Unfinished() || o.State == StateFailedAfterOffline):
			err = s.move(ctx, o.OrderNo, &none, StateNeedsReview, fmt.Sprintf("%s; the journal has %s for account %s: another purchase under this number: a person must look",
				why, o.Amount.Yuan(), MaskAccount(o.Account)), nil)
		case o.Kind == KindRefund && unsettledRefund(o) && same && row.Type == onecard.BillTypeRefund && row.Status == billStatusSuccess:
			_, err = s.refundDone(ctx, o.OrderNo, row.OutID, "confirmed by the bill of "+rep.Date)
		case o.Kind == KindRefund && unsettledRefund(o) && same && row.Type == onecard.BillTypeRefund && row.Status == billStatusFailed:
			_, err = s.refundFailed(ctx, o.OrderNo, "", "", "failed on the bill of "+rep.Date)
		case o.State.Unfinished():
			_, err = s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
				o.NextAttempt = s.now()
				return nil
			})
			s.nudge()
		case o.Kind == KindPay && billed && row.Type == onecard.BillTypePay && row.Status == billStatusSuccess &&
			o.State == StateFailedAfterOffline:
			// Told "recorded" or "will be confirmed", declined, then charged
			// by a copy the platform processed late: what the customer was
			// told came true.
			err = s.move(ctx, o.OrderNo, &none, StatePaid, why+": a copy of the request was processed late", func(p *Order) { p.OutID = l.OutID })
		case o.Kind == KindPay && billed && row.Type == onecard.BillTypePay && row.Status == billStatusSuccess &&
			(o.State == StateVoided || o.State == StateDeclined):
			if !same || isDuplicateCode(o.Code) || o.PlatformHas {
				err = s.move(ctx, o.OrderNo, &none, StateNeedsReview, fmt.Sprintf("%s for a payment the customer was told nothing or \"declined\" about, "+
					"but it is not this purchase (journal %s for account %s, code %q): a person must look", why, o.Amount.Yuan(), MaskAccount(o.Account), o.Code), nil)
				break
			}
			err = s.orphanCharged(ctx, o, &none, func(p *Order) { p.OutID = l.OutID }, why)
		case (l.Match == BillAmountMismatch || l.Match == BillStatusMismatch) && CanReview(o.State):
			// A settled order the bill contradicts (another amount, a
			// failure where the journal has money moved, a number billed
			// twice): never "fixed" by moving money; a person looks.
			err = s.move(ctx, o.OrderNo, &none, StateNeedsReview, "the bill of "+rep.Date+" disagrees: "+l.Note, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// reviewJournalOnly asks the platform about the payments the journal has
// as done (charged, refunded) that the day's bill does not show: one on a
// neighbouring day's bill is answered as such and left alone; one the
// platform has no record of is needs_review, since the journal says money
// moved and the platform says it did not.
func (s *Service) reviewJournalOnly(ctx context.Context, rep BillReport) error {
	var ask []Order
	for _, l := range rep.Lines {
		if l.Match != BillJournalOnly || billUnsettled(l.JournalState) || !billExpected(l.JournalState) ||
			l.JournalState == StateOrphanCharged {
			continue
		}
		o, err := s.journal.Order(ctx, l.OrderNo)
		if err != nil {
			return err
		}
		// Payments only: pay.query may not know refund numbers at all, so
		// its "no such order" says nothing about a refund.
		if o.Kind == KindPay {
			ask = append(ask, o)
		}
	}
	var none ReconcileReport
	for start := 0; start < len(ask); start += onecard.MaxPayQueries {
		batch := ask[start:min(start+onecard.MaxPayQueries, len(ask))]
		sts, err := s.queryOrders(ctx, batch)
		if err != nil {
			return err
		}
		for i, st := range sts {
			o := batch[i]
			if st.Status != onecard.StatusNoOrder || o.PlatformHas || !CanReview(o.State) {
				continue
			}
			if err := s.move(ctx, o.OrderNo, &none, StateNeedsReview, fmt.Sprintf("the journal has it %s but neither the bill of %s nor pay.query knows it: a person must look",
				o.State, rep.Date), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// unsettledRefund reports whether refund order o still waits for its
// outcome: unfinished, or handed to a person for want of one (the bill is
// the evidence the person would look for).
func unsettledRefund(o Order) bool {
	return o.State.Unfinished() || o.State == StateNeedsReview
}

// ownRows keeps the bill rows that are this terminal's: in its journal, or
// numbered with its termid prefix. Terminals sharing an app_key share one
// bill, and another terminal's orders are not this one's to reconcile.
func (s *Service) ownRows(bill *onecard.Bill, inJournal map[string]bool) *onecard.Bill {
	prefix := ""
	var term int
	if _, err := fmt.Sscanf(s.opts.Terminal.TermID, "%d", &term); err == nil {
		prefix = fmt.Sprintf("%04d", term)
	}
	own := *bill
	own.Rows = nil
	for _, r := range bill.Rows {
		if inJournal[r.OrderNo] || prefix != "" && strings.HasPrefix(r.OrderNo, prefix) {
			own.Rows = append(own.Rows, r)
		}
	}
	return &own
}

// Bill downloads one day's bill as it is.
func (s *Service) Bill(ctx context.Context, r onecard.BillRequest) (*onecard.Bill, []byte, error) {
	bill, text, err := s.platform.DownloadBill(ctx, r)
	s.observe(err)
	return bill, text, err
}
