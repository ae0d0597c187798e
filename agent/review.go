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

// ErrNotInReview is returned by Resolve for an order that is not
// needs_review: everything else is the reconciler's to settle.
var ErrNotInReview = errors.New("the order is not needs_review")

// ResolveError is a resolution the platform contradicts: the journal would
// then say something the platform's ledger does not, which is the very
// thing a review is there to end.
type ResolveError struct {
	OrderNo string
	To      OrderState
	// Platform is what pay.query answered.
	Platform onecard.OrderStatus
	// Fits lists the states that agree with it.
	Fits []OrderState
	// Mismatch, when set, says how the platform's order of this number is
	// another purchase (amount, account, out_id): no state fits, the card
	// office must sort it out.
	Mismatch string
}

func (e *ResolveError) Error() string {
	if e.Mismatch != "" {
		return fmt.Sprintf("order %s cannot be resolved from the platform's answer: %s", e.OrderNo, e.Mismatch)
	}
	fits := make([]string, len(e.Fits))
	for i, s := range e.Fits {
		fits[i] = string(s)
	}
	if len(fits) == 0 {
		return fmt.Sprintf("order %s: the platform says %s: nothing to resolve until it settles; ask again later", e.OrderNo, e.Platform)
	}
	return fmt.Sprintf("order %s: the platform says %s, so it cannot be resolved as %s; resolve it as %s",
		e.OrderNo, e.Platform, e.To, strings.Join(fits, " or "))
}

// resolutions lists the states an order under review may be resolved to,
// given what the platform says of it.
func resolutions(o Order, st onecard.OrderStatus) []OrderState {
	if o.Kind == KindRefund {
		switch st {
		case onecard.StatusPaid, onecard.StatusRefunded:
			return []OrderState{StatePaid}
		case onecard.StatusFailed:
			return []OrderState{StateDeclined}
		case onecard.StatusNoOrder:
			if o.PlatformHas {
				// The platform has the number but pay.query does not know
				// refunds: the bill tells, and the person read it.
				return []OrderState{StatePaid, StateDeclined}
			}
			return []OrderState{StateDeclined}
		}
		return nil
	}
	switch st {
	case onecard.StatusPaid:
		// Charged: the customer keeps it (paid, or partly refunded as the
		// journal has it), or it is refunded automatically (orphan_charged:
		// a refund is sent).
		if o.Refunded > 0 {
			return []OrderState{StatePartiallyRefunded, StateOrphanCharged}
		}
		return []OrderState{StatePaid, StateOrphanCharged}
	case onecard.StatusRefunded:
		return []OrderState{StateRefunded, StateOrphanRefunded}
	case onecard.StatusFailed:
		return []OrderState{StateDeclined, StateVoided, StateFailedAfterOffline}
	case onecard.StatusNoOrder:
		if o.PlatformHas {
			return nil // it has the number: not settled yet
		}
		fits := []OrderState{StateDeclined, StateVoided, StateFailedAfterOffline}
		if ToldCustomer(o) {
			// The customer was told it would go through: forward it.
			fits = append(fits, StateOfflineAccepted)
		}
		return fits
	}
	return nil // processing: not settled yet
}

// ToldCustomer reports whether the customer was told that payment o went
// through, was recorded, or would be confirmed (its journalled Outcome):
// such a payment must end up charged exactly once.
func ToldCustomer(o Order) bool { return o.Kind == KindPay && o.Outcome.Kind.Charges() }

// Resolve ends the review of an order: a person, having looked, says what
// it became. The platform is asked first and must agree (ResolveError
// otherwise), so a review ends only with the journal matching the ledger;
// note says who decided and why, and goes into the order's history. A
// payment resolved as orphan_charged is refunded at once; one resolved as
// offline_accepted (the customer was told, the platform never got it) is
// forwarded by the reconciler; a refund resolved as paid credits its
// payment as any confirmed refund, one resolved as declined frees the
// payment for another refund.
func (s *Service) Resolve(ctx context.Context, orderNo string, to OrderState, note string) (Order, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return Order{}, errors.New("a resolution needs a note: who looked, and what they found")
	}
	if err := s.lockPass(ctx); err != nil {
		return Order{}, err
	}
	defer s.unlockPass()
	o, err := s.journal.Order(ctx, orderNo)
	if err != nil {
		return Order{}, err
	}
	if o.State != StateNeedsReview {
		return o, fmt.Errorf("order %s is %s: %w", orderNo, o.State, ErrNotInReview)
	}
	if err := CheckTransition(o.State, to); err != nil {
		return o, err
	}
	sts, err := s.queryOrders(ctx, []Order{o})
	if err != nil {
		return o, fmt.Errorf("asking the platform about order %s: %w", orderNo, err)
	}
	st := sts[0]
	if why := mismatch(o, st); why != "" {
		// The platform's order under this number is not this one: settling
		// this one from it would make the journal wrong in another way.
		return o, &ResolveError{OrderNo: orderNo, To: to, Platform: st.Status, Mismatch: why}
	}
	fits := resolutions(o, st.Status)
	if !slices.Contains(fits, to) {
		return o, &ResolveError{OrderNo: orderNo, To: to, Platform: st.Status, Fits: fits}
	}
	why := fmt.Sprintf("resolved by a person (pay.query: %s): %s", st.Status, note)
	switch {
	case o.Kind == KindRefund && to == StatePaid:
		r, err := s.refundDone(ctx, orderNo, st.OutID, why)
		if err == nil && r.State != StatePaid {
			// Crediting it would take the payment's refunds past the
			// payment: the journal lost track, and the review goes on.
			err = fmt.Errorf("refund %s cannot be credited: %s", orderNo, r.LastError)
		}
		return r, err
	case o.Kind == KindRefund && to == StateDeclined:
		return s.refundFailed(ctx, orderNo, "", "", why)
	case to == StateOrphanCharged:
		r, _, err := s.startOrphanRefund(ctx, orderNo, why, func(p *Order) {
			if st.OutID != "" {
				p.OutID = st.OutID
			}
			p.LastError = ""
		})
		if err != nil {
			return o, err
		}
		if err := s.sendOrphanRefund(ctx, r); err != nil {
			return o, err
		}
		return s.journal.Order(ctx, orderNo)
	}
	saved, err := s.journal.UpdateOrder(ctx, orderNo, func(p *Order) error {
		now := s.now()
		if st.OutID != "" {
			p.OutID = st.OutID
		}
		p.LastError = ""
		if to == StateOfflineAccepted {
			// Never reached the platform: the reconciler sends it.
			p.LastSent, p.NextAttempt = time.Time{}, now
			if p.Day == "" {
				p.Day = s.day(p.Created) // journalled before orders had days
			}
		}
		return p.To(to, now, why)
	})
	if err != nil {
		return saved, err
	}
	if to.Unfinished() {
		s.nudge()
	}
	return saved, nil
}
