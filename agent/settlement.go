package agent

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Daily settlement: every platform day, once it is over and its bill is
// ready, the terminal downloads the bill, reconciles it with the journal,
// acts on it (ReconcileBill) and keeps the report. A day that fails (no
// bill yet, platform unreachable) is retried with back-off; days of the
// catch-up window without a report are settled on start-up. Settlement
// shares the reconciler's exclusion (ReconcileBill holds the pass lock), so
// it never runs twice at once nor beside another pass.

// SettlementPolicy says when and how the terminal settles each day.
type SettlementPolicy struct {
	// Enabled turns settlement on (RunSettlement does nothing without it).
	Enabled bool
	// At is the time of day, after platform-local midnight, from which the
	// previous day is settled (0: midnight).
	At time.Duration
	// Jitter spreads a fleet: each terminal settles a day at At plus a
	// delay in [0, Jitter) fixed by its termid and the date.
	Jitter time.Duration
	// Encrypted asks for the bill with crypt_type 1.
	Encrypted bool
	// CatchUpDays is how many days back a terminal settles what it missed
	// (stopped over a day, or failing).
	CatchUpDays int
	// Retry is the first wait after a failed attempt; it doubles up to
	// MaxRetry.
	Retry, MaxRetry time.Duration
}

func (p *SettlementPolicy) defaults() {
	if p.CatchUpDays <= 0 {
		p.CatchUpDays = 7
	}
	if p.Retry <= 0 {
		p.Retry = time.Minute
	}
	if p.MaxRetry < p.Retry {
		p.MaxRetry = max(time.Hour, p.Retry)
	}
}

// Difference is the bill's net less the journal's for a settled day (zero
// for one not settled): what the campus and the terminal disagree on.
func (r BillReport) Difference() money.Fen {
	if r.State != SettlementDone {
		return 0
	}
	return r.BillNet - r.JournalNet
}

// Mismatched counts the orders on both sides that disagree (amount or
// status).
func (r BillReport) Mismatched() int {
	return r.Counts[BillAmountMismatch] + r.Counts[BillStatusMismatch]
}

// settleAt is when day (yyyyMMdd) may be settled: the next day at At plus
// this terminal's jitter for it.
func (s *Service) settleAt(day time.Time) time.Time {
	p := s.opts.Settlement
	at := day.AddDate(0, 0, 1).Add(p.At)
	if p.Jitter > 0 {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%s", s.opts.Terminal.TermID, day.Format(onecard.BillDateLayout))
		at = at.Add(time.Duration(h.Sum64() % uint64(p.Jitter)))
	}
	return at
}

// retryAt is when a day whose last attempt failed is tried again.
func (s *Service) retryAt(r BillReport) time.Time {
	p := s.opts.Settlement
	return r.Created.Add(backoff(p.Retry, p.MaxRetry, r.Attempts-1))
}

// Settle settles one platform day (yyyyMMdd): ReconcileBill, and when that
// fails, a failed report with the reason (and the attempt counted) in place
// of any earlier failed one. A done report is never replaced by a failed
// one.
func (s *Service) Settle(ctx context.Context, date string) (BillReport, error) {
	rep, err := s.ReconcileBill(ctx, date)
	if err == nil || ctx.Err() != nil {
		return rep, err
	}
	var re *onecard.RequestError
	if errors.As(err, &re) && re.Field == "bill_date" {
		return rep, err
	}
	prev, ok, perr := s.journal.BillReport(ctx, date)
	if perr != nil {
		return rep, errors.Join(err, perr)
	}
	if ok && prev.State == SettlementDone {
		return prev, err
	}
	failed := BillReport{Date: date, Created: s.now(), State: SettlementFailed, Reason: err.Error(), Attempts: prev.Attempts + 1}
	if serr := s.journal.SaveBillReport(ctx, failed); serr != nil {
		return failed, errors.Join(err, fmt.Errorf("saving the failed settlement: %w", serr))
	}
	return failed, err
}

// Settlements returns the days of the catch-up window, newest (yesterday)
// first, each with its report, or a pending report (State
// SettlementPending, Created zero) for a day not settled yet.
func (s *Service) Settlements(ctx context.Context) ([]BillReport, error) {
	today := midnight(s.now().In(s.opts.Location))
	out := make([]BillReport, 0, s.opts.Settlement.CatchUpDays)
	for i := 1; i <= s.opts.Settlement.CatchUpDays; i++ {
		date := today.AddDate(0, 0, -i).Format(onecard.BillDateLayout)
		r, ok, err := s.journal.BillReport(ctx, date)
		if err != nil {
			return out, err
		}
		if !ok {
			r = BillReport{Date: date, State: SettlementPending}
		}
		out = append(out, r)
	}
	return out, nil
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// SettleDue settles, oldest first, every day of the catch-up window that is
// due (its settlement time has come) and not done, skipping a failed day
// until its retry time. It returns what it settled or tried, and when it
// should run next: the next day's settlement time or the earliest retry.
func (s *Service) SettleDue(ctx context.Context) (tried []BillReport, next time.Time, err error) {
	now := s.now().In(s.opts.Location)
	today := midnight(now)
	next = s.settleAt(today)
	for i := s.opts.Settlement.CatchUpDays; i >= 1; i-- {
		day := today.AddDate(0, 0, -i)
		date := day.Format(onecard.BillDateLayout)
		if due := s.settleAt(day); now.Before(due) {
			next = minTime(next, due)
			continue
		}
		prev, ok, err := s.journal.BillReport(ctx, date)
		if err != nil {
			return tried, next, err
		}
		switch {
		case ok && prev.State == SettlementDone:
			continue
		case ok && now.Before(s.retryAt(prev)):
			next = minTime(next, s.retryAt(prev))
			continue
		}
		rep, err := s.Settle(ctx, date)
		tried = append(tried, rep)
		if ctx.Err() != nil {
			return tried, next, ctx.Err()
		}
		if err != nil {
			next = minTime(next, s.retryAt(rep))
		}
	}
	return tried, next, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// RunSettlement settles each day when it is due, and retries failed days,
// until ctx ends. It does nothing (and returns at once) when settlement is
// not enabled. The wait between rounds is at most an hour, so a clock set
// right is noticed within one.
func (s *Service) RunSettlement(ctx context.Context) error {
	if !s.opts.Settlement.Enabled {
		return nil
	}
	for {
		_, next, err := s.SettleDue(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := time.Hour
		if err != nil {
			wait = s.opts.Settlement.Retry
		}
		wait = max(min(next.Sub(s.now()), wait), time.Second)
		if err := sleep(ctx, wait, nil); err != nil {
			return err
		}
	}
}

// sleep waits d, or until wake has something (nil: never), or until ctx
// ends (its error).
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-t.C:
	}
	return nil
}
