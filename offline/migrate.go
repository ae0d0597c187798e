package offline

import (
	"errors"
	"fmt"
	"slices"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// migrate upgrades a file of an older schema to SchemaVersion in one
// transaction: after an error or a crash the file is exactly as it was, and
// the previous version of the program can still use it.
func (s *Store) migrate(from uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		switch from {
		case 1:
			return migrate1to2(tx)
		default:
			return fmt.Errorf("no upgrade from schema %d", from)
		}
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
