package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
}

func (e *ResolveError) Error() string {
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

// resolutions lists the states a payment (or a refund) under review may
// be resolved to, given what the platform says of it.
func resolutions(kind OrderKind, st onecard.OrderStatus) []OrderState {
	refund := kind == KindRefund
	switch st {
	case onecard.StatusPaid:
		if refund {
			return []OrderState{StatePaid}
		}
		// Charged: the customer keeps it (paid), or it is refunded
		// automatically (orphan_charged: the reconciler sends the refund).
		return []OrderState{StatePaid, StateOrphanCharged}
	case onecard.StatusRefunded:
		if refund {
			return []OrderState{StatePaid}
		}
		return []OrderState{StateRefunded, StateOrphanRefunded}
	case onecard.StatusFailed, onecard.StatusNoOrder:
		if refund {
			return []OrderState{StateDeclined}
		}
		return []OrderState{StateDeclined, StateVoided, StateFailedAfterOffline}
	}
	return nil // processing: not settled yet
}

// Resolve ends the review of an order: a person, having looked, says what
// it became. The platform is asked first and must agree (ResolveError
// otherwise), so a review ends only with the journal matching the ledger;
// note says who decided and why, and goes into the order's history. A
// payment resolved as orphan_charged is refunded by the reconciler; a
// refund resolved as paid credits its payment as any confirmed refund.
func (s *Service) Resolve(ctx context.Context, orderNo string, to OrderState, note string) (Order, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return Order{}, errors.New("a resolution needs a note: who looked, and what they found")
	}
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
	sts, err := s.platform.QueryPayments(ctx, []onecard.PayQuery{{Account: o.Account, AccType: o.AccType, OrderNo: o.OrderNo}})
	s.observe(err)
	if err != nil {
		return o, fmt.Errorf("asking the platform about order %s: %w", orderNo, err)
	}
	st := sts[0]
	fits := resolutions(o.Kind, st.Status)
	if !slices.Contains(fits, to) {
		return o, &ResolveError{OrderNo: orderNo, To: to, Platform: st.Status, Fits: fits}
	}
	why := fmt.Sprintf("resolved by a person (pay.query: %s): %s", st.Status, note)
	if o.Kind == KindRefund && to == StatePaid {
		return s.refundDone(ctx, orderNo, st.OutID, why)
	}
	var refundNo string
	if to == StateOrphanCharged && o.RefundOrderNo == "" {
		// Journalled with the resolution, as the reconciler does for an
		// orphan, so that the refund is made once under this number.
		if refundNo, err = s.NewOrderNo(ctx); err != nil {
			return o, err
		}
		why += "; refunding as " + refundNo
	}
	saved, err := s.journal.UpdateOrder(ctx, orderNo, func(p *Order) error {
		now := s.now()
		if st.OutID != "" {
			p.OutID = st.OutID
		}
		p.LastError = ""
		if to == StateOrphanCharged {
			p.NextAttempt = now
			if refundNo != "" {
				p.RefundOrderNo = refundNo
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
