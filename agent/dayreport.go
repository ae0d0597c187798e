package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Figure is a count of orders and their total.
type Figure struct {
	Count int
	Total money.Fen
}

func (f *Figure) add(o Order) {
	f.Count++
	f.Total += o.Amount
}

// DayReport is what a canteen manager asks for every evening (an X report
// while the day runs, a Z report once it is settled): the terminal's orders
// of one platform-local day, from the journal, by what became of them, and
// the platform's bill beside them once the day is settled.
type DayReport struct {
	Date string // yyyyMMdd
	// At is when the report was made.
	At time.Time
	// Payments counts the day's payments by their state now.
	Payments map[OrderState]Figure
	// Charged are the payments the customer paid for (paid, and those
	// refunded since, in part or in full).
	Charged Figure
	// Refunds are the refunds paid out that were made that day; Pending
	// the refunds not yet confirmed.
	Refunds, PendingRefunds Figure
	// Unconfirmed are payments whose outcome the terminal still waits for
	// (sending, unknown); Offline those accepted offline and not yet sent
	// or settled.
	Unconfirmed, Offline Figure
	// Declined are payments refused (declined, voided, failed after
	// offline acceptance); NeedsReview those a person must look at.
	Declined, NeedsReview Figure
	// Net is what the journal says the terminal took: payments charged
	// (orphan charges included) less refunds paid out, the figure the
	// settlement compares with the bill's.
	Net money.Fen
	// Settlement is the day's settlement, nil before one was attempted.
	Settlement *BillReport
}

// Difference is the settlement's (BillReport.Difference), zero before the
// day is settled.
func (r DayReport) Difference() money.Fen {
	if r.Settlement == nil {
		return 0
	}
	return r.Settlement.Difference()
}

// DayReport reports one platform-local day (yyyyMMdd) from the journal.
// It reads; it changes nothing and asks the platform nothing.
func (s *Service) DayReport(ctx context.Context, date string) (DayReport, error) {
	day, err := time.ParseInLocation(onecard.BillDateLayout, date, s.opts.Location)
	if err != nil || day.Format(onecard.BillDateLayout) != date {
		return DayReport{}, &onecard.RequestError{Method: "report", Field: "date", Reason: fmt.Sprintf("%q is not a date yyyyMMdd", date)}
	}
	orders, err := s.journal.Orders(ctx, OrderFilter{From: day, To: day.AddDate(0, 0, 1)})
	if err != nil {
		return DayReport{}, err
	}
	r := DayReport{Date: date, At: s.now(), Payments: map[OrderState]Figure{}, Net: dayNet(orders)}
	for _, o := range orders {
		if o.Kind == KindRefund {
			switch {
			case o.State == StatePaid:
				r.Refunds.add(o)
			case o.State != StateDeclined:
				r.PendingRefunds.add(o)
			}
			continue
		}
		f := r.Payments[o.State]
		f.add(o)
		r.Payments[o.State] = f
		switch o.State {
		case StatePaid, StatePartiallyRefunded, StateRefunded:
			r.Charged.add(o)
		case StateSending, StateUnknown:
			r.Unconfirmed.add(o)
		case StateOfflineAccepted:
			r.Offline.add(o)
		case StateDeclined, StateVoided, StateFailedAfterOffline:
			r.Declined.add(o)
		case StateNeedsReview:
			r.NeedsReview.add(o)
		}
	}
	rep, ok, err := s.journal.BillReport(ctx, date)
	if err != nil {
		return r, err
	}
	if ok {
		r.Settlement = &rep
	}
	return r, nil
}

// MaxReportDays bounds DayReports: a year of days at a time.
const MaxReportDays = 366

// DayReports reports every day from from to to (yyyyMMdd, inclusive),
// oldest first.
func (s *Service) DayReports(ctx context.Context, from, to string) ([]DayReport, error) {
	start, err1 := time.ParseInLocation(onecard.BillDateLayout, from, s.opts.Location)
	end, err2 := time.ParseInLocation(onecard.BillDateLayout, to, s.opts.Location)
	switch {
	case err1 != nil || start.Format(onecard.BillDateLayout) != from:
		return nil, &onecard.RequestError{Method: "report", Field: "from", Reason: fmt.Sprintf("%q is not a date yyyyMMdd", from)}
	case err2 != nil || end.Format(onecard.BillDateLayout) != to || end.Before(start):
		return nil, &onecard.RequestError{Method: "report", Field: "to", Reason: fmt.Sprintf("%q is not a date yyyyMMdd on or after %s", to, from)}
	case end.Sub(start) >= MaxReportDays*24*time.Hour:
		return nil, &onecard.RequestError{Method: "report", Field: "to", Reason: fmt.Sprintf("at most %d days at a time", MaxReportDays)}
	}
	var reps []DayReport
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		r, err := s.DayReport(ctx, d.Format(onecard.BillDateLayout))
		if err != nil {
			return reps, err
		}
		reps = append(reps, r)
	}
	return reps, nil
}
