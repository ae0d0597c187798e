package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Terminal is this terminal's identity on the platform, from its config.
type Terminal struct {
	TermID  string
	MercAcc string
	// AccType is the account type charged by default ("###", the card).
	AccType string
}

// Service is the terminal's payment flow: every order is recorded before its
// request leaves the process and its outcome is recorded before it is
// reported to anyone.
type Service struct {
	platform *Platform
	orders   OrderStore
	term     Terminal
	clock    Clock
	loc      *time.Location
}

// NewService builds the payment flow. loc is the platform's time zone, used
// for order numbers so that they read like the platform's own dates.
func NewService(p *Platform, orders OrderStore, term Terminal, clock Clock, loc *time.Location) *Service {
	if term.AccType == "" {
		term.AccType = onecard.AccTypeCard
	}
	return &Service{platform: p, orders: orders, term: term, clock: clock, loc: loc}
}

// Platform returns the token-managed protocol client.
func (s *Service) Platform() *Platform { return s.platform }

// NewOrderNo returns a fresh order number: the terminal id (4 digits), the
// platform-local time to the second (14) and a sequence persisted in the
// store (6 digits), 24 bytes in all. The sequence makes numbers unique on
// this terminal even when the clock stands still or goes back; the termid
// makes them unique across terminals; the time makes them unique across a
// lost and recreated store.
func (s *Service) NewOrderNo(ctx context.Context) (string, error) {
	seq, err := s.orders.NextSequence(ctx)
	if err != nil {
		return "", fmt.Errorf("order number sequence: %w", err)
	}
	var term int
	if _, err := fmt.Sscanf(s.term.TermID, "%d", &term); err != nil {
		return "", fmt.Errorf("termid %q is not a number", s.term.TermID)
	}
	return fmt.Sprintf("%04d%s%06d", term, s.clock.Now().In(s.loc).Format("20060102150405"), seq%1_000_000), nil
}

// QueryCard looks up an identity's cards.
func (s *Service) QueryCard(ctx context.Context, q onecard.CardQuery) ([]onecard.Card, error) {
	return s.platform.QueryCard(ctx, q)
}

// PayInput is what a payment needs beyond the terminal's own identity.
type PayInput struct {
	Account string
	// AccType defaults to the terminal's.
	AccType string
	Amount  money.Fen
	// OrderNo defaults to NewOrderNo.
	OrderNo string
	Remark  string
	Attach  string
}

// Pay charges a payment. The returned order is what the store holds: on
// success StatePaid with OutID; on a certain refusal StateDeclined and an
// error for which onecard.Declined is true; otherwise StateUnknown and an
// error for which onecard.OutcomeUnknown is true: the customer may have been
// charged, and only pay.query can tell.
func (s *Service) Pay(ctx context.Context, in PayInput) (Order, error) {
	req := onecard.PayRequest{
		OrderNo: in.OrderNo, Account: in.Account, AccType: in.AccType, MercAcc: s.term.MercAcc,
		Amount: in.Amount, Remark: in.Remark, Attach: in.Attach, TermID: s.term.TermID,
	}
	if req.AccType == "" {
		req.AccType = s.term.AccType
	}
	if req.OrderNo == "" {
		no, err := s.NewOrderNo(ctx)
		if err != nil {
			return Order{}, err
		}
		req.OrderNo = no
	}
	if err := req.Validate(); err != nil {
		return Order{}, err
	}
	o := Order{
		OrderNo: req.OrderNo, Kind: KindPay, Account: req.Account, AccType: req.AccType,
		MercAcc: req.MercAcc, TermID: req.TermID, Amount: req.Amount, State: StateSending,
	}
	if err := s.create(ctx, &o); err != nil {
		return Order{}, err
	}
	res, err := s.platform.Pay(ctx, req)
	return s.settle(ctx, o.OrderNo, res.OutID, err)
}

// Refund refunds amount of an earlier payment made by this terminal. The
// account and acctype come from the local record of the original: a refund
// is never sent for an order this terminal does not know.
func (s *Service) Refund(ctx context.Context, originalNo string, amount money.Fen, refundNo string) (Order, error) {
	orig, err := s.orders.Order(ctx, originalNo)
	if err != nil {
		return Order{}, fmt.Errorf("original order %s: %w", originalNo, err)
	}
	if orig.Kind != KindPay {
		return Order{}, &onecard.RequestError{Method: onecard.MethodRefund, Field: "refund_order_no", Reason: fmt.Sprintf("order %s is a %s, not a payment", originalNo, orig.Kind)}
	}
	if orig.State != StatePaid {
		return Order{}, &onecard.RequestError{Method: onecard.MethodRefund, Field: "refund_order_no", Reason: fmt.Sprintf("order %s is %s here, not paid: query it first", originalNo, orig.State)}
	}
	if amount > orig.Amount {
		return Order{}, &onecard.RequestError{Method: onecard.MethodRefund, Field: "tranamt", Reason: fmt.Sprintf("%s is more than the original %s", amount.Yuan(), orig.Amount.Yuan())}
	}
	if refundNo == "" {
		if refundNo, err = s.NewOrderNo(ctx); err != nil {
			return Order{}, err
		}
	}
	req := onecard.RefundRequest{
		OrderNo: refundNo, RefundOrderNo: orig.OrderNo, Account: orig.Account, AccType: orig.AccType,
		MercAcc: s.term.MercAcc, Amount: amount, TermID: s.term.TermID,
	}
	if err := req.Validate(); err != nil {
		return Order{}, err
	}
	o := Order{
		OrderNo: req.OrderNo, Kind: KindRefund, RefundOf: orig.OrderNo, Account: req.Account,
		AccType: req.AccType, MercAcc: req.MercAcc, TermID: req.TermID, Amount: amount, State: StateSending,
	}
	if err := s.create(ctx, &o); err != nil {
		return Order{}, err
	}
	res, err := s.platform.Refund(ctx, req)
	return s.settle(ctx, o.OrderNo, res.OutID, err)
}

func (s *Service) create(ctx context.Context, o *Order) error {
	now := s.clock.Now()
	o.Created, o.Updated = now, now
	if err := s.orders.CreateOrder(ctx, *o); err != nil {
		return fmt.Errorf("recording order %s before sending it: %w", o.OrderNo, err)
	}
	return nil
}

// settle records the outcome of a pay or refund call before it is reported.
func (s *Service) settle(ctx context.Context, orderNo, outID string, callErr error) (Order, error) {
	o, err := s.orders.UpdateOrder(ctx, orderNo, func(o *Order) error {
		o.Updated = s.clock.Now()
		switch {
		case callErr == nil:
			o.State, o.OutID, o.Code, o.Message = StatePaid, outID, "", ""
		case onecard.Declined(callErr):
			o.State = StateDeclined
			o.Code, o.Message = onecard.ErrorCode(callErr), callErr.Error()
		default:
			o.State = StateUnknown
			o.Code, o.Message = onecard.ErrorCode(callErr), callErr.Error()
		}
		return nil
	})
	if err != nil {
		// The order stays "sending" in the store: after a restart it is
		// confirmed through pay.query like any interrupted order.
		return Order{}, errors.Join(fmt.Errorf("recording the outcome of order %s: %w", orderNo, err), callErr)
	}
	return o, callErr
}

// QueryResult is the answer for one order number asked about.
type QueryResult struct {
	OrderNo string
	// Local is the terminal's record before the query; nil when the
	// terminal does not know the order.
	Local *Order
	// Status is the platform's answer; nil when the order was not sent
	// because the terminal knows no account for it.
	Status *onecard.PayStatus
}

// Query asks the platform about orders. Account and acctype come from the
// local record; for an order the terminal does not know, account (with
// acctype, default the terminal's) must be given, otherwise the order is
// reported as unknown locally and not sent: the platform is never asked
// with an empty account. Orders the terminal left in sending or unknown are
// settled from a definite answer (60 paid, 77 declined).
func (s *Service) Query(ctx context.Context, orderNos []string, account, accType string) ([]QueryResult, error) {
	if accType == "" {
		accType = s.term.AccType
	}
	results := make([]QueryResult, len(orderNos))
	var batch []onecard.PayQuery
	var at []int
	for i, no := range orderNos {
		results[i].OrderNo = no
		o, err := s.orders.Order(ctx, no)
		switch {
		case err == nil:
			results[i].Local = &o
			batch = append(batch, onecard.PayQuery{Account: o.Account, AccType: o.AccType, OrderNo: no})
			at = append(at, i)
		case errors.Is(err, ErrOrderNotFound) && account != "":
			batch = append(batch, onecard.PayQuery{Account: account, AccType: accType, OrderNo: no})
			at = append(at, i)
		case errors.Is(err, ErrOrderNotFound):
		default:
			return nil, err
		}
	}
	for start := 0; start < len(batch); start += onecard.MaxPayQueries {
		end := min(start+onecard.MaxPayQueries, len(batch))
		sts, err := s.platform.QueryPayments(ctx, batch[start:end])
		if err != nil {
			return results, err
		}
		for j, st := range sts {
			r := &results[at[start+j]]
			r.Status = &st
			if r.Local != nil {
				if err := s.applyStatus(ctx, r.Local, st); err != nil {
					return results, err
				}
			}
		}
	}
	return results, nil
}

// applyStatus settles an order left in sending or unknown from a definite
// platform answer. Everything else is left to the reconciler.
func (s *Service) applyStatus(ctx context.Context, local *Order, st onecard.PayStatus) error {
	if local.State != StateSending && local.State != StateUnknown {
		return nil
	}
	var next OrderState
	switch st.Status {
	case onecard.StatusPaid:
		next = StatePaid
	case onecard.StatusFailed:
		next = StateDeclined
	default:
		return nil
	}
	_, err := s.orders.UpdateOrder(ctx, local.OrderNo, func(o *Order) error {
		if o.State != StateSending && o.State != StateUnknown {
			return nil
		}
		o.State, o.Updated = next, s.clock.Now()
		if st.OutID != "" {
			o.OutID = st.OutID
		}
		o.Code, o.Message = st.Retcode, "settled by pay.query: "+st.Status.String()
		return nil
	})
	return err
}

// Bill downloads one day's bill.
func (s *Service) Bill(ctx context.Context, r onecard.BillRequest) (*onecard.Bill, []byte, error) {
	return s.platform.DownloadBill(ctx, r)
}
