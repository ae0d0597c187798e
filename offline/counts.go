package offline

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// StateCounts returns how many orders are in each state, from state_counts
// alone: O(states), whatever the size of the journal. States without orders
// are absent.
func (s *Store) StateCounts(ctx context.Context) (map[agent.OrderState]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var counts map[agent.OrderState]int
	err := s.view(func(tx *bolt.Tx) error {
		stored, err := readCounts(tx.Bucket([]byte(bucketStateCounts)))
		counts = make(map[agent.OrderState]int, len(stored))
		for st, n := range stored {
			if n > 0 {
				counts[st] = int(n)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("offline: count orders by state in %s: %w", s.path, err)
	}
	return counts, nil
}

// addCount changes the count of orders in state st by delta. A count that
// would go below zero was wrong already (CheckAll reports it): it stays at
// zero, and the order is written all the same.
func (j journal) addCount(st agent.OrderState, delta int) error {
	key := []byte(st)
	n, err := parseCount(j.counts.Get(key))
	if err != nil {
		return fmt.Errorf("%w: %s entry of state %s: %w", ErrCorrupt, bucketStateCounts, st, err)
	}
	if delta < 0 {
		n -= min(n, uint64(-delta))
	} else {
		n += uint64(delta)
	}
	if n == 0 {
		return j.counts.Delete(key)
	}
	return j.counts.Put(key, countValue(n))
}

// countValue encodes a state_counts value.
func countValue(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}

// parseCount decodes a state_counts value; nil is zero.
func parseCount(v []byte) (uint64, error) {
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("%w: count of %d bytes", ErrBadRecord, len(v))
}

// readCounts decodes the whole of state_counts.
func readCounts(b *bolt.Bucket) (map[agent.OrderState]uint64, error) {
	counts := map[agent.OrderState]uint64{}
	err := b.ForEach(func(k, v []byte) error {
		n, err := parseCount(v)
		if err != nil {
			return fmt.Errorf("%w: %s entry of state %q: %w", ErrCorrupt, bucketStateCounts, k, err)
		}
		counts[agent.OrderState(k)] = n
		return nil
	})
	return counts, err
}

// walkStates counts the orders of each state by reading every one.
func walkStates(orders *bolt.Bucket) (map[agent.OrderState]uint64, error) {
	counts := map[agent.OrderState]uint64{}
	err := orders.ForEach(func(k, v []byte) error {
		o, err := decodeOrder(v)
		if err != nil {
			return fmt.Errorf("order %q: %w", k, err)
		}
		counts[o.State]++
		return nil
	})
	return counts, err
}

// checkCounts reports every state whose stored count is not walked, the
// count of a walk of the orders.
func checkCounts(b *bolt.Bucket, walked map[agent.OrderState]uint64, report func(error)) {
	stored, err := readCounts(b)
	if err != nil {
		report(err)
		return
	}
	for _, st := range sortedKeys(walked, stored) {
		if stored[st] != walked[st] {
			report(fmt.Errorf("%s has %d orders in state %s, the orders hold %d", bucketStateCounts, stored[st], st, walked[st]))
		}
	}
}
