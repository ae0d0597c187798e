package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/campuspos/kiosk/agent/onecard"
)

// Settlement is one state change the reconciler made.
type Settlement struct {
	OrderNo  string
	Kind     OrderKind
	From, To OrderState
	Note     string
}

// ReconcileReport says what one reconciler pass did.
type ReconcileReport struct {
	// Looked counts the due orders examined.
	Looked int
	// Settled lists the state changes made.
	Settled []Settlement
	// Unfinished counts the orders still unfinished after the pass.
	Unfinished int
}

// dueBatch is how many due orders one read of the index takes.
const dueBatch = 500

// ReconcileOnce settles what can be settled now: every unfinished order
// whose next attempt is due is looked up with pay.query (50 a call), and
// settled from the answer; orders the platform never saw are sent (again,
// with the same order_no) if the customer was told they would be, and
// voided if the customer was told nothing. It stops early, with the error,
// when the platform is unreachable; orders not reached keep their time.
func (s *Service) ReconcileOnce(ctx context.Context) (ReconcileReport, error) {
	return s.reconcilePass(ctx, s.now())
}

// ReconcileAll is ReconcileOnce for every unfinished order, due or backing
// off (a technician asked for it): only the wait for a request's timeout is
// kept, because a query must never overtake its request.
func (s *Service) ReconcileAll(ctx context.Context) (ReconcileReport, error) {
	return s.reconcilePass(ctx, s.now().AddDate(100, 0, 0))
}

func (s *Service) reconcilePass(ctx context.Context, until time.Time) (ReconcileReport, error) {
	var rep ReconcileReport
	start := until
	seen := map[string]bool{}
	for {
		due, err := s.journal.Due(ctx, start, dueBatch)
		if err != nil {
			return rep, err
		}
		var fresh []Order
		for _, o := range due {
			if !seen[o.OrderNo] {
				seen[o.OrderNo] = true
				fresh = append(fresh, o)
			}
		}
		if len(fresh) == 0 {
			break
		}
		rep.Looked += len(fresh)
		if err := s.reconcile(ctx, fresh, &rep); err != nil {
			return s.finish(ctx, rep, err)
		}
	}
	return s.finish(ctx, rep, nil)
}

func (s *Service) finish(ctx context.Context, rep ReconcileReport, err error) (ReconcileReport, error) {
	n, cerr := s.journal.UnfinishedCount(ctx)
	rep.Unfinished = n
	err = errors.Join(err, cerr)
	kept := rep
	kept.Settled = slices.Clone(rep.Settled) // the caller owns the returned slice
	s.lastPass.Store(&ReconcilePass{At: s.now(), Report: kept, Err: err})
	return rep, err
}

// ReconcilePass is one finished reconciler pass, as LastReconcile keeps it.
type ReconcilePass struct {
	// At is when the pass finished.
	At time.Time
	// Report is what the pass did.
	Report ReconcileReport
	// Err is why the pass stopped early (the platform unreachable, the
	// journal failing), nil when it went through.
	Err error
}

// LastReconcile returns the latest finished reconciler pass of this
// Service (RunReconciler's, ReconcileOnce's or ReconcileAll's); ok is false
// before the first. RunReconciler keeps no report of its own, so this is
// how a status page tells a live reconciler from a stuck one.
func (s *Service) LastReconcile() (p ReconcilePass, ok bool) {
	last := s.lastPass.Load()
	if last == nil {
		return ReconcilePass{}, false
	}
	return *last, true
}

// workSince is when the reconciler's work on o began: its creation, or
// when it last came back to unfinished work from a finished state (a
// review resolved as orphan_charged, a charge found on the bill for a voided
// order). The give-up clock counts from there, so that such an order gets
// its full time rather than going straight back to needs_review.
func (o Order) workSince() time.Time {
	for i := len(o.History) - 1; i >= 0; i-- {
		if h := o.History[i]; h.From != "" && !h.From.Unfinished() && h.To.Unfinished() {
			return h.At
		}
	}
	return o.Created
}

// reconcile handles one batch of due orders.
func (s *Service) reconcile(ctx context.Context, due []Order, rep *ReconcileReport) error {
	r := s.opts.Reconcile
	var ask []Order
	for _, o := range due {
		now := s.now()
		switch {
		case s.isInflight(o.OrderNo):
			// Sent by this process right now: its sender settles it.
		case now.Sub(o.workSince()) > r.GiveUpAfter:
			if err := s.move(ctx, o.OrderNo, rep, StateNeedsReview, fmt.Sprintf("unsettled after %s: a person must look", r.GiveUpAfter), nil); err != nil {
				return err
			}
		case !o.LastSent.IsZero() && now.Before(o.LastSent.Add(r.RequestTimeout)):
			// A query must not overtake the request it asks about.
			if _, err := s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
				o.NextAttempt = o.LastSent.Add(r.RequestTimeout + time.Second)
				return nil
			}); err != nil {
				return err
			}
		case o.State == StateOrphanCharged:
			if err := s.refundOrphan(ctx, o, rep); err != nil {
				return err
			}
		case o.Kind == KindPay && o.State == StateOfflineAccepted && o.LastSent.IsZero():
			// Accepted offline and never sent: the platform cannot have it.
			if err := s.resendPay(ctx, o, rep); err != nil {
				return err
			}
		default:
			ask = append(ask, o)
		}
	}
	for start := 0; start < len(ask); start += onecard.MaxPayQueries {
		batch := ask[start:min(start+onecard.MaxPayQueries, len(ask))]
		qs := make([]onecard.PayQuery, len(batch))
		for i, o := range batch {
			qs[i] = onecard.PayQuery{Account: o.Account, AccType: o.AccType, OrderNo: o.OrderNo}
		}
		sts, err := s.platform.QueryPayments(ctx, qs)
		s.observe(err)
		if err != nil {
			// Every order not answered waits its back-off; when the
			// platform is unreachable the rest of the pass waits too.
			if berr := s.backOff(ctx, ask[start:], err); berr != nil {
				return errors.Join(err, berr)
			}
			return err
		}
		for i, st := range sts {
			if err := s.settle(ctx, batch[i], st, rep); err != nil {
				return err
			}
		}
	}
	return nil
}

// backOff counts a failed look at orders and moves their next attempt.
func (s *Service) backOff(ctx context.Context, orders []Order, cause error) error {
	for _, o := range orders {
		if _, err := s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
			o.Attempts++
			o.LastError = cause.Error()
			o.NextAttempt = s.after(o.LastSent, o.Attempts)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// move changes an order's state (with fn's other changes) and reports it.
func (s *Service) move(ctx context.Context, no string, rep *ReconcileReport, to OrderState, note string, fn func(*Order)) error {
	var from OrderState
	o, err := s.journal.UpdateOrder(ctx, no, func(o *Order) error {
		from = o.State
		if fn != nil {
			fn(o)
		}
		return o.To(to, s.now(), note)
	})
	if err != nil {
		return err
	}
	if from != to {
		rep.Settled = append(rep.Settled, Settlement{OrderNo: no, Kind: o.Kind, From: from, To: to, Note: note})
		s.hub.publish(Event{Kind: EventSettled, At: s.now(), OrderNo: no, From: from, To: to, Detail: note})
	}
	return nil
}

// later counts a look that settled nothing and schedules the next.
func (s *Service) later(ctx context.Context, o Order, why string) error {
	_, err := s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
		o.Attempts++
		o.LastError = why
		o.NextAttempt = s.after(o.LastSent, o.Attempts)
		return nil
	})
	return err
}

// settle applies pay.query's answer to one order.
func (s *Service) settle(ctx context.Context, o Order, st onecard.PayStatus, rep *ReconcileReport) error {
	setOut := func(p *Order) {
		if st.OutID != "" {
			p.OutID = st.OutID
		}
		p.Attempts++
		p.LastError = ""
	}
	desc := "pay.query: " + st.Status.String()
	if o.Kind == KindRefund {
		switch st.Status {
		case onecard.StatusPaid, onecard.StatusRefunded:
			from := o.State
			r, err := s.refundDone(ctx, o.OrderNo, st.OutID, desc)
			if err == nil {
				rep.Settled = append(rep.Settled, Settlement{OrderNo: o.OrderNo, Kind: KindRefund, From: from, To: r.State, Note: desc})
			}
			return err
		case onecard.StatusFailed:
			if err := s.move(ctx, o.OrderNo, rep, StateDeclined, desc, setOut); err != nil {
				return err
			}
			r, err := s.journal.Order(ctx, o.OrderNo)
			if err != nil {
				return err
			}
			return s.refundFailed(ctx, r)
		case onecard.StatusNoOrder:
			return s.resendRefund(ctx, o)
		}
		return s.later(ctx, o, desc)
	}
	told := o.State == StateUnknown || o.State == StateOfflineAccepted
	switch st.Status {
	case onecard.StatusPaid:
		if told {
			return s.move(ctx, o.OrderNo, rep, StatePaid, desc, setOut)
		}
		// Charged, but the customer was never told: it must not stay.
		return s.orphanCharged(ctx, o, rep, setOut, desc)
	case onecard.StatusFailed:
		to := StateDeclined
		if told {
			to = StateFailedAfterOffline
		}
		return s.move(ctx, o.OrderNo, rep, to, desc, setOut)
	case onecard.StatusRefunded:
		to := StateRefunded
		if !told {
			to = StateOrphanRefunded
		}
		return s.move(ctx, o.OrderNo, rep, to, desc, setOut)
	case onecard.StatusNoOrder:
		if told {
			return s.resendPay(ctx, o, rep)
		}
		return s.move(ctx, o.OrderNo, rep, StateVoided, "never reached the platform, never confirmed: voided", setOut)
	}
	return s.later(ctx, o, desc)
}

// orphanCharged handles a charge the customer was never told about: refund
// it under a new order number, or leave it to a person.
func (s *Service) orphanCharged(ctx context.Context, o Order, rep *ReconcileReport, fn func(*Order), why string) error {
	if s.opts.Reconcile.ReviewOrphans {
		return s.move(ctx, o.OrderNo, rep, StateNeedsReview, why+": charged without the customer being told", fn)
	}
	// The refund's number is journalled on the payment first, so that a
	// crash before the refund order exists cannot lead to a second refund.
	refundNo, err := s.NewOrderNo(ctx)
	if err != nil {
		return err
	}
	if err := s.move(ctx, o.OrderNo, rep, StateOrphanCharged, why+": charged without the customer being told; refunding as "+refundNo, func(p *Order) {
		if fn != nil {
			fn(p)
		}
		p.RefundOrderNo = refundNo
		p.NextAttempt = s.after(s.now(), p.Attempts)
	}); err != nil {
		return err
	}
	o, err = s.journal.Order(ctx, o.OrderNo)
	if err != nil {
		return err
	}
	return s.refundOrphan(ctx, o, rep)
}

// refundOrphan makes sure the refund of an orphan charge exists and has
// been sent; its own settlement completes the orphan.
func (s *Service) refundOrphan(ctx context.Context, p Order, rep *ReconcileReport) error {
	r, err := s.journal.Order(ctx, p.RefundOrderNo)
	if errors.Is(err, ErrOrderNotFound) {
		r = s.newRefund(p, p.RefundOrderNo, p.Amount, "refund of an orphan charge")
		if err := s.create(ctx, r); err != nil {
			return err
		}
		_, err = s.sendRefund(ctx, r)
		return s.ignoreCallError(err)
	}
	if err != nil {
		return err
	}
	// The refund settled but the process died before the payment heard of
	// it (two commits): finish the payment now.
	switch r.State {
	case StatePaid:
		return s.move(ctx, p.OrderNo, rep, StateOrphanRefunded, "refunded by "+r.OrderNo, func(p *Order) { p.Refunded = r.Amount })
	case StateDeclined:
		return s.refundFailed(ctx, r)
	}
	// The refund order is in the journal; it is reconciled on its own.
	_, err = s.journal.UpdateOrder(ctx, p.OrderNo, func(p *Order) error {
		p.NextAttempt = s.after(s.now(), p.Attempts+1)
		return nil
	})
	return err
}

// ignoreCallError keeps journal failures and drops platform failures: the
// latter are already journalled on the order, which will be retried.
func (s *Service) ignoreCallError(err error) error {
	if errors.Is(err, errOutcomeNotRecorded) {
		return err
	}
	return nil
}

// resendRefund sends a refund again with its own number: the platform
// refunds one number once.
func (s *Service) resendRefund(ctx context.Context, o Order) error {
	o, err := s.stampSent(ctx, o.OrderNo)
	if err != nil {
		return err
	}
	_, err = s.sendRefund(ctx, o)
	return s.ignoreCallError(err)
}

// resendPay sends a payment the customer was told would go through (offline
// accepted, or unknown and not on the platform) with its own order number:
// the platform charges a number once, so a copy that arrives late is
// refused as a duplicate.
func (s *Service) resendPay(ctx context.Context, o Order, rep *ReconcileReport) error {
	o, err := s.stampSent(ctx, o.OrderNo)
	if err != nil {
		return err
	}
	s.setInflight(o.OrderNo, true)
	res, callErr := s.platform.Pay(ctx, onecard.PayRequest{
		OrderNo: o.OrderNo, Account: o.Account, AccType: o.AccType, MercAcc: o.MercAcc,
		Amount: o.Amount, TermID: o.TermID,
	})
	s.setInflight(o.OrderNo, false)
	s.observe(callErr)
	var be *onecard.BusinessError
	switch {
	case callErr == nil:
		return s.move(ctx, o.OrderNo, rep, StatePaid, "sent again and confirmed", func(p *Order) {
			p.OutID, p.LastError = res.OutID, ""
		})
	case errors.As(callErr, &be) && (be.Retcode == onecard.RetcodeDuplicateOrder || be.Retcode == onecard.RetcodeOrderExists):
		// It reached the platform after all: ask again.
		return s.later(ctx, o, "sent again: the platform already has it; asking again")
	case errors.As(callErr, &be):
		return s.move(ctx, o.OrderNo, rep, StateFailedAfterOffline, "sent again and declined: "+be.Error(), func(p *Order) {
			p.Code, p.Message, p.LastError = be.Retcode, be.Error(), be.Error()
		})
	}
	return s.later(ctx, o, callErr.Error())
}

// RunReconciler reconciles until ctx ends: a pass whenever work falls due,
// when a payment leaves work behind, and at least every MaxInterval.
func (s *Service) RunReconciler(ctx context.Context) error {
	for {
		if _, err := s.ReconcileOnce(ctx); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		wait := s.opts.Reconcile.MaxInterval
		if next, err := s.journal.Due(ctx, s.now().Add(wait), 1); err == nil && len(next) > 0 {
			wait = max(min(next[0].NextAttempt.Sub(s.now()), wait), 50*time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}
