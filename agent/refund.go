package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// The refund rules. The platform may protect nothing (accept a refund
// beyond the original, forget refund numbers in pay.query, process a
// request late), so the journal alone keeps a refund from paying out twice:
//
//   - A refund order is created in the same transaction that adds it to its
//     payment's PendingRefunds and counts it in RefundsStarted; it is
//     confirmed (or declined) in the same transaction that credits the
//     payment's Refunded (or takes it off the pending list). A crash
//     between two commits therefore cannot lose a refund's effect on its
//     payment.
//   - While a payment has a pending refund, no other refund of it starts
//     (RefundBlockedError): an unconfirmed refund may have gone through.
//   - What is left to refund is Amount - Refunded, and the store refuses a
//     Refunded above Amount.
//   - A refund's number is derived from its payment's (RefundNo), so that a
//     journal that forgot a refund (restored from a backup) reuses the
//     number and the platform refuses it as a duplicate instead of paying
//     twice.
//   - "Duplicate order number" (60045, 60070) on any send of a refund means
//     the platform has it: it stays unconfirmed (PlatformHas) until
//     pay.query, the bill or a person settles it; it is never declined on
//     that answer.

// RefundBlockedError refuses a refund of a payment that has a refund not yet
// confirmed or declined: that one may have gone through, and a second could
// pay out twice.
type RefundBlockedError struct {
	// OrderNo is the payment's number.
	OrderNo string
	// Pending are the unconfirmed refund orders, as the journal has them.
	Pending []Order
}

func (e *RefundBlockedError) Error() string {
	parts := make([]string, len(e.Pending))
	for i, r := range e.Pending {
		parts[i] = fmt.Sprintf("%s (%s, %s)", r.OrderNo, r.State, r.Amount.Yuan())
	}
	return fmt.Sprintf("payment %s has a refund not yet confirmed: %s; it may have gone through, so no other refund "+
		"of the payment starts until it is settled", e.OrderNo, strings.Join(parts, ", "))
}

// RefundNo is the number of a payment's next refund: the payment's number,
// "R" and the refund's ordinal (1 for the first). Deriving it makes a refund
// the journal forgot collide with itself at the platform instead of being
// paid twice. It is "" when that would exceed the protocol's 32 bytes (a
// payment number given by hand); a fresh number is used then.
func RefundNo(p Order) string {
	no := fmt.Sprintf("%sR%d", p.OrderNo, p.RefundsStarted+1)
	if len(no) > maxOrderNoLen {
		return ""
	}
	return no
}

// maxOrderNoLen is order_no's String(32).
const maxOrderNoLen = 32

// refundFallback is a fresh order number for a refund of payment payNo
// when the derived number (RefundNo) may not fit in order_no, "" when it
// does. It is made before the refund's transaction, which cannot make one
// (NextOrderStamp is a transaction of its own).
func (s *Service) refundFallback(ctx context.Context, payNo string) (string, error) {
	if len(payNo)+len("R999") <= maxOrderNoLen {
		return "", nil
	}
	return s.NewOrderNo(ctx)
}

// Refund refunds amount of an earlier payment made by this terminal. The
// account and acctype come from the journal's record of the original: a
// refund is never sent for an order this terminal does not know. refundNo
// "" numbers it RefundNo. It is refused with a *RefundBlockedError while an
// earlier refund of the payment is unconfirmed, and with an
// *onecard.RequestError when the payment is not paid or amount is more than
// is left. A refund the platform declined returns a *Declined; one left
// unconfirmed (unsent, unanswered, or a number the platform already holds)
// is retried or confirmed later, and its error wraps ErrOutcomeUnknown.
func (s *Service) Refund(ctx context.Context, originalNo string, amount money.Fen, refundNo string) (Order, error) {
	fallback := ""
	if refundNo == "" {
		var err error
		if fallback, err = s.refundFallback(ctx, originalNo); err != nil {
			return Order{}, err
		}
	}
	var r Order
	err := s.journal.Update(ctx, func(tx JournalTx) error {
		orig, err := tx.Order(originalNo)
		if err != nil {
			return fmt.Errorf("original order %s: %w", originalNo, err)
		}
		refusal := func(field, why string) error {
			return &onecard.RequestError{Method: onecard.MethodRefund, Field: field, Reason: why}
		}
		switch {
		case orig.Kind != KindPay:
			return refusal("refund_order_no", fmt.Sprintf("order %s is a %s, not a payment", originalNo, orig.Kind))
		case len(orig.PendingRefunds) > 0:
			blocked := &RefundBlockedError{OrderNo: originalNo}
			for _, no := range orig.PendingRefunds {
				p, err := tx.Order(no)
				if err != nil {
					return fmt.Errorf("pending refund %s of %s: %w", no, originalNo, err)
				}
				blocked.Pending = append(blocked.Pending, p)
			}
			return blocked
		case orig.State != StatePaid && orig.State != StatePartiallyRefunded:
			return refusal("refund_order_no", fmt.Sprintf("order %s is %s here, not paid: query it first", originalNo, orig.State))
		}
		if left := orig.Amount - orig.Refunded; amount > left {
			return refusal("tranamt", fmt.Sprintf("%s is more than the %s left of the original %s", amount.Yuan(), left.Yuan(), orig.Amount.Yuan()))
		}
		no := refundNo
		if no == "" {
			no = cmp.Or(RefundNo(orig), fallback)
		}
		r = s.newRefund(orig, no, amount, "refund requested")
		if err := r.refundRequest().Validate(); err != nil {
			return err
		}
		return s.startRefund(tx, r, nil)
	})
	if err != nil {
		return Order{}, err
	}
	return s.sendRefund(ctx, r)
}

// startRefund creates refund order r and books it on its payment (pending,
// counted), with fn's other changes to the payment, inside tx.
func (s *Service) startRefund(tx JournalTx, r Order, fn func(*Order) error) error {
	if err := tx.CreateOrder(r); err != nil {
		return fmt.Errorf("recording refund %s before sending it: %w", r.OrderNo, err)
	}
	_, err := tx.UpdateOrder(r.RefundOf, func(p *Order) error {
		p.RefundsStarted++
		p.PendingRefunds = append(p.PendingRefunds, r.OrderNo)
		if fn != nil {
			return fn(p)
		}
		return nil
	})
	return err
}

// newRefund is the journal record of a refund of orig, about to be sent.
func (s *Service) newRefund(orig Order, no string, amount money.Fen, note string) Order {
	now := s.now()
	return Order{
		OrderNo: no, Kind: KindRefund, RefundOf: orig.OrderNo, Account: orig.Account,
		AccType: orig.AccType, MercAcc: s.opts.Terminal.MercAcc, TermID: s.opts.Terminal.TermID, Amount: amount,
		Created: now, Updated: now, Day: s.day(now), State: StateSending, LastSent: now, Attempts: 1, NextAttempt: s.sendWindow(now),
		History: []Transition{{At: now, To: StateSending, Note: note}},
	}
}

func (o Order) refundRequest() onecard.RefundRequest {
	return onecard.RefundRequest{OrderNo: o.OrderNo, RefundOrderNo: o.RefundOf, Account: o.Account,
		AccType: o.AccType, MercAcc: o.MercAcc, Amount: o.Amount, TermID: o.TermID}
}

// isDuplicateCode reports whether a journalled code is the platform's
// "duplicate order number".
func isDuplicateCode(code string) bool {
	return code == onecard.RetcodeDuplicateOrder || code == onecard.RetcodeOrderExists
}

// isDuplicate reports whether err is the platform saying it already has an
// order of this number.
func isDuplicate(err error) bool {
	var be *onecard.BusinessError
	return errors.As(err, &be) && isDuplicateCode(be.Retcode)
}

// sendRefund sends a journalled refund order and journals the outcome,
// crediting the original payment when it goes through.
func (s *Service) sendRefund(ctx context.Context, o Order) (Order, error) {
	s.setInflight(o.OrderNo, true)
	defer s.setInflight(o.OrderNo, false)
	res, callErr := s.platform.Refund(ctx, o.refundRequest())
	s.observe(callErr)
	var saved Order
	var err error
	switch {
	case callErr == nil:
		saved, err = s.refundDone(ctx, o.OrderNo, res.OutID, "confirmed by the platform")
	case isDuplicate(callErr):
		saved, err = s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
			o.LastError, o.PlatformHas = callErr.Error(), true
			o.Code, o.Message = onecard.ErrorCode(callErr), callErr.Error()
			o.NextAttempt = s.after(o.LastSent, o.Attempts)
			return o.To(StateUnknown, s.now(), "the platform already has this refund number: unconfirmed until pay.query or the bill shows it")
		})
		s.nudge()
	case onecard.Declined(callErr) && !isNotSent(callErr):
		saved, err = s.refundFailed(ctx, o.OrderNo, onecard.ErrorCode(callErr), callErr.Error(), "refund declined by the platform")
	default:
		// A refund may be resent with its own number at any time: the
		// platform refunds it once. Unknown or unsent, it is retried.
		saved, err = s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
			o.LastError = callErr.Error()
			o.NextAttempt = s.after(o.LastSent, o.Attempts)
			return o.To(StateUnknown, s.now(), "no answer: the refund will be retried")
		})
		s.nudge()
	}
	if err != nil {
		return o, errors.Join(fmt.Errorf("recording the outcome of refund %s: %w", o.OrderNo, err), callErr, errOutcomeNotRecorded)
	}
	switch {
	case saved.State == StateNeedsReview && callErr == nil:
		return saved, fmt.Errorf("refund %s went through but cannot be credited: %s", saved.OrderNo, saved.LastError)
	case saved.State == StateUnknown:
		// Unsent, unanswered or a number the platform holds: the refund
		// stays unconfirmed, and is retried or confirmed later.
		return saved, fmt.Errorf("%w: %w", ErrOutcomeUnknown, callErr)
	}
	return saved, domainError(callErr)
}

// refundDone journals a confirmed refund and credits its payment in one
// transaction: a refund of an orphan charge makes it orphan_refunded, any
// other moves the payment to partially_refunded or refunded. A refund
// already confirmed is not credited again. A refund that would take the
// payment's refunds past its amount is not credited: it goes to
// needs_review, since it can only mean the journal lost track.
func (s *Service) refundDone(ctx context.Context, refundNo, outID, note string) (Order, error) {
	return s.inTx(ctx, func(tx JournalTx) (Order, error) { return s.refundDoneIn(tx, refundNo, outID, note) })
}

// refundDoneIn is refundDone inside tx: the reconciler settles a
// pay.query batch's refunds in the transaction of the whole batch.
func (s *Service) refundDoneIn(tx JournalTx, refundNo, outID, note string) (Order, error) {
	cur, err := tx.Order(refundNo)
	if err != nil {
		return Order{}, err
	}
	if cur.State == StatePaid {
		return cur, nil
	}
	p, err := tx.Order(cur.RefundOf)
	if err != nil {
		return Order{}, fmt.Errorf("payment %s of refund %s: %w", cur.RefundOf, refundNo, err)
	}
	now := s.now()
	if !slices.Contains(p.PendingRefunds, refundNo) {
		// Booked pending when it was created, taken off when it was
		// credited: not pending means credited already.
		return tx.UpdateOrder(refundNo, func(o *Order) error {
			o.LastError = ""
			return o.To(StatePaid, now, note+" (already credited to "+p.OrderNo+")")
		})
	}
	if p.Refunded+cur.Amount > p.Amount {
		return tx.UpdateOrder(refundNo, func(o *Order) error {
			o.LastError = fmt.Sprintf("the platform confirmed a refund of %s but only %s of payment %s is left to refund",
				cur.Amount.Yuan(), (p.Amount - p.Refunded).Yuan(), p.OrderNo)
			if outID != "" {
				o.OutID = outID
			}
			return o.To(StateNeedsReview, now, o.LastError)
		})
	}
	r, err := tx.UpdateOrder(refundNo, func(o *Order) error {
		if outID != "" {
			o.OutID = outID
		}
		o.LastError = ""
		return o.To(StatePaid, now, note)
	})
	if err != nil {
		return r, err
	}
	_, err = tx.UpdateOrder(cur.RefundOf, func(p *Order) error { return p.credit(r, now) })
	return r, err
}

// inTx runs fn in one journal transaction and returns the order it
// returns.
func (s *Service) inTx(ctx context.Context, fn func(JournalTx) (Order, error)) (Order, error) {
	var r Order
	err := s.journal.Update(ctx, func(tx JournalTx) error {
		var err error
		r, err = fn(tx)
		return err
	})
	return r, err
}

// credit books confirmed refund r on payment p: off the pending list, onto
// the refunded amount, and the payment's state to match.
func (p *Order) credit(r Order, now time.Time) error {
	p.PendingRefunds = slices.DeleteFunc(p.PendingRefunds, func(no string) bool { return no == r.OrderNo })
	p.Refunded += r.Amount
	switch {
	case p.State == StateOrphanCharged && p.RefundOrderNo == r.OrderNo:
		return p.To(StateOrphanRefunded, now, "refunded by "+r.OrderNo)
	case p.State != StatePaid && p.State != StatePartiallyRefunded:
		// Only the amount is recorded; the payment's own settlement (by
		// the reconciler) decides its state.
		p.LastError = fmt.Sprintf("refund %s went through while the payment was %s", r.OrderNo, p.State)
		return nil
	case p.Refunded >= p.Amount:
		return p.To(StateRefunded, now, "refunded by "+r.OrderNo)
	}
	return p.To(StatePartiallyRefunded, now, "partly refunded by "+r.OrderNo)
}

// adoptBillRefund records a refund the bill shows done under one of this
// terminal's derived refund numbers (RefundNo) that the journal does not
// have: a journal restored from a backup forgot it. It is booked on its
// payment like any confirmed refund, so that what is left to refund is
// right again; one that would take the refunds past the payment goes to
// needs_review. A number of another shape, or of a payment the journal
// does not hold, is left to the report.
func (s *Service) adoptBillRefund(ctx context.Context, row onecard.BillRow, date string) error {
	payNo, n, ok := parseRefundNo(row.OrderNo)
	if !ok || row.Type != onecard.BillTypeRefund || row.Status != billStatusSuccess {
		return nil
	}
	return s.journal.Update(ctx, func(tx JournalTx) error {
		p, err := tx.Order(payNo)
		if errors.Is(err, ErrOrderNotFound) || err == nil && (p.Kind != KindPay || p.Account != row.Account) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		r := s.newRefund(p, row.OrderNo, row.Amount, "")
		r.OutID, r.Attempts, r.LastSent, r.NextAttempt = row.OutID, 0, time.Time{}, time.Time{}
		why := "adopted from the bill of " + date + ": the platform refunded it, the journal did not have it (restored from a backup?)"
		r.State, r.History = StatePaid, []Transition{{At: now, To: StatePaid, Note: why}}
		over := p.Refunded+r.Amount > p.Amount
		if over {
			r.State, r.LastError = StateNeedsReview, fmt.Sprintf("%s; it takes the refunds of %s past the payment", why, p.OrderNo)
			r.History[0] = Transition{At: now, To: StateNeedsReview, Note: r.LastError}
		}
		if err := tx.CreateOrder(r); err != nil {
			return err
		}
		_, err = tx.UpdateOrder(payNo, func(p *Order) error {
			p.RefundsStarted = max(p.RefundsStarted, n)
			if over {
				p.PendingRefunds = append(p.PendingRefunds, r.OrderNo)
				return nil
			}
			return p.credit(r, now)
		})
		return err
	})
}

// parseRefundNo splits a derived refund number (RefundNo) into its
// payment's number and its ordinal.
func parseRefundNo(no string) (payNo string, n int, ok bool) {
	i := strings.LastIndexByte(no, 'R')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(no[i+1:])
	if err != nil || n < 1 || strconv.Itoa(n) != no[i+1:] {
		return "", 0, false
	}
	return no[:i], n, true
}

// refundFailed journals a refund the platform refused and takes it off its
// payment's pending list, in one transaction; an orphan charge whose
// refund was refused needs a person.
func (s *Service) refundFailed(ctx context.Context, refundNo, code, msg, note string) (Order, error) {
	return s.inTx(ctx, func(tx JournalTx) (Order, error) { return s.refundFailedIn(tx, refundNo, code, msg, note) })
}

// refundFailedIn is refundFailed inside tx.
func (s *Service) refundFailedIn(tx JournalTx, refundNo, code, msg, note string) (Order, error) {
	now := s.now()
	r, err := tx.UpdateOrder(refundNo, func(o *Order) error {
		if code != "" {
			o.Code = code
		}
		if msg != "" {
			o.Message, o.LastError = msg, msg
		}
		return o.To(StateDeclined, now, note)
	})
	if err != nil {
		return r, err
	}
	_, err = tx.UpdateOrder(r.RefundOf, func(p *Order) error {
		p.PendingRefunds = slices.DeleteFunc(p.PendingRefunds, func(no string) bool { return no == refundNo })
		if p.State != StateOrphanCharged || p.RefundOrderNo != r.OrderNo {
			return nil
		}
		return p.To(StateNeedsReview, now, fmt.Sprintf("refund %s of the orphan charge was declined: %s", r.OrderNo, r.Message))
	})
	return r, err
}

// startOrphanRefund makes payment o an orphan charge and creates its full
// refund, in one transaction, once: when the payment already is an orphan
// charge (another pass, a retry) nothing changes and the existing refund is
// returned. fn adds its own changes to the payment. The caller sends the
// refund.
func (s *Service) startOrphanRefund(ctx context.Context, orderNo, why string, fn func(*Order)) (refund Order, started bool, err error) {
	fallback, err := s.refundFallback(ctx, orderNo)
	if err != nil {
		return Order{}, false, err
	}
	err = s.journal.Update(ctx, func(tx JournalTx) error {
		p, err := tx.Order(orderNo)
		if err != nil {
			return err
		}
		if p.State == StateOrphanCharged && p.RefundOrderNo != "" {
			refund, err = tx.Order(p.RefundOrderNo)
			if errors.Is(err, ErrOrderNotFound) {
				// A schema-2 journal named the refund before creating it.
				refund = s.newRefund(p, p.RefundOrderNo, p.Amount-p.Refunded, "refund of an orphan charge")
				started = true
				return s.startRefund(tx, refund, nil)
			}
			return err
		}
		no := cmp.Or(RefundNo(p), fallback)
		refund = s.newRefund(p, no, p.Amount-p.Refunded, "refund of an orphan charge")
		started = true
		return s.startRefund(tx, refund, func(p *Order) error {
			if fn != nil {
				fn(p)
			}
			p.RefundOrderNo = no
			p.NextAttempt = s.after(s.now(), p.Attempts)
			return p.To(StateOrphanCharged, s.now(), why+"; refunding as "+no)
		})
	})
	return refund, started, err
}
