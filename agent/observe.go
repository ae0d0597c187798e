package agent

import (
	"context"
	"slices"
)

// OrderChange is one write of an order to the journal: a new order (Before
// nil) or an update, with the order as it was and as it is now.
type OrderChange struct {
	Before *Order
	After  Order
}

// Created reports whether the change created the order.
func (c OrderChange) Created() bool { return c.Before == nil }

// StateChanged reports whether the change created the order or moved it to
// another state.
func (c OrderChange) StateChanged() bool { return c.Before == nil || c.Before.State != c.After.State }

// Told reports whether the change journalled what a payment's customer
// was told (its Outcome), and what: once per payment, in the write that
// decided it. A reconciler's move never does: an orphan's customer was
// told nothing.
func (c OrderChange) Told() (Outcome, bool) {
	o := c.After
	if o.Kind != KindPay || o.Outcome.Kind == "" || (c.Before != nil && c.Before.Outcome.Kind != "") {
		return Outcome{}, false
	}
	return o.Outcome, true
}

// ObserveJournal returns j with fn called after every order it has
// committed, on the writer's goroutine: the one place where logs and
// metrics see every order's life, lossless, without the payment flow
// knowing about either. fn must not block and must not write to j.
func ObserveJournal(j Journal, fn func(ctx context.Context, c OrderChange)) Journal {
	return &observedJournal{Journal: j, fn: fn}
}

type observedJournal struct {
	Journal
	fn func(context.Context, OrderChange)
}

func (j *observedJournal) CreateOrder(ctx context.Context, o Order) error {
	if err := j.Journal.CreateOrder(ctx, o); err != nil {
		return err
	}
	j.fn(ctx, OrderChange{After: o})
	return nil
}

func (j *observedJournal) UpdateOrder(ctx context.Context, orderNo string, fn func(*Order) error) (Order, error) {
	var before Order
	after, err := j.Journal.UpdateOrder(ctx, orderNo, recording(&before, fn))
	if err != nil {
		return after, err
	}
	j.fn(ctx, OrderChange{Before: &before, After: after})
	return after, nil
}

func (j *observedJournal) Update(ctx context.Context, fn func(JournalTx) error) error {
	var changes []OrderChange
	err := j.Journal.Update(ctx, func(tx JournalTx) error {
		changes = changes[:0]
		return fn(&observedTx{JournalTx: tx, changes: &changes})
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		j.fn(ctx, c)
	}
	return nil
}

// observedTx records a transaction's writes, to be reported once it has
// committed.
type observedTx struct {
	JournalTx
	changes *[]OrderChange
}

func (t *observedTx) CreateOrder(o Order) error {
	if err := t.JournalTx.CreateOrder(o); err != nil {
		return err
	}
	*t.changes = append(*t.changes, OrderChange{After: o})
	return nil
}

func (t *observedTx) UpdateOrder(orderNo string, fn func(*Order) error) (Order, error) {
	var before Order
	after, err := t.JournalTx.UpdateOrder(orderNo, recording(&before, fn))
	if err != nil {
		return after, err
	}
	*t.changes = append(*t.changes, OrderChange{Before: &before, After: after})
	return after, nil
}

// recording wraps an update callback so that before holds the order as the
// store handed it in, before fn changed it. The store may call the callback
// again on a retried transaction; the last call is the committed one.
func recording(before *Order, fn func(*Order) error) func(*Order) error {
	return func(o *Order) error {
		*before = *o
		before.History = slices.Clone(o.History)
		before.PendingRefunds = slices.Clone(o.PendingRefunds)
		return fn(o)
	}
}
