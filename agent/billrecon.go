package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
	bill, _, err := s.platform.DownloadBill(ctx, onecard.BillRequest{Date: date, Type: onecard.BillAll})
	s.observe(err)
	if err != nil {
		return BillReport{}, err
	}
	orders, err := s.journal.Orders(ctx, OrderFilter{From: day, To: day.AddDate(0, 0, 1)})
	if err != nil {
		return BillReport{}, err
	}
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
	rep := CompareBill(date, s.ownRows(bill, have), orders, s.now())
	if err := s.actOnBill(ctx, rep, bill); err != nil {
		return rep, err
	}
	if err := s.journal.SaveBillReport(ctx, rep); err != nil {
		return rep, fmt.Errorf("saving the bill report: %w", err)
	}
	return rep, nil
}

// actOnBill turns the report's findings into journal work.
func (s *Service) actOnBill(ctx context.Context, rep BillReport, bill *onecard.Bill) error {
	charged := map[string]bool{}
	for _, r := range bill.Rows {
		if r.Type == onecard.BillTypePay && r.Status == string(onecard.StatusPaid) {
			charged[r.OrderNo] = true
		}
	}
	var none ReconcileReport
	for _, l := range rep.Lines {
		if l.Match == BillPlatformOnly || l.Match == BillMatched {
			continue
		}
		o, err := s.journal.Order(ctx, l.OrderNo)
		if err != nil {
			return err
		}
		switch {
		case o.State.Unfinished():
			if _, err := s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
				o.NextAttempt = s.now()
				return nil
			}); err != nil {
				return err
			}
			s.nudge()
		case o.Kind == KindPay && charged[o.OrderNo] && (o.State == StateVoided || o.State == StateDeclined):
			if err := s.orphanCharged(ctx, o, &none, func(p *Order) { p.OutID = l.OutID }, "the bill shows a charge"); err != nil {
				return err
			}
		}
	}
	return nil
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
