package offline

import (
	"context"
	"errors"
	"fmt"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// CreateOrder durably records a new order; it fails with agent.ErrOrderExists
// if this store has seen the number before. The order must have an order
// number, a known kind, a state and a creation time.
func (s *Store) CreateOrder(ctx context.Context, o agent.Order) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := encodeOrder(o)
	if err != nil {
		return fmt.Errorf("offline: create order: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		orders := tx.Bucket([]byte(bucketOrders))
		if orders.Get([]byte(o.OrderNo)) != nil {
			return agent.ErrOrderExists
		}
		if err := orders.Put([]byte(o.OrderNo), raw); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketOrdersByCreated)).Put(createdKey(o.Created, o.OrderNo), nil)
	})
	if err != nil {
		return fmt.Errorf("offline: create order %q: %w", o.OrderNo, err)
	}
	return nil
}

// fnError carries UpdateOrder's callback error through bbolt unchanged.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// UpdateOrder applies fn to the stored order and durably saves the result in
// the same transaction. An error from fn aborts the update and is returned
// as it is. fn must not change the order number; a changed creation time
// moves the order in the Orders listing. agent.ErrOrderNotFound (wrapped) if
// the number is unknown.
func (s *Store) UpdateOrder(ctx context.Context, orderNo string, fn func(*agent.Order) error) (agent.Order, error) {
	if err := ctx.Err(); err != nil {
		return agent.Order{}, err
	}
	var updated agent.Order
	err := s.db.Update(func(tx *bolt.Tx) error {
		orders := tx.Bucket([]byte(bucketOrders))
		old, err := getOrder(orders, orderNo)
		if err != nil {
			return err
		}
		o := old
		if err := fn(&o); err != nil {
			return fnError{err}
		}
		if o.OrderNo != old.OrderNo {
			return errors.New("update must not change the order number")
		}
		raw, err := encodeOrder(o)
		if err != nil {
			return err
		}
		if err := orders.Put([]byte(orderNo), raw); err != nil {
			return err
		}
		if !o.Created.Equal(old.Created) {
			byCreated := tx.Bucket([]byte(bucketOrdersByCreated))
			if err := byCreated.Delete(createdKey(old.Created, orderNo)); err != nil {
				return err
			}
			if err := byCreated.Put(createdKey(o.Created, orderNo), nil); err != nil {
				return err
			}
		}
		updated = o
		return nil
	})
	if fe, ok := errors.AsType[fnError](err); ok {
		return agent.Order{}, fe.err
	}
	if err != nil {
		return agent.Order{}, fmt.Errorf("offline: update order %q: %w", orderNo, err)
	}
	// Return what was stored, normalized exactly as Order would return it.
	return normalize(updated), nil
}

// Order returns the stored order, or agent.ErrOrderNotFound (wrapped).
func (s *Store) Order(ctx context.Context, orderNo string) (agent.Order, error) {
	if err := ctx.Err(); err != nil {
		return agent.Order{}, err
	}
	var o agent.Order
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		o, err = getOrder(tx.Bucket([]byte(bucketOrders)), orderNo)
		return err
	})
	if err != nil {
		return agent.Order{}, fmt.Errorf("offline: order %q: %w", orderNo, err)
	}
	return o, nil
}

// Orders returns up to limit orders, newest (by creation time) first; limit
// <= 0 returns all. It walks the creation-time index from its end, so a
// small limit reads only that many records.
func (s *Store) Orders(ctx context.Context, limit int) ([]agent.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var list []agent.Order
	err := s.db.View(func(tx *bolt.Tx) error {
		orders := tx.Bucket([]byte(bucketOrders))
		c := tx.Bucket([]byte(bucketOrdersByCreated)).Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if limit > 0 && len(list) >= limit {
				break
			}
			if len(list)%256 == 255 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if len(k) < 8 {
				return fmt.Errorf("%w: index key of %d bytes", ErrBadRecord, len(k))
			}
			o, err := getOrder(orders, string(k[8:]))
			if err != nil {
				return fmt.Errorf("index entry: %w", err)
			}
			list = append(list, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("offline: list orders: %w", err)
	}
	return list, nil
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

// normalize returns o as a round trip through the record format leaves it.
func normalize(o agent.Order) agent.Order {
	o.Created = o.Created.UTC()
	o.Updated = o.Updated.UTC()
	return o
}
