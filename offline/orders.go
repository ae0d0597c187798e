package offline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	bolt "go.etcd.io/bbolt"
)

// journal holds the buckets an order write touches, inside one transaction.
type journal struct {
	orders, byCreated, unfinished, offlineDay, counts *bolt.Bucket
}

func (s *Store) journal(tx *bolt.Tx) journal {
	return journal{
		orders:     tx.Bucket([]byte(bucketOrders)),
		byCreated:  tx.Bucket([]byte(bucketOrdersByCreated)),
		unfinished: tx.Bucket([]byte(bucketUnfinished)),
		offlineDay: tx.Bucket([]byte(bucketOfflineDay)),
		counts:     tx.Bucket([]byte(bucketStateCounts)),
	}
}

// create writes a new order (raw is its encoded record), its index entries
// and its state's count.
func (j journal) create(o agent.Order, raw []byte) error {
	if j.orders.Get([]byte(o.OrderNo)) != nil {
		return agent.ErrOrderExists
	}
	if err := j.orders.Put([]byte(o.OrderNo), raw); err != nil {
		return err
	}
	if err := j.byCreated.Put(createdKey(o.Created, o.OrderNo), nil); err != nil {
		return err
	}
	if err := j.addCount(o.State, 1); err != nil {
		return err
	}
	if o.State.Unfinished() {
		if err := j.unfinished.Put(unfinishedKey(o.NextAttempt, o.OrderNo), nil); err != nil {
			return err
		}
	}
	if o.State == agent.StateOfflineAccepted {
		return j.addOfflineDay(o)
	}
	return nil
}

// addOfflineDay adds a payment accepted offline to its account's figure for
// the platform day it was made on (o.Day, which the caller sets: the store
// keeps no time zone). The figure is never reduced: the offline limit is on
// what was accepted offline that day, settled or not. Only payments count;
// a refund adds nothing to what a card may spend.
func (j journal) addOfflineDay(o agent.Order) error {
	if o.Kind != agent.KindPay {
		return nil
	}
	if o.Day == "" {
		return errors.New("a payment accepted offline with no platform day (Order.Day) to count it on")
	}
	key := offlineDayKey(o.Day, o.Account)
	sum, err := fenValue(j.offlineDay.Get(key))
	if err != nil {
		return fmt.Errorf("%s entry of day %s, account %q: %w", bucketOfflineDay, key[:8], o.Account, err)
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(sum+o.Amount))
	return j.offlineDay.Put(key, v[:])
}

// fenValue decodes an offline_day value; nil is zero.
func fenValue(v []byte) (money.Fen, error) {
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return money.Fen(int64(binary.BigEndian.Uint64(v))), nil
	}
	return 0, fmt.Errorf("%w: amount of %d bytes", ErrBadRecord, len(v))
}

// CreateOrder durably records a new order with its index entries; it fails
// with agent.ErrOrderExists (wrapped) if this store has seen the number
// before. The order must have an order number, a known kind and state, and a
// creation time; an Outcome only if it is a payment, and then a known one;
// a Day, if any, that is yyyyMMdd, and one if it is a payment accepted
// offline (offline_accepted), which counts on that day. An unfinished order
// is due for the reconciler at its NextAttempt, at once when that is zero:
// set NextAttempt when creating a sending order, or Due will hand it out
// while its request is in flight.
func (s *Store) CreateOrder(ctx context.Context, o agent.Order) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		return orderTx{s.journal(tx)}.CreateOrder(o)
	})
}

// fnError carries a callback's error through bbolt unchanged.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// fnPanic carries a panic of a callback out of the transaction, so that it
// is raised again as the caller's bug, not reported as damage.
type fnPanic struct{ value any }

func (fnPanic) Error() string { return "update callback panicked" }

// call runs fn, turning a panic into fnPanic and an error into fnError.
func call(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fnPanic{r}
		}
	}()
	if err := fn(); err != nil {
		if _, ok := err.(fnPanic); ok {
			return err
		}
		return fnError{err}
	}
	return nil
}

// callerError returns what a transaction that ran a callback ends with:
// the callback's panic raised again, its error as it is, and the store's
// own errors wrapped with what.
func callerError(err error, what string) error {
	if p, ok := errors.AsType[fnPanic](err); ok {
		panic(p.value)
	}
	if fe, ok := errors.AsType[fnError](err); ok {
		return fe.err
	}
	if err != nil {
		return fmt.Errorf("offline: %s: %w", what, err)
	}
	return nil
}

// UpdateOrder applies fn to a copy of the stored order and durably saves the
// result, with its index entries, in the same transaction. An error from fn
// aborts the update and is returned as it is. The store refuses, changing
// nothing:
//   - a state change agent.CheckTransition does not allow (the error wraps
//     agent.ErrIllegalTransition);
//   - a change of the order's identity: order_no, kind, refund_of, account,
//     amount, created;
//   - a change of an orphan's refund number once set, a refunded amount or
//     refund count going down, or PlatformHas unset again;
//   - a change of the Outcome or the Day once set (what a customer was told
//     never changes; setting either from empty is allowed);
//   - a payment entering offline_accepted without a Day;
//   - a history that is not the stored one with entries appended;
//   - an order that does not validate (see CreateOrder).
//
// agent.ErrOrderNotFound (wrapped) if the number is unknown. The order
// returned is what was stored, exactly as Order would return it.
func (s *Store) UpdateOrder(ctx context.Context, orderNo string, fn func(*agent.Order) error) (agent.Order, error) {
	if err := ctx.Err(); err != nil {
		return agent.Order{}, err
	}
	var updated agent.Order
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		updated, err = orderTx{s.journal(tx)}.update(orderNo, fn)
		return err
	})
	if err := callerError(err, fmt.Sprintf("update order %q", orderNo)); err != nil {
		return agent.Order{}, err
	}
	return updated, nil
}

// Update runs fn in one write transaction (agent.Journal.Update): what it
// creates and updates is committed together, or nothing is when fn returns
// an error (returned as it is) or panics (raised again).
func (s *Store) Update(ctx context.Context, fn func(agent.JournalTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		return call(func() error { return fn(orderTx{s.journal(tx)}) })
	})
	return callerError(err, "update orders in "+s.path)
}

// orderTx is agent.JournalTx over one bbolt write transaction.
type orderTx struct{ j journal }

// Order returns the order as the transaction sees it.
func (t orderTx) Order(orderNo string) (agent.Order, error) {
	o, err := getOrder(t.j.orders, orderNo)
	if err != nil {
		return agent.Order{}, fmt.Errorf("offline: order %q: %w", orderNo, err)
	}
	return o, nil
}

// CreateOrder writes a new order and its index entries.
func (t orderTx) CreateOrder(o agent.Order) error {
	raw, err := encodeOrder(o)
	if err != nil {
		return fmt.Errorf("offline: create order: %w", err)
	}
	if err := t.j.create(o, raw); err != nil {
		return fmt.Errorf("offline: create order %q: %w", o.OrderNo, err)
	}
	return nil
}

// UpdateOrder is Store.UpdateOrder inside the transaction.
func (t orderTx) UpdateOrder(orderNo string, fn func(*agent.Order) error) (agent.Order, error) {
	o, err := t.update(orderNo, fn)
	if p, ok := errors.AsType[fnPanic](err); ok {
		panic(p.value) // Store.Update rolls back and raises it to its caller
	}
	if fe, ok := errors.AsType[fnError](err); ok {
		return o, fe.err
	}
	if err != nil {
		return o, fmt.Errorf("offline: update order %q: %w", orderNo, err)
	}
	return o, nil
}

// update reads, changes, checks and writes one order; fn's error comes back
// as fnError, its panic as fnPanic.
func (t orderTx) update(orderNo string, fn func(*agent.Order) error) (agent.Order, error) {
	j := t.j
	old, err := getOrder(j.orders, orderNo)
	if err != nil {
		return agent.Order{}, err
	}
	o := old
	// fn may change entries in place; old must keep the stored ones.
	o.History = slices.Clone(old.History)
	o.PendingRefunds = slices.Clone(old.PendingRefunds)
	if err := call(func() error { return fn(&o) }); err != nil {
		return agent.Order{}, err
	}
	if err := checkUpdate(old, o); err != nil {
		return agent.Order{}, err
	}
	raw, err := encodeOrder(o)
	if err != nil {
		return agent.Order{}, err
	}
	if err := j.orders.Put([]byte(orderNo), raw); err != nil {
		return agent.Order{}, err
	}
	if err := j.move(old, o); err != nil {
		return agent.Order{}, err
	}
	if o.State == agent.StateOfflineAccepted && old.State != agent.StateOfflineAccepted {
		if err := j.addOfflineDay(o); err != nil {
			return agent.Order{}, err
		}
	}
	// What Order will return: times in UTC, empty lists nil.
	return decodeOrder(raw)
}

// checkUpdate refuses what an update must not do (see UpdateOrder).
func checkUpdate(old, o agent.Order) error {
	var changed string
	switch {
	case o.OrderNo != old.OrderNo:
		changed = "order_no"
	case o.Kind != old.Kind:
		changed = "kind"
	case o.RefundOf != old.RefundOf:
		changed = "refund_of"
	case o.Account != old.Account:
		changed = "account"
	case o.Amount != old.Amount:
		changed = "amount"
	case !o.Created.Equal(old.Created):
		changed = "created"
	}
	if changed != "" {
		return fmt.Errorf("an update must not change the order's %s", changed)
	}
	// What starts or counts a refund only ever goes one way, so that a
	// second pass or a retried step cannot start a refund twice.
	switch {
	case old.RefundOrderNo != "" && o.RefundOrderNo != old.RefundOrderNo:
		return fmt.Errorf("an update must not change the refund number %s of an orphan charge", old.RefundOrderNo)
	case o.Refunded < old.Refunded:
		return fmt.Errorf("an update must not lower the refunded amount (%d fen to %d fen)", old.Refunded, o.Refunded)
	case o.RefundsStarted < old.RefundsStarted:
		return errors.New("an update must not lower the refund count")
	case old.PlatformHas && !o.PlatformHas:
		return errors.New("an update must not forget that the platform has the order")
	case old.Outcome.Kind != "" && o.Outcome != old.Outcome:
		// What the customer was told was shown; a later answer of the
		// platform changes the state, never that.
		return fmt.Errorf("an update must not change what the customer was told (outcome %s to %q)",
			outcomeText(old.Outcome), outcomeText(o.Outcome))
	case old.Day != "" && o.Day != old.Day:
		return fmt.Errorf("an update must not change the order's platform day %s (to %q)", old.Day, o.Day)
	}
	if err := agent.CheckTransition(old.State, o.State); err != nil {
		return err
	}
	if len(o.History) < len(old.History) || !slices.EqualFunc(old.History, o.History[:len(old.History)],
		func(a, b agent.Transition) bool {
			return a.At.Equal(b.At) && a.From == b.From && a.To == b.To && a.Note == b.Note
		}) {
		return errors.New("an update may only append to the order's history")
	}
	return nil
}

// outcomeText is an Outcome as an error message shows it: kind, or
// kind/reason.
func outcomeText(o agent.Outcome) string {
	if o.Reason == "" {
		return string(o.Kind)
	}
	return string(o.Kind) + "/" + o.Reason
}

// move keeps the state counts and the unfinished index in step with an
// order going from old to o.
func (j journal) move(old, o agent.Order) error {
	if old.State != o.State {
		if err := j.addCount(old.State, -1); err != nil {
			return err
		}
		if err := j.addCount(o.State, 1); err != nil {
			return err
		}
	}
	oldKey := unfinishedKey(old.NextAttempt, old.OrderNo)
	newKey := unfinishedKey(o.NextAttempt, o.OrderNo)
	was, is := old.State.Unfinished(), o.State.Unfinished()
	if was && is && bytes.Equal(oldKey, newKey) {
		return nil
	}
	if was {
		if err := j.unfinished.Delete(oldKey); err != nil {
			return err
		}
	}
	if is {
		return j.unfinished.Put(newKey, nil)
	}
	return nil
}

// Order returns the stored order, or agent.ErrOrderNotFound (wrapped).
func (s *Store) Order(ctx context.Context, orderNo string) (agent.Order, error) {
	if err := ctx.Err(); err != nil {
		return agent.Order{}, err
	}
	var o agent.Order
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		o, err = getOrder(tx.Bucket([]byte(bucketOrders)), orderNo)
		return err
	})
	if err != nil {
		return agent.Order{}, fmt.Errorf("offline: order %q: %w", orderNo, err)
	}
	return o, nil
}

// Orders lists orders newest (by creation time) first, as f selects; orders
// created at the same instant come in descending order number. It walks the
// creation-time index backwards from f.To, so a small Limit or a recent
// From reads only that many records. A State filter on an unfinished state
// reads the unfinished index instead (O(unfinished)); one on a finished state
// reads every order in the time range.
func (s *Store) Orders(ctx context.Context, f agent.OrderFilter) ([]agent.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.State != "" && !f.State.Known() {
		return nil, fmt.Errorf("offline: list orders: unknown state %q", f.State)
	}
	var list []agent.Order
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		if f.State.Unfinished() {
			list, err = s.unfinishedOrders(ctx, tx, f)
		} else {
			list, err = ordersByCreated(ctx, tx, f)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("offline: list orders in %s: %w", s.path, err)
	}
	return list, nil
}

// ordersByCreated is Orders by a walk of orders_by_created.
func ordersByCreated(ctx context.Context, tx *bolt.Tx, f agent.OrderFilter) ([]agent.Order, error) {
	orders := tx.Bucket([]byte(bucketOrders))
	c := tx.Bucket([]byte(bucketOrdersByCreated)).Cursor()
	var k []byte
	if f.To.IsZero() {
		k, _ = c.Last()
	} else {
		// Seek lands on the first entry created at or after To; the one
		// before it is the newest created before To.
		to := timeKey(f.To)
		if k, _ = c.Seek(to[:]); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	}
	from := timeKey(f.From)
	var list []agent.Order
	for n := 0; k != nil; k, _ = c.Prev() {
		if f.Limit > 0 && len(list) >= f.Limit {
			break
		}
		if n++; n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if len(k) < 8 {
			return nil, fmt.Errorf("%w: %s key of %d bytes", ErrCorrupt, bucketOrdersByCreated, len(k))
		}
		if !f.From.IsZero() && bytes.Compare(k[:8], from[:]) < 0 {
			break
		}
		o, err := getOrder(orders, string(k[8:]))
		if errors.Is(err, agent.ErrOrderNotFound) {
			return nil, fmt.Errorf("%w: %s names order %q, which does not exist", ErrCorrupt, bucketOrdersByCreated, k[8:])
		}
		if err != nil {
			return nil, err
		}
		if f.State == "" || o.State == f.State {
			list = append(list, o)
		}
	}
	return list, nil
}

// unfinishedOrders is Orders for an unfinished state, from the unfinished
// index, sorted as ordersByCreated would return them.
func (s *Store) unfinishedOrders(ctx context.Context, tx *bolt.Tx, f agent.OrderFilter) ([]agent.Order, error) {
	var list []agent.Order
	err := s.eachUnfinished(ctx, tx, nil, func(o agent.Order) bool {
		if o.State == f.State && (f.From.IsZero() || !o.Created.Before(f.From)) &&
			(f.To.IsZero() || o.Created.Before(f.To)) {
			list = append(list, o)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b agent.Order) int {
		return bytes.Compare(createdKey(b.Created, b.OrderNo), createdKey(a.Created, a.OrderNo))
	})
	if f.Limit > 0 && len(list) > f.Limit {
		list = list[:f.Limit]
	}
	return list, nil
}

// eachUnfinished calls fn with the orders of the unfinished index in key
// order (NextAttempt, then order number) until fn returns false or, when
// until is set, the first entry due after it. An entry that does not match
// its order is damage: ErrCorrupt.
func (s *Store) eachUnfinished(ctx context.Context, tx *bolt.Tx, until *time.Time, fn func(agent.Order) bool) error {
	orders := tx.Bucket([]byte(bucketOrders))
	c := tx.Bucket([]byte(bucketUnfinished)).Cursor()
	var limit [8]byte
	if until != nil {
		limit = timeKey(*until)
	}
	n := 0
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if n++; n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(k) < 8 {
			return fmt.Errorf("%w: %s key of %d bytes", ErrCorrupt, bucketUnfinished, len(k))
		}
		if until != nil && bytes.Compare(k[:8], limit[:]) > 0 {
			return nil
		}
		o, err := getOrder(orders, string(k[8:]))
		switch {
		case errors.Is(err, agent.ErrOrderNotFound):
			return fmt.Errorf("%w: %s index names order %q, which does not exist", ErrCorrupt, bucketUnfinished, k[8:])
		case err != nil:
			return err
		case !o.State.Unfinished() || !bytes.Equal(k, unfinishedKey(o.NextAttempt, o.OrderNo)):
			return fmt.Errorf("%w: %s index entry of order %q out of step with the order (state %s)",
				ErrCorrupt, bucketUnfinished, o.OrderNo, o.State)
		}
		if !fn(o) {
			return nil
		}
	}
	return nil
}

// Due returns up to limit (<= 0: all) unfinished orders whose NextAttempt is
// not after now, earliest first (then by order number). It reads the
// unfinished index from its start and stops at the first entry due after
// now, so its cost grows with the orders due, never with finished ones.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]agent.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var list []agent.Order
	err := s.view(func(tx *bolt.Tx) error {
		return s.eachUnfinished(ctx, tx, &now, func(o agent.Order) bool {
			list = append(list, o)
			return limit <= 0 || len(list) < limit
		})
	})
	if err != nil {
		return nil, fmt.Errorf("offline: due orders in %s: %w", s.path, err)
	}
	return list, nil
}

// UnfinishedCount counts the unfinished orders, from the index alone.
func (s *Store) UnfinishedCount(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int
	if err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte(bucketUnfinished)).Stats().KeyN
		return nil
	}); err != nil {
		return 0, fmt.Errorf("offline: count unfinished orders in %s: %w", s.path, err)
	}
	return n, nil
}

// OfflineExposure returns the payments accepted offline and not settled
// (Count, Amount: the offline_accepted payments among the unfinished
// orders, O(unfinished)), and CardDay, what account was accepted offline
// for on day (yyyyMMdd, a platform day as the payments' Day has it),
// settled or not, from offline_day. Refund orders are not counted.
func (s *Store) OfflineExposure(ctx context.Context, account, day string) (agent.OfflineExposure, error) {
	if err := ctx.Err(); err != nil {
		return agent.OfflineExposure{}, err
	}
	if err := validDay(day); err != nil {
		return agent.OfflineExposure{}, fmt.Errorf("offline: offline exposure: %w", err)
	}
	var e agent.OfflineExposure
	err := s.view(func(tx *bolt.Tx) error {
		if err := s.eachUnfinished(ctx, tx, nil, func(o agent.Order) bool {
			if o.State == agent.StateOfflineAccepted && o.Kind == agent.KindPay {
				e.Count++
				e.Amount += o.Amount
			}
			return true
		}); err != nil {
			return err
		}
		var err error
		e.CardDay, err = fenValue(tx.Bucket([]byte(bucketOfflineDay)).Get(offlineDayKey(day, account)))
		return err
	})
	if err != nil {
		return agent.OfflineExposure{}, fmt.Errorf("offline: offline exposure of account %q on %s in %s: %w",
			account, day, s.path, err)
	}
	return e, nil
}

// getOrder reads and decodes one order inside a transaction.
func getOrder(orders *bolt.Bucket, orderNo string) (agent.Order, error) {
	raw := orders.Get([]byte(orderNo))
	if raw == nil {
		return agent.Order{}, agent.ErrOrderNotFound
	}
	o, err := decodeOrder(raw)
	if err != nil {
		return agent.Order{}, err
	}
	if o.OrderNo != orderNo {
		return agent.Order{}, fmt.Errorf("%w: record stored under %q says %q", ErrBadRecord, orderNo, o.OrderNo)
	}
	return o, nil
}
