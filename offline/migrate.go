package offline

import (
	"errors"
	"fmt"
	"slices"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	bolt "go.etcd.io/bbolt"
)

// migrate upgrades a file of an older schema to SchemaVersion in one
// transaction: after an error or a crash the file is exactly as it was, and
// the previous version of the program can still use it.
func (s *Store) migrate(from uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		switch from {
		case 1:
			if err := migrate1to2(tx); err != nil {
				return err
			}
			fallthrough
		case 2:
			if err := migrate2to3(tx); err != nil {
				return err
			}
		case 3:
			// Written before state_counts existed (schema 3 was not
			// released without it).
			if tx.Bucket([]byte(bucketStateCounts)) == nil {
				if _, err := countStates(tx); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("no upgrade from schema %d", from)
		}
		return migrate3to4(tx)
	})
	switch {
	case errors.Is(err, ErrBadRecord):
		return fmt.Errorf("offline: open %s: upgrade from schema %d to %d: %w: %w",
			s.path, from, SchemaVersion, ErrNotStore, err)
	case err != nil:
		return fmt.Errorf("offline: open %s: upgrade from schema %d to %d: %w", s.path, from, SchemaVersion, err)
	}
	return nil
}

// schema1States are the states a schema-1 file can hold.
func schema1States() []agent.OrderState {
	return []agent.OrderState{
		agent.StateSending, agent.StatePaid, agent.StateDeclined,
		agent.StateUnknown, agent.StateRefunded, stateNotFound1,
	}
}

// stateNotFound1 is schema 1's "the platform has no such order" (pay.query
// 78). The order never reached the platform and the customer was not told
// it was paid: schema 2 calls that voided.
const stateNotFound1 agent.OrderState = "not_found"

// migrate1to2 adds the schema-2 buckets, renames not_found to voided and
// builds the unfinished index. Schema-1 orders have no offline acceptances,
// cached cards or reports, so those buckets start empty.
func migrate1to2(tx *bolt.Tx) error {
	for _, name := range []string{bucketUnfinished, bucketCards, bucketOfflineDay, bucketBillReports} {
		if _, err := tx.CreateBucket([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	orders := tx.Bucket([]byte(bucketOrders))
	unfinished := tx.Bucket([]byte(bucketUnfinished))

	// bbolt does not allow writing a bucket while iterating it: rewrites
	// are collected and written after the loop.
	var rewrite []agent.Order
	if err := orders.ForEach(func(k, v []byte) error {
		o, err := parseOrder(v)
		if err != nil {
			return fmt.Errorf("order %q: %w", k, err)
		}
		if o.OrderNo != string(k) {
			return fmt.Errorf("%w: record stored under %q says %q", ErrBadRecord, k, o.OrderNo)
		}
		if !slices.Contains(schema1States(), o.State) {
			return fmt.Errorf("%w: order %q: state %q unknown to schema 1", ErrBadRecord, k, o.State)
		}
		if o.State == stateNotFound1 {
			o.State = agent.StateVoided
			rewrite = append(rewrite, o)
		}
		if err := validateOrder(o); err != nil {
			return fmt.Errorf("%w: order %q: %w", ErrBadRecord, k, err)
		}
		if o.State.Unfinished() {
			return unfinished.Put(unfinishedKey(o.NextAttempt, o.OrderNo), nil)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, o := range rewrite {
		raw, err := encodeOrder(o)
		if err != nil {
			return err
		}
		if err := orders.Put([]byte(o.OrderNo), raw); err != nil {
			return fmt.Errorf("order %q: %w", o.OrderNo, err)
		}
	}
	return putSchemaVersion(tx, 2)
}

// migrate2to3 gives every payment its refund count and the list of its
// refunds not yet confirmed or declined, which schema 2 did not keep: a
// payment with such a refund takes no further refund until it settles. It
// also repairs what schema 2's two commits per confirmed refund could leave
// behind after a crash: a refund confirmed but not credited to its payment,
// and it counts the orders of each state (state_counts).
func migrate2to3(tx *bolt.Tx) error {
	counts, err := countStates(tx)
	if err != nil {
		return err
	}
	orders := tx.Bucket([]byte(bucketOrders))
	started := map[string]int{}
	pending := map[string][]string{}
	confirmed := map[string]money.Fen{}
	lastConfirmed := map[string]agent.Order{}
	if err := orders.ForEach(func(k, v []byte) error {
		o, err := decodeOrder(v)
		if err != nil {
			return fmt.Errorf("order %q: %w", k, err)
		}
		if o.Kind == agent.KindRefund {
			started[o.RefundOf]++
			switch o.State {
			case agent.StatePaid:
				confirmed[o.RefundOf] += o.Amount
				// The latest by time: key order puts R10 before R2.
				if l, ok := lastConfirmed[o.RefundOf]; !ok || !o.Updated.Before(l.Updated) {
					lastConfirmed[o.RefundOf] = o
				}
			case agent.StateDeclined:
			default:
				pending[o.RefundOf] = append(pending[o.RefundOf], o.OrderNo)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// A payment the credit finishes (orphan_charged → orphan_refunded)
	// leaves the unfinished index, and changes the counts, in the same
	// transaction.
	j := journal{orders: orders, unfinished: tx.Bucket([]byte(bucketUnfinished)), counts: counts}
	for no, n := range started {
		raw := orders.Get([]byte(no))
		if raw == nil {
			continue // a refund of a payment this journal does not hold
		}
		old, err := decodeOrder(raw)
		if err != nil {
			return fmt.Errorf("order %q: %w", no, err)
		}
		o := old
		o.RefundsStarted, o.PendingRefunds = n, pending[no]
		if err := creditMissed(&o, confirmed[no], lastConfirmed[no]); err != nil {
			return fmt.Errorf("order %q: %w", no, err)
		}
		if raw, err = encodeOrder(o); err != nil {
			// A record schema 3 cannot hold (refunds of a refund order).
			return fmt.Errorf("%w: %w", ErrBadRecord, err)
		}
		if err := orders.Put([]byte(no), raw); err != nil {
			return fmt.Errorf("order %q: %w", no, err)
		}
		if err := j.move(old, o); err != nil {
			return fmt.Errorf("order %q: %w", no, err)
		}
	}
	return putSchemaVersion(tx, 3)
}

// migrate3to4 only marks the file as schema 4: schema 4 adds fields
// (outcome, outcome_reason, day) that a schema-3 record lacks and the
// decoder fills in (legacyOutcome), so no record needs rewriting, and the
// upgrade costs the same for any size of journal. A schema-3 binary
// refuses the file from here on, as it refuses the new fields.
func migrate3to4(tx *bolt.Tx) error {
	return putSchemaVersion(tx, 4)
}

// countStates creates state_counts and fills it from a walk of the orders.
func countStates(tx *bolt.Tx) (*bolt.Bucket, error) {
	counts, err := tx.CreateBucket([]byte(bucketStateCounts))
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bucketStateCounts, err)
	}
	n, err := walkStates(tx.Bucket([]byte(bucketOrders)))
	if err != nil {
		return nil, err
	}
	for st, c := range n {
		if err := counts.Put([]byte(st), countValue(c)); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// noteCreditedOnUpgrade starts the history note of a credit creditMissed
// made (CheckAll knows it by this).
const noteCreditedOnUpgrade = "credited on upgrade"

// creditMissed credits payment p with confirmed refunds its Refunded does
// not count yet (sum is what its refund orders confirmed, last the latest of
// them), as the second commit would have.
func creditMissed(p *agent.Order, sum money.Fen, last agent.Order) error {
	if sum <= p.Refunded {
		return nil
	}
	at, note := last.Updated, noteCreditedOnUpgrade+": refund "+last.OrderNo+" was confirmed before a crash"
	if sum > p.Amount {
		p.LastError = fmt.Sprintf("refunds of %d fen were confirmed for a %d fen payment", sum, p.Amount)
		sum = p.Amount
	}
	p.Refunded = sum
	switch {
	case p.State == agent.StateOrphanCharged:
		return p.To(agent.StateOrphanRefunded, at, note)
	case p.State != agent.StatePaid && p.State != agent.StatePartiallyRefunded:
		return nil
	case p.Refunded >= p.Amount:
		return p.To(agent.StateRefunded, at, note)
	}
	return p.To(agent.StatePartiallyRefunded, at, note)
}
