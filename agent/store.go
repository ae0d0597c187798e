package agent

import (
	"context"
	"errors"
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// Clock is the agent's only source of the current time, so that tests and the
// simulator can move it.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the machine's clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Token is the platform access token as the agent keeps it between runs.
type Token struct {
	// Value is the secret token text. Never log or print it.
	Value string
	// Expires is when the platform stops accepting Value.
	Expires time.Time
	// LastCall is when the token method was last called by anyone sharing
	// this store, successful or not: the platform allows one call per two
	// minutes and a call may have succeeded even when its reply was lost.
	LastCall time.Time
}

// TokenStore persists the access token so that every process sharing an
// app_key (kiosk restarts, one kioskctl run after another) reuses one token
// instead of voiding it with a new one.
type TokenStore interface {
	// LoadToken returns the stored token; ok is false when none was stored.
	LoadToken(ctx context.Context) (tok Token, ok bool, err error)
	// SaveToken replaces the stored token.
	SaveToken(ctx context.Context, tok Token) error
}

// OrderKind tells a payment from a refund.
type OrderKind string

// Order kinds.
const (
	KindPay    OrderKind = "pay"
	KindRefund OrderKind = "refund"
)

// OrderState is what the terminal knows of an order's outcome. The offline
// journal grows this set; these are the states of a plain online call.
type OrderState string

// Order states of the online call.
const (
	// StateSending: written before the request leaves the process; the
	// customer has been told nothing yet.
	StateSending OrderState = "sending"
	// StatePaid: the platform confirmed the charge (or the refund).
	StatePaid OrderState = "paid"
	// StateDeclined: the platform refused it with a business retcode or a
	// system errcode that means it was not processed.
	StateDeclined OrderState = "declined"
	// StateUnknown: sent, no trustworthy answer; must be confirmed through
	// pay.query before anything else is done with it.
	StateUnknown OrderState = "unknown"
	// StateRefunded: the platform reports the payment as refunded.
	StateRefunded OrderState = "refunded"
	// StateNotFound: the platform has no such order (pay.query 78).
	StateNotFound OrderState = "not_found"
)

// Order is the local record of one pay or refund call, written before the
// request leaves the process.
type Order struct {
	OrderNo string
	Kind    OrderKind
	// RefundOf is the original payment's order_no, for a refund.
	RefundOf string
	Account  string
	AccType  string
	MercAcc  string
	TermID   string
	Amount   money.Fen
	Created  time.Time
	Updated  time.Time
	State    OrderState
	// OutID is the platform's transaction number, once known.
	OutID string
	// Code and Message keep the platform's last errcode/retcode and text.
	Code    string
	Message string
}

// ErrOrderNotFound is returned by OrderStore when no order has the number.
var ErrOrderNotFound = errors.New("order not known to this terminal")

// ErrOrderExists is returned by OrderStore.CreateOrder for a reused number.
var ErrOrderExists = errors.New("order number already used on this terminal")

// OrderStore keeps the record of every order this terminal sent.
type OrderStore interface {
	// CreateOrder durably records a new order (fsync'd before it returns)
	// and fails with ErrOrderExists if the number was used before.
	CreateOrder(ctx context.Context, o Order) error
	// UpdateOrder applies fn to the stored order and durably saves the
	// result; fn's error aborts the update. ErrOrderNotFound if unknown.
	UpdateOrder(ctx context.Context, orderNo string, fn func(*Order) error) (Order, error)
	// Order returns the stored order or ErrOrderNotFound.
	Order(ctx context.Context, orderNo string) (Order, error)
	// NextSequence returns a number never returned before by this store,
	// durably, for building order numbers.
	NextSequence(ctx context.Context) (uint64, error)
}
