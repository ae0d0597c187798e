package sim

import (
	"maps"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// TxKind says whether a transaction is a payment or a refund.
type TxKind string

// Transaction kinds.
const (
	KindPay    TxKind = "pay"
	KindRefund TxKind = "refund"
)

// Transaction is one order the platform processed: a payment or a refund,
// successful or declined.
type Transaction struct {
	Kind    TxKind `json:"kind"`
	OrderNo string `json:"order_no"`
	Account string `json:"account"`
	AccType string `json:"acctype"`
	MercAcc string `json:"mercacc"`
	// Amount is what the request asked for, in fen.
	Amount money.Fen `json:"amount_fen"`
	// Status is 60 when the order succeeded, 77 when it was declined, and
	// 80 for a payment refunded in full.
	Status onecard.OrderStatus `json:"status"`
	// Retcode is why a declined order was declined; "0" otherwise.
	Retcode string `json:"retcode"`
	OutID   string `json:"out_id"`
	// Time is when the platform processed the order, on its clock.
	Time time.Time `json:"time"`
	// Refunded is the sum of a payment's successful refunds.
	Refunded money.Fen `json:"refunded_fen,omitempty"`
	// RefundOf is a refund's original order_no.
	RefundOf string `json:"refund_of,omitempty"`
	Remark   string `json:"remark,omitempty"`
	Attach   string `json:"attach,omitempty"`
	TermID   string `json:"termid,omitempty"`
}

// describe is pay.query's order_desc for the order.
func (t *Transaction) describe() string {
	switch {
	case t.Status == onecard.StatusFailed:
		return "交易失败 (declined): " + errmsgs[t.Retcode]
	case t.Kind == KindRefund:
		return "退款成功 (refund of " + t.RefundOf + ")"
	case t.Refunded > t.Amount:
		return "超额退款 (refunded beyond the payment: " + t.Refunded.Yuan() + ")"
	case t.Status == onecard.StatusRefunded:
		return "已全额退款 (refunded in full)"
	case t.Refunded > 0:
		return "支付成功，部分退款 (paid, partly refunded " + t.Refunded.Yuan() + ")"
	}
	return "支付成功 (paid)"
}

// reply is the answer to the request that recorded t, and to a replay of
// it: the decline, or the success fields with t's out_id.
func (t *Transaction) reply() result {
	if t.Status == onecard.StatusFailed {
		return declined(t.Retcode)
	}
	fields := map[string]any{
		"account": t.Account, "tranamt": t.Amount.Yuan(), "acctype": t.AccType, "mercacc": t.MercAcc,
		"order_no": t.OrderNo, "out_id": t.OutID,
	}
	if t.Kind == KindRefund {
		fields["refund_order_no"] = t.RefundOf
	}
	return ok(fields)
}

// sameRequest reports whether req, a pay or refund that reuses t's
// order_no, asks for what t recorded: same kind, account, acctype,
// mercacc, amount and original order.
func (t *Transaction) sameRequest(req *Transaction) bool {
	return t.Kind == req.Kind && t.Account == req.Account && t.AccType == req.AccType &&
		t.MercAcc == req.MercAcc && t.Amount == req.Amount && t.RefundOf == req.RefundOf
}

// Stats counts what the simulator saw.
type Stats struct {
	// Requests counts API requests by method, refused ones included; those
	// naming no known method count under "other".
	Requests map[string]int `json:"requests"`
	// SystemErrors counts system-layer refusals by errcode.
	SystemErrors map[string]int `json:"system_errors"`
	// BusinessErrors counts business refusals by retcode.
	BusinessErrors map[string]int `json:"business_errors"`
	// TokenCalls counts token calls that reached the business layer;
	// TokensIssued those that got a token.
	TokenCalls   int `json:"token_calls"`
	TokensIssued int `json:"tokens_issued"`
	// PasswordChecks counts query.card requests whose pwd was compared with
	// a card's password (a pwd given, and a matching card that has one);
	// PasswordFailures those answered as a wrong password
	// (Options.WrongPasswordRetcode). The password itself is never kept.
	PasswordChecks   int `json:"password_checks"`
	PasswordFailures int `json:"password_failures"`
	// Charges and Refunds count successful payments and refunds.
	Charges int `json:"charges"`
	Refunds int `json:"refunds"`
	// OverRefunds counts refunds accepted beyond what was left of their
	// payment (Options.RefundsUncapped).
	OverRefunds int `json:"over_refunds"`
	// Replays counts reused order_nos answered with their recorded outcome
	// (DuplicateReplay).
	Replays int `json:"replays"`
	// Held counts requests held for late processing (FaultLate,
	// Options.Hold); ProcessedLate those processed since, HeldDropped
	// those Close dropped unprocessed.
	Held          int `json:"held"`
	ProcessedLate int `json:"processed_late"`
	HeldDropped   int `json:"held_dropped"`
	// FaultsFired counts injected faults that took effect, by kind.
	FaultsFired map[FaultKind]int `json:"faults_fired"`
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = maps.Clone(st.Requests)
	st.SystemErrors = maps.Clone(st.SystemErrors)
	st.BusinessErrors = maps.Clone(st.BusinessErrors)
	st.FaultsFired = maps.Clone(st.FaultsFired)
	return st
}

// Balance returns an account's db_balance; ok is false for an unknown
// account.
func (s *Server) Balance(account string) (balance money.Fen, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cards[account]
	if c == nil {
		return 0, false
	}
	return c.Balance, true
}

// Order returns the transaction recorded under an order_no (a payment's or
// a refund's own).
func (s *Server) Order(orderNo string) (Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.orders[orderNo]
	if tx == nil {
		return Transaction{}, false
	}
	return *tx, true
}

// Transactions returns every recorded transaction in processing order.
func (s *Server) Transactions() []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Transaction, len(s.txs))
	for i, tx := range s.txs {
		out[i] = *tx
	}
	return out
}

// Cards returns the cards with their current balances and flags, in
// seeding order.
func (s *Server) Cards() []Card {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Card, len(s.order))
	for i, acc := range s.order {
		out[i] = *s.cards[acc]
	}
	return out
}
