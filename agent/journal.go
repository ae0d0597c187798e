package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// OrderKind tells a payment from a refund.
type OrderKind string

// Order kinds.
const (
	KindPay    OrderKind = "pay"
	KindRefund OrderKind = "refund"
)

// OrderState is what the terminal knows of an order and, for a payment,
// what the customer was told. The journal records the state before the
// customer is told, so that after a crash the state alone says what a
// restart must do. These names are what `kioskctl queue` shows.
type OrderState string

// Order states.
const (
	// StateSending: journalled, about to go or in flight; the customer has
	// been told nothing. After a crash such an order is an orphan.
	StateSending OrderState = "sending"
	// StatePaid: the platform confirmed it (for a refund order: the refund
	// went through). Customer told "paid".
	StatePaid OrderState = "paid"
	// StateDeclined: refused by the platform (Code has the retcode), or it
	// never reached the platform and could not be accepted offline.
	// Customer told "declined" (with the reason).
	StateDeclined OrderState = "declined"
	// StateUnknown: sent, no trustworthy answer. Customer told "outcome
	// unknown, will be confirmed": it must end up charged exactly once.
	StateUnknown OrderState = "unknown"
	// StateOfflineAccepted: accepted while the platform was unreachable,
	// within the offline limits. Customer told "recorded": it must end up
	// charged exactly once.
	StateOfflineAccepted OrderState = "offline_accepted"
	// StateVoided: never reached the platform and never confirmed to the
	// customer: it must not be charged, and is never resent.
	StateVoided OrderState = "voided"
	// StateOrphanCharged: charged although the customer was never told; a
	// refund (RefundOrderNo) is on its way.
	StateOrphanCharged OrderState = "orphan_charged"
	// StateOrphanRefunded: charged without the customer being told, then
	// refunded in full.
	StateOrphanRefunded OrderState = "orphan_refunded"
	// StateRefunded and StatePartiallyRefunded: a paid order refunded in
	// full or in part.
	StateRefunded          OrderState = "refunded"
	StatePartiallyRefunded OrderState = "partially_refunded"
	// StateFailedAfterOffline: accepted offline (or left unknown), then
	// declined by the platform: the goods went out unpaid. Reported.
	StateFailedAfterOffline OrderState = "failed_after_offline"
	// StateNeedsReview: a person must look (gave up, or config asks for
	// review instead of automatic orphan refunds). Never deleted.
	StateNeedsReview OrderState = "needs_review"
)

// States lists every state, in the order `kioskctl queue` explains them.
func States() []OrderState {
	return []OrderState{
		StateSending, StatePaid, StateDeclined, StateUnknown, StateOfflineAccepted, StateVoided,
		StateOrphanCharged, StateOrphanRefunded, StateRefunded, StatePartiallyRefunded,
		StateFailedAfterOffline, StateNeedsReview,
	}
}

// legalNext is the one table of allowed state changes. The store refuses
// any other through CheckTransition, whichever code asks for it.
func legalNext(from OrderState) []OrderState {
	switch from {
	case StateSending:
		return []OrderState{StatePaid, StateDeclined, StateUnknown, StateOfflineAccepted, StateVoided,
			StateOrphanCharged, StateOrphanRefunded, StateNeedsReview}
	case StateUnknown:
		return []OrderState{StatePaid, StateDeclined, StateFailedAfterOffline, StateRefunded,
			StatePartiallyRefunded, StateNeedsReview}
	case StateOfflineAccepted:
		return []OrderState{StatePaid, StateFailedAfterOffline, StateRefunded, StatePartiallyRefunded, StateNeedsReview}
	case StateOrphanCharged:
		return []OrderState{StateOrphanRefunded, StateNeedsReview}
	case StatePaid, StatePartiallyRefunded:
		// needs_review: the platform has no record of a payment the
		// journal has as charged (settlement).
		return []OrderState{StatePartiallyRefunded, StateRefunded, StateNeedsReview}
	case StateRefunded:
		return []OrderState{StateNeedsReview}
	case StateVoided, StateDeclined:
		// A charge found later (bill reconciliation) for an order the
		// customer was told nothing or "declined" about: refund it.
		return []OrderState{StateOrphanCharged, StateNeedsReview}
	case StateFailedAfterOffline:
		// The platform processed a copy of the request after all (late):
		// the customer was told it would be charged, and it was.
		return []OrderState{StatePaid, StateNeedsReview}
	case StateNeedsReview:
		// A person resolves a review with what the platform says; a payment
		// the customer was told about and the platform never got goes back
		// to offline_accepted, to be forwarded.
		return []OrderState{StatePaid, StateDeclined, StateVoided, StateRefunded, StatePartiallyRefunded,
			StateOrphanCharged, StateOrphanRefunded, StateFailedAfterOffline, StateOfflineAccepted}
	}
	return nil
}

// CanReview reports whether an order in state s may be handed to a person
// (needs_review).
func CanReview(s OrderState) bool { return CheckTransition(s, StateNeedsReview) == nil }

// ErrIllegalTransition is wrapped by CheckTransition's refusals.
var ErrIllegalTransition = errors.New("illegal order state change")

// CheckTransition says whether an order may go from one state to another.
// Staying in the same state is always allowed (an attempt counted, an error
// noted).
func CheckTransition(from, to OrderState) error {
	if from == to {
		return nil
	}
	for _, s := range legalNext(from) {
		if s == to {
			return nil
		}
	}
	return fmt.Errorf("%w: %s → %s", ErrIllegalTransition, from, to)
}

// Unfinished reports whether the reconciler still has work on an order in
// this state. The journal keeps these in an index so that finding work
// costs O(unfinished), not O(all orders).
func (s OrderState) Unfinished() bool {
	switch s {
	case StateSending, StateUnknown, StateOfflineAccepted, StateOrphanCharged:
		return true
	}
	return false
}

// Transition is one entry of an order's history.
type Transition struct {
	At   time.Time
	From OrderState
	To   OrderState
	Note string
}

// Order is the journal's record of one payment or refund.
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
	// Code and Message keep the platform's last errcode/retcode and text,
	// or the local reason (offline refusal).
	Code    string
	Message string
	// Attempts counts pay/refund sends and pay.query looks.
	Attempts int
	// LastError is the last failure's text, for technicians.
	LastError string
	// LastSent is when the pay or refund request last left the process; a
	// query waits at least the request timeout after it.
	LastSent time.Time
	// NextAttempt is when the reconciler should look at the order again;
	// zero means at once (Due returns it immediately).
	NextAttempt time.Time
	// Refunded is the sum of confirmed refunds of a payment. It changes in
	// the transaction that confirms the refund.
	Refunded money.Fen
	// PendingRefunds lists a payment's refund orders that are neither
	// confirmed nor declined (sending, unknown, needs_review): the money
	// may have gone back already, so no further refund of the payment is
	// started while the list is not empty. Kept in the transactions that
	// create and settle the refunds.
	PendingRefunds []string
	// RefundsStarted counts a payment's refund orders; the next refund's
	// number is derived from it (RefundNo), so that a journal that forgot
	// a refund (restored from a backup) reuses its number and the platform
	// refuses it as a duplicate instead of paying out twice.
	RefundsStarted int
	// RefundOrderNo is the refund order reversing an orphan charge.
	RefundOrderNo string
	// PlatformHas is set when the platform answered a resend with
	// "duplicate order number": it holds an order of this number, whatever
	// pay.query says, so the order is never declined or voided on a "no
	// such order" answer.
	PlatformHas bool
	// OnlineAge is how long the order has been unfinished while the
	// platform was answering: the give-up clock. Time offline, time the
	// terminal was off and jumps of the wall clock do not count.
	OnlineAge time.Duration
	// LastAnswer is when the platform last answered about the order (the
	// start of the next OnlineAge increment); zero before the first.
	LastAnswer time.Time
	// Outcome is what the customer was told of a payment, journalled in
	// the write that decided it, before it was shown (see Outcome).
	Outcome Outcome
	// Day is the platform day the order was created on (yyyyMMdd, in the
	// platform's zone), set by the Service: the journal counts the per-card
	// daily offline limit by it and keeps no time zone of its own. Orders
	// journalled before it existed have none.
	Day string
	// History lists every state change, oldest first.
	History []Transition
}

// To moves o to state to at time at, after checking the change is legal,
// and records it in the history. The store checks again on save.
func (o *Order) To(to OrderState, at time.Time, note string) error {
	if err := CheckTransition(o.State, to); err != nil {
		return fmt.Errorf("order %s: %w", o.OrderNo, err)
	}
	if o.State != to {
		o.History = append(o.History, Transition{At: at, From: o.State, To: to, Note: note})
		if !o.State.Unfinished() && to.Unfinished() {
			// Work begins again (a review resolved, a charge found on the
			// bill): the give-up clock starts afresh.
			o.OnlineAge, o.LastAnswer = 0, time.Time{}
		}
	}
	o.State, o.Updated = to, at
	return nil
}

// ErrOrderNotFound is returned by the journal when no order has the number.
var ErrOrderNotFound = errors.New("order not known to this terminal")

// ErrOrderExists is returned by Journal.CreateOrder for a reused number.
var ErrOrderExists = errors.New("order number already used on this terminal")

// OrderFilter selects orders for listing, newest first.
type OrderFilter struct {
	// State, when set, keeps only orders in that state.
	State OrderState
	// From and To, when set, bound Created (From inclusive, To exclusive).
	From, To time.Time
	// Limit caps the result; <= 0 means no limit.
	Limit int
}

// OfflineExposure is what the terminal has accepted offline and not yet
// settled: the figures its offline limits are checked against.
type OfflineExposure struct {
	Count  int
	Amount money.Fen
	// CardDay is what the given account has been accepted offline for on
	// the given day (platform-local), settled or not.
	CardDay money.Fen
}

// CachedCard is what the terminal remembers of a card it saw online, for
// deciding on offline payments. It holds no full card number.
type CachedCard struct {
	Account    string
	AccType    string
	MaskedName string
	Lost       bool
	Frozen     bool
	Balance    money.Fen
	SeenAt     time.Time
}

// Journal is the terminal's durable record: every order before its request
// leaves, every outcome before it is shown, the card cache and the bill
// reconciliation reports. Every write is committed (fsync'd) before it
// returns.
type Journal interface {
	// CreateOrder records a new order; ErrOrderExists if the number was
	// used before.
	CreateOrder(ctx context.Context, o Order) error
	// UpdateOrder applies fn to the stored order and saves the result,
	// refusing an illegal state change (CheckTransition) and keeping the
	// unfinished index in step. fn's error aborts the update.
	UpdateOrder(ctx context.Context, orderNo string, fn func(*Order) error) (Order, error)
	// Order returns the stored order or ErrOrderNotFound.
	Order(ctx context.Context, orderNo string) (Order, error)
	// Orders lists orders newest first.
	Orders(ctx context.Context, f OrderFilter) ([]Order, error)
	// Due returns up to limit unfinished orders whose NextAttempt is not
	// after now, earliest first, reading only the unfinished index.
	Due(ctx context.Context, now time.Time, limit int) ([]Order, error)
	// UnfinishedCount counts the unfinished orders.
	UnfinishedCount(ctx context.Context) (int, error)
	// StateCounts returns how many orders are in each state (states
	// without orders are absent), from counts the store keeps in step
	// with every write: O(states), not a walk of the orders.
	StateCounts(ctx context.Context) (map[OrderState]int, error)
	// OfflineExposure sums the offline_accepted payments (refund orders
	// are not exposure), and what account was accepted offline for on day
	// (yyyyMMdd, platform-local: the day of the order's Created).
	OfflineExposure(ctx context.Context, account, day string) (OfflineExposure, error)
	// NextOrderStamp returns the time and sequence of a new order number:
	// At is now to the second, or the latest second an earlier number used
	// when the clock went back. Seq is never returned twice, not even by a
	// journal restored from a copy older than numbers this terminal already
	// used. Together they never repeat, so an order number is never reused.
	NextOrderStamp(ctx context.Context, now time.Time) (OrderStamp, error)

	// Update runs fn in one transaction: every order it creates or
	// updates is committed together (fsync'd) when fn returns nil, and
	// nothing of it when fn fails. The rules of CreateOrder and UpdateOrder
	// hold for each write.
	Update(ctx context.Context, fn func(tx JournalTx) error) error

	// SaveCard caches a card seen online under the identities it can be
	// looked up by (the journal stores only a hash of each id), in one
	// commit.
	SaveCard(ctx context.Context, c CachedCard, ids ...Identity) error
	// Card returns the cached card for an identity; ok false if none.
	Card(ctx context.Context, idType, id string) (c CachedCard, ok bool, err error)

	// SaveBillReport keeps a bill reconciliation report, replacing the
	// one of the same date.
	SaveBillReport(ctx context.Context, r BillReport) error
	// BillReport returns the saved report of a date; ok false if none.
	BillReport(ctx context.Context, date string) (r BillReport, ok bool, err error)

	// The cards' wrong-password counts (VerifyCardPassword).
	CardPasswordStore
}

// JournalTx is the part of the journal a transaction (Journal.Update) can
// use. Its methods must not be used after fn returns.
type JournalTx interface {
	// Order returns the order as this transaction sees it, or
	// ErrOrderNotFound.
	Order(orderNo string) (Order, error)
	// CreateOrder is Journal.CreateOrder inside the transaction.
	CreateOrder(o Order) error
	// UpdateOrder is Journal.UpdateOrder inside the transaction.
	UpdateOrder(orderNo string, fn func(*Order) error) (Order, error)
}

// OrderStamp is what makes an order number unique (Journal.NextOrderStamp).
type OrderStamp struct {
	At  time.Time
	Seq uint64
}

// BillMatch classifies one order of a bill reconciliation.
type BillMatch string

// Bill reconciliation classes.
const (
	BillMatched        BillMatch = "matched"
	BillPlatformOnly   BillMatch = "platform_only"
	BillJournalOnly    BillMatch = "journal_only"
	BillAmountMismatch BillMatch = "amount_mismatch"
	BillStatusMismatch BillMatch = "status_mismatch"
)

// BillLine is one order's verdict in a bill reconciliation.
type BillLine struct {
	OrderNo string
	Match   BillMatch
	// Account and BillTime are the bill row's (a platform-only charge is
	// known by them alone); empty for journal-only lines.
	Account  string
	BillTime time.Time
	// Journal is the journal's view (state, amount); empty for
	// platform-only lines.
	JournalState  OrderState
	JournalAmount money.Fen
	// Bill is the bill's view (type, status, amount); empty for
	// journal-only lines.
	BillType   string
	BillStatus string
	BillAmount money.Fen
	OutID      string
	Note       string
}

// SettlementState is where the settlement of one platform day stands.
type SettlementState string

// Settlement states.
const (
	// SettlementDone: the day's bill was reconciled and acted on.
	SettlementDone SettlementState = "done"
	// SettlementPending: the day is due (or will be) and not settled yet.
	SettlementPending SettlementState = "pending"
	// SettlementFailed: the last attempt failed (Reason); it is retried.
	SettlementFailed SettlementState = "failed"
)

// BillReport is the result of comparing one day's bill with the journal:
// the day's settlement.
type BillReport struct {
	Date    string // yyyyMMdd
	Created time.Time
	// State is done for a reconciled bill, failed (with Reason) when the
	// last attempt could not get or act on it. Reports saved before
	// settlement existed read as done.
	State  SettlementState
	Reason string
	// Attempts counts the attempts at this day so far.
	Attempts int
	// JournalNet is what the journal says the terminal took that day:
	// payments created that day and charged, less refunds created that day
	// and paid out. BillNet is the bill's: successful payment rows less
	// successful refund rows of this terminal.
	JournalNet money.Fen
	BillNet    money.Fen
	// Counts per class.
	Counts map[BillMatch]int
	// Lines holds every order that is not BillMatched (matched ones are
	// only counted: the report stays small on a busy day).
	Lines []BillLine
	// BillCount and BillTotal are the bill's own trailer figures.
	BillCount int
	BillTotal money.Fen
}
