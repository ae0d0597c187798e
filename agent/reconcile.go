package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	if err := s.lockPass(ctx); err != nil {
		return ReconcileReport{}, err
	}
	defer s.unlockPass()
	var rep ReconcileReport
	start := until
	seen := map[string]bool{}
	for {
		due, err := s.journal.Due(ctx, start, dueBatch)
		if err != nil {
			return rep, err
		}
		fresh := make([]Order, 0, len(due))
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

// lockPass waits until no other reconciler pass (background, "reconcile
// now", bill reconciliation, a resolution) runs on this journal, or ctx
// ends. Two passes at once could both decide to act on the same order.
func (s *Service) lockPass(ctx context.Context) error {
	select {
	case s.pass <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) unlockPass() { <-s.pass }

// answered adds to o's give-up clock the time since the platform last
// answered about it (or came back online, or the order's work began),
// capped so that a jump of the wall clock or a long wait between looks
// counts as no more than the reconciler's longest back-off, and clamped at
// zero when the clock went back. Called when the platform answered.
func (s *Service) answered(o *Order, now time.Time) {
	prev := o.LastAnswer
	if prev.IsZero() {
		prev = o.Created
		if !o.LastSent.IsZero() && o.LastSent.Before(prev) {
			prev = o.LastSent
		}
	}
	if online, since := s.hub.state(); online && since.After(prev) {
		prev = since
	}
	r := s.opts.Reconcile
	step := min(max(now.Sub(prev), 0), 2*r.MaxInterval+2*r.RequestTimeout)
	o.OnlineAge += step
	o.LastAnswer = now
}

// reconcile handles one batch of due orders. Its journal writes go a
// transaction at a time: first what needs no pay.query (give-up, a wait
// for a request's timeout, an orphan's bookkeeping), then the answers of
// each pay.query call, up to MaxPayQueries orders, together. A pass over
// thousands of due orders so makes tens of fsyncs, not thousands. What
// needs a platform call of its own (a resend, an orphan's refund) is made
// after the transaction, each order on its own path as before.
func (s *Service) reconcile(ctx context.Context, due []Order, rep *ReconcileReport) error {
	r := s.opts.Reconcile
	ask := make([]Order, 0, len(due))
	first := &decisions{s: s} // what needs no pay.query, committed before any
	for _, o := range due {
		now := s.now()
		switch {
		case s.isInflight(o.OrderNo):
			// Sent by this process right now: its sender settles it.
		case o.Kind == KindPay && o.State == StateOfflineAccepted && o.LastSent.IsZero():
			// Accepted offline and never sent: the platform cannot have it,
			// and no give-up clock may touch it before it is forwarded.
			first.call(func(ctx context.Context, rep *ReconcileReport) error { return s.resendPay(ctx, o, rep) })
		case o.OnlineAge > r.GiveUpAfter:
			first.move(o.OrderNo, StateNeedsReview, fmt.Sprintf("unsettled after %s of the platform answering: a person must look", r.GiveUpAfter), nil)
		case !o.LastSent.IsZero() && now.Before(o.LastSent.Add(r.RequestTimeout)) &&
			o.LastSent.Before(now.Add(r.MaxInterval)):
			// A query must not overtake the request it asks about. (A
			// LastSent further ahead than MaxInterval means the clock went
			// back: waiting for it would stall the order.)
			first.update(o.OrderNo, func(o *Order) error {
				o.NextAttempt = o.LastSent.Add(r.RequestTimeout + time.Second)
				return nil
			})
		case o.State == StateOrphanCharged:
			if err := s.refundOrphan(ctx, first, o); err != nil {
				return err
			}
		default:
			ask = append(ask, o)
		}
	}
	if err := s.commit(ctx, rep, first); err != nil {
		return err
	}
	// Each pay.query call goes out while the answers of the one before are
	// committed (and that batch's resends made): the call waits on the
	// platform, the commit on the disk. It asks about other orders than
	// those, runs on a goroutine of its own, never inside a transaction,
	// and pay.query calls still go one at a time; the pass waits for the
	// one in flight before it returns.
	var next <-chan queryAnswer
	if len(ask) > 0 {
		next = s.queryAhead(ctx, ask[:min(onecard.MaxPayQueries, len(ask))])
	}
	for start := 0; start < len(ask); start += onecard.MaxPayQueries {
		end := min(start+onecard.MaxPayQueries, len(ask))
		batch := ask[start:end]
		a := <-next
		if a.err != nil {
			// Every order not answered waits its back-off; when the
			// platform is unreachable the rest of the pass waits too.
			if berr := s.backOff(ctx, rep, ask[start:], a.err); berr != nil {
				return errors.Join(a.err, berr)
			}
			return a.err
		}
		next = nil
		if end < len(ask) {
			next = s.queryAhead(ctx, ask[end:min(end+onecard.MaxPayQueries, len(ask))])
		}
		answers := &decisions{s: s}
		for i, st := range a.sts {
			s.settle(answers, batch[i], st)
		}
		if err := s.commit(ctx, rep, answers); err != nil {
			if next != nil {
				<-next // unused: a later pass asks again
			}
			return err
		}
	}
	return nil
}

// queryAnswer is pay.query's answer about a batch, or why there is none.
type queryAnswer struct {
	sts []onecard.PayStatus
	err error
}

// queryAhead asks pay.query about batch on a goroutine of its own; the
// answer comes on the channel returned, which the caller must read.
func (s *Service) queryAhead(ctx context.Context, batch []Order) <-chan queryAnswer {
	ch := make(chan queryAnswer, 1)
	go func() {
		sts, err := s.queryOrders(ctx, batch)
		ch <- queryAnswer{sts, err}
	}()
	return ch
}

// decisions gathers the reconciler's decisions about several orders, to
// be written in one journal transaction (commit): one fsync for a whole
// pay.query batch instead of one an order. They are made before the
// transaction, from the orders as the pass read them, as they always
// were; each is kept as a write that reads its order afresh inside the
// transaction, where the store checks the change as on any update. What
// the writes settled is announced (the pass's report, the events) only
// once the transaction has committed, and the platform calls some orders
// need are made after it too, with their own commits: no call waits
// inside a write transaction, and a transaction that fails has stored and
// announced nothing.
type decisions struct {
	s      *Service
	writes []func(JournalTx) error
	// calls need the platform: they run after the commit, in order.
	calls []func(context.Context, *ReconcileReport) error
	// settled is filled by the writes as they run.
	settled []settled
}

// settled is a change a write made, for the pass's report and, when event
// is set, for the subscribers.
type settled struct {
	Settlement
	event bool
}

// write keeps a write for the transaction.
func (d *decisions) write(w func(JournalTx) error) { d.writes = append(d.writes, w) }

// call keeps a step that needs the platform for after the commit.
func (d *decisions) call(c func(context.Context, *ReconcileReport) error) {
	d.calls = append(d.calls, c)
}

// update keeps fn's change of order no.
func (d *decisions) update(no string, fn func(*Order) error) {
	d.write(func(tx JournalTx) error {
		_, err := tx.UpdateOrder(no, fn)
		return err
	})
}

// move keeps a change of order no's state (with fn's other changes),
// reported and published once committed.
func (d *decisions) move(no string, to OrderState, note string, fn func(*Order)) {
	s := d.s
	d.write(func(tx JournalTx) error {
		var from OrderState
		o, err := tx.UpdateOrder(no, func(o *Order) error {
			from = o.State
			if fn != nil {
				fn(o)
			}
			return o.To(to, s.now(), note)
		})
		if err == nil && from != to {
			d.settled = append(d.settled, settled{Settlement{OrderNo: no, Kind: o.Kind, From: from, To: to, Note: note}, true})
		}
		return err
	})
}

// later counts a look that the platform answered but that settled
// nothing, and schedules the next; fn adds its own changes.
func (d *decisions) later(no, why string, fn func(*Order)) {
	s := d.s
	d.update(no, func(o *Order) error {
		o.Attempts++
		o.LastError = why
		o.NextAttempt = s.after(o.LastSent, o.Attempts)
		s.answered(o, s.now())
		if fn != nil {
			fn(o)
		}
		return nil
	})
}

// refund keeps the settlement of refund order o by settle (refundDoneIn,
// refundFailedIn: the refund and its payment), reported as the change
// from o's state; the payment's own change is not reported.
func (d *decisions) refund(o Order, note string, settle func(JournalTx) (Order, error)) {
	d.write(func(tx JournalTx) error {
		r, err := settle(tx)
		if err == nil {
			d.settled = append(d.settled, settled{Settlement{OrderNo: o.OrderNo, Kind: KindRefund, From: o.State, To: r.State, Note: note}, false})
		}
		return err
	})
}

// commit writes d's decisions in one transaction, then reports and
// publishes what they settled and makes the platform calls d left for
// after it. When the transaction fails nothing of it is stored, reported,
// published or called: every order is as it was, and a later pass decides
// again. A ctx that ends mid-way aborts the transaction likewise.
func (s *Service) commit(ctx context.Context, rep *ReconcileReport, d *decisions) error {
	if len(d.writes) > 0 {
		err := s.journal.Update(ctx, func(tx JournalTx) error {
			d.settled = d.settled[:0] // should the journal run this again
			for _, w := range d.writes {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := w(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("recording %d reconciler decisions (none stored): %w", len(d.writes), err)
		}
	}
	for _, st := range d.settled {
		rep.Settled = append(rep.Settled, st.Settlement)
		if st.event {
			s.hub.publish(Event{Kind: EventSettled, At: s.now(), OrderNo: st.OrderNo, From: st.From, To: st.To, Detail: st.Note})
		}
	}
	for _, c := range d.calls {
		if err := c(ctx, rep); err != nil {
			return err
		}
	}
	return nil
}

// decide commits the decisions fn makes on their own: one order's, where
// the reconciler settles orders one at a time (a resend's answer, the
// bill's verdicts).
func (s *Service) decide(ctx context.Context, rep *ReconcileReport, fn func(*decisions)) error {
	d := &decisions{s: s}
	fn(d)
	return s.commit(ctx, rep, d)
}

// queryOrders asks pay.query about up to MaxPayQueries journal orders, by
// their own account and acctype.
func (s *Service) queryOrders(ctx context.Context, batch []Order) ([]onecard.PayStatus, error) {
	qs := make([]onecard.PayQuery, len(batch))
	for i, o := range batch {
		qs[i] = onecard.PayQuery{Account: o.Account, AccType: o.AccType, OrderNo: o.OrderNo}
	}
	sts, err := s.platform.QueryPayments(ctx, qs)
	s.observe(err)
	return sts, err
}

// backOff counts a failed look at orders and moves their next attempt, in
// one transaction: an outage with thousands of due orders costs one fsync
// a pass, not one an order.
func (s *Service) backOff(ctx context.Context, rep *ReconcileReport, orders []Order, cause error) error {
	return s.decide(ctx, rep, func(d *decisions) {
		for _, o := range orders {
			d.update(o.OrderNo, func(o *Order) error {
				o.Attempts++
				o.LastError = cause.Error()
				o.NextAttempt = s.after(o.LastSent, o.Attempts)
				return nil
			})
		}
	})
}

// move changes an order's state (with fn's other changes), in a commit of
// its own, and reports it.
func (s *Service) move(ctx context.Context, no string, rep *ReconcileReport, to OrderState, note string, fn func(*Order)) error {
	return s.decide(ctx, rep, func(d *decisions) { d.move(no, to, note, fn) })
}

// mismatch says how the platform's record of an order differs from the
// journal's (amount, account, out_id), or "" when it does not: an order is
// settled only from an answer about the same purchase.
func mismatch(o Order, st onecard.PayStatus) string {
	var diffs []string
	if st.Amount != 0 && st.Amount != o.Amount {
		diffs = append(diffs, fmt.Sprintf("amount: journal %s, platform %s", o.Amount.Yuan(), st.Amount.Yuan()))
	}
	if st.Account != "" && st.Account != o.Account {
		diffs = append(diffs, fmt.Sprintf("account: journal %s, platform %s", MaskAccount(o.Account), MaskAccount(st.Account)))
	}
	if st.OutID != "" && o.OutID != "" && st.OutID != o.OutID {
		diffs = append(diffs, fmt.Sprintf("out_id: journal %s, platform %s", o.OutID, st.OutID))
	}
	if len(diffs) == 0 {
		return ""
	}
	return "the platform's order " + o.OrderNo + " is not this one (" + strings.Join(diffs, "; ") + "): a person must look"
}

// settle decides from pay.query's answer about one order, into d.
func (s *Service) settle(d *decisions, o Order, st onecard.PayStatus) {
	setOut := func(p *Order) {
		if st.OutID != "" {
			p.OutID = st.OutID
		}
		p.Attempts++
		p.LastError = ""
		s.answered(p, s.now())
	}
	desc := "pay.query: " + st.Status.String()
	switch st.Status {
	case onecard.StatusPaid, onecard.StatusRefunded, onecard.StatusFailed:
		if why := mismatch(o, st); why != "" {
			d.move(o.OrderNo, StateNeedsReview, why, func(p *Order) {
				p.Attempts++
				p.LastError = why
			})
			return
		}
	}
	if o.Kind == KindRefund {
		switch st.Status {
		case onecard.StatusPaid, onecard.StatusRefunded:
			d.refund(o, desc, func(tx JournalTx) (Order, error) { return s.refundDoneIn(tx, o.OrderNo, st.OutID, desc) })
		case onecard.StatusFailed:
			d.refund(o, desc, func(tx JournalTx) (Order, error) { return s.refundFailedIn(tx, o.OrderNo, "", "", desc) })
		case onecard.StatusNoOrder:
			if o.PlatformHas {
				// The platform said it has the number: pay.query does not
				// know refunds there. The bill, or a person, settles it.
				d.later(o.OrderNo, desc+", but the platform has this refund number: waiting for the bill", nil)
				return
			}
			d.call(func(ctx context.Context, rep *ReconcileReport) error { return s.resendRefund(ctx, o, rep) })
		default:
			d.later(o.OrderNo, desc, nil)
		}
		return
	}
	told := o.State == StateUnknown || o.State == StateOfflineAccepted
	switch st.Status {
	case onecard.StatusPaid:
		if told {
			d.move(o.OrderNo, StatePaid, desc, setOut)
			return
		}
		// Charged, but the customer was never told: it must not stay.
		d.orphanCharged(o, setOut, desc)
	case onecard.StatusFailed:
		to := StateDeclined
		if told {
			to = StateFailedAfterOffline
		}
		d.move(o.OrderNo, to, desc, setOut)
	case onecard.StatusRefunded:
		to := StateRefunded
		if !told {
			to = StateOrphanRefunded
		}
		d.move(o.OrderNo, to, desc, setOut)
	case onecard.StatusNoOrder:
		switch {
		case o.PlatformHas:
			d.later(o.OrderNo, desc+", but the platform said it has this order number: asking again", nil)
		case told:
			d.call(func(ctx context.Context, rep *ReconcileReport) error { return s.resendPay(ctx, o, rep) })
		default:
			d.move(o.OrderNo, StateVoided, "never reached the platform, never confirmed: voided", setOut)
		}
	default:
		d.later(o.OrderNo, desc, nil)
	}
}

// orphanCharged handles a charge the customer was never told about: refund
// it under a refund order created with the orphan mark (once, however many
// passes find it), or leave it to a person.
func (s *Service) orphanCharged(ctx context.Context, o Order, rep *ReconcileReport, fn func(*Order), why string) error {
	return s.decide(ctx, rep, func(d *decisions) { d.orphanCharged(o, fn, why) })
}

// orphanCharged is Service.orphanCharged decided into d: the review is a
// write of the transaction; the refund is started (its own transaction,
// which journals it before it is sent) and sent after the commit.
func (d *decisions) orphanCharged(o Order, fn func(*Order), why string) {
	s := d.s
	why += ": charged without the customer being told"
	if s.opts.Reconcile.ReviewOrphans {
		d.move(o.OrderNo, StateNeedsReview, why, fn)
		return
	}
	d.call(func(ctx context.Context, rep *ReconcileReport) error {
		r, started, err := s.startOrphanRefund(ctx, o.OrderNo, why, fn)
		if err != nil {
			return err
		}
		if started {
			rep.Settled = append(rep.Settled, Settlement{OrderNo: o.OrderNo, Kind: o.Kind, From: o.State, To: StateOrphanCharged, Note: why})
			s.hub.publish(Event{Kind: EventSettled, At: s.now(), OrderNo: o.OrderNo, From: o.State, To: StateOrphanCharged, Detail: why})
		}
		return s.sendOrphanRefund(ctx, r)
	})
}

// sendOrphanRefund sends the refund of an orphan charge unless it is past
// sending or in flight in this process; its settlement, now or by the
// reconciler, completes the orphan. Resending a refund that left before a
// crash is safe: the platform refunds one number once.
func (s *Service) sendOrphanRefund(ctx context.Context, r Order) error {
	if r.State != StateSending || s.isInflight(r.OrderNo) {
		return nil
	}
	_, err := s.sendRefund(ctx, r)
	return s.ignoreCallError(err)
}

// refundOrphan decides, into d, what makes sure the refund of orphan
// charge p exists and has been sent; the refund's own settlement completes
// the orphan.
func (s *Service) refundOrphan(ctx context.Context, d *decisions, p Order) error {
	r, err := s.journal.Order(ctx, p.RefundOrderNo)
	if errors.Is(err, ErrOrderNotFound) {
		// Named but never created (a schema-2 journal): create and send.
		d.orphanCharged(p, nil, "refund of the orphan charge was never created")
		return nil
	}
	if err != nil {
		return err
	}
	// A schema-2 journal confirmed the refund in one commit and credited
	// the payment in another: finish the payment now.
	switch r.State {
	case StatePaid:
		d.move(p.OrderNo, StateOrphanRefunded, "refunded by "+r.OrderNo, func(p *Order) {
			p.Refunded = max(p.Refunded, r.Amount)
			p.PendingRefunds = slices.DeleteFunc(p.PendingRefunds, func(no string) bool { return no == r.OrderNo })
		})
	case StateDeclined:
		d.write(func(tx JournalTx) error {
			_, err := s.refundFailedIn(tx, r.OrderNo, "", "", "refund of the orphan charge was declined")
			return err
		})
	default:
		// The refund order is in the journal; it is reconciled on its own.
		d.update(p.OrderNo, func(p *Order) error {
			p.NextAttempt = s.after(s.now(), p.Attempts+1)
			return nil
		})
	}
	return nil
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
func (s *Service) resendRefund(ctx context.Context, o Order, rep *ReconcileReport) error {
	from := o.State
	o, err := s.stampSent(ctx, o.OrderNo)
	if err != nil {
		return err
	}
	r, err := s.sendRefund(ctx, o)
	if r.State != from && r.OrderNo != "" {
		rep.Settled = append(rep.Settled, Settlement{OrderNo: o.OrderNo, Kind: KindRefund, From: from, To: r.State, Note: "sent again"})
	}
	return s.ignoreCallError(err)
}

// resendPay sends a payment the customer was told would go through (offline
// accepted, or unknown and not on the platform) with its own order number:
// the platform charges a number once, so a copy that arrives late is
// refused as a duplicate. Its answer is journalled in a commit of its own.
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
	case isDuplicate(callErr):
		// It reached the platform after all: ask again, and never take a
		// later "no such order" for the truth.
		return s.decide(ctx, rep, func(d *decisions) {
			d.later(o.OrderNo, "sent again: the platform already has it; asking again", func(p *Order) { p.PlatformHas = true })
		})
	case errors.As(callErr, &be):
		return s.move(ctx, o.OrderNo, rep, StateFailedAfterOffline, "sent again and declined: "+be.Error(), func(p *Order) {
			p.Code, p.Message, p.LastError = be.Retcode, be.Error(), be.Error()
		})
	}
	// No answer: not one that counts on the give-up clock either.
	_, err = s.journal.UpdateOrder(ctx, o.OrderNo, func(p *Order) error {
		p.LastError = callErr.Error()
		if isNotSent(callErr) && p.State == StateOfflineAccepted {
			p.LastSent = time.Time{} // nothing left: still never sent
		}
		p.NextAttempt = s.after(p.LastSent, p.Attempts)
		return nil
	})
	return err
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
		if err := sleep(ctx, wait, s.wake); err != nil {
			return err
		}
	}
}
