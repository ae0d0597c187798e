package offline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
)

// sending3 is pay3 journalled before its request: sending, due a minute
// later.
func sending3(no string) agent.Order {
	return with(pay3(no), func(o *agent.Order) {
		o.State, o.NextAttempt = agent.StateSending, created0.Add(time.Minute)
	})
}

// to returns an update callback moving an order to state.
func to(state agent.OrderState) func(*agent.Order) error {
	return func(o *agent.Order) error { return o.To(state, created0.Add(time.Second), "") }
}

// requireCounts checks StateCounts against want and against a walk of
// every order, and that CheckAll agrees.
func requireCounts(t *testing.T, s *Store, want map[agent.OrderState]int, msg string) {
	t.Helper()
	ctx := t.Context()
	got, err := s.StateCounts(ctx)
	require.NoError(t, err, msg)
	assert.Equal(t, want, got, msg)
	all, err := s.Orders(ctx, agent.OrderFilter{})
	require.NoError(t, err)
	walked := map[agent.OrderState]int{}
	for _, o := range all {
		walked[o.State]++
	}
	assert.Equal(t, walked, got, "%s: the counts are a walk's", msg)
	require.NoError(t, s.CheckAll(ctx), msg)
}

func TestStateCountsFollowEveryWrite(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	require.NoError(t, err)
	requireCounts(t, s, map[agent.OrderState]int{}, "a new journal")

	for _, no := range []string{"A", "B", "C", "D"} {
		require.NoError(t, s.CreateOrder(ctx, sending3(no)))
	}
	require.ErrorIs(t, s.CreateOrder(ctx, sending3("A")), agent.ErrOrderExists)
	requireCounts(t, s, map[agent.OrderState]int{agent.StateSending: 4}, "four created, one refused")

	_, err = s.UpdateOrder(ctx, "A", to(agent.StatePaid))
	require.NoError(t, err)
	requireCounts(t, s, map[agent.OrderState]int{agent.StateSending: 3, agent.StatePaid: 1}, "a state change")

	_, err = s.UpdateOrder(ctx, "B", func(o *agent.Order) error { o.Attempts++; return nil })
	require.NoError(t, err)
	requireCounts(t, s, map[agent.OrderState]int{agent.StateSending: 3, agent.StatePaid: 1}, "an update in the same state")

	require.NoError(t, s.Update(ctx, func(tx agent.JournalTx) error {
		if err := tx.CreateOrder(sending3("E")); err != nil {
			return err
		}
		for no, st := range map[string]agent.OrderState{"B": agent.StateUnknown, "C": agent.StateUnknown, "E": agent.StateDeclined} {
			if _, err := tx.UpdateOrder(no, to(st)); err != nil {
				return err
			}
		}
		return nil
	}))
	after := map[agent.OrderState]int{agent.StateSending: 1, agent.StatePaid: 1, agent.StateUnknown: 2, agent.StateDeclined: 1}
	requireCounts(t, s, after, "one transaction: a create and three state changes")

	// Rolled back: nothing of the counts either.
	failed := errors.New("the callback fails")
	require.ErrorIs(t, s.Update(ctx, func(tx agent.JournalTx) error {
		if err := tx.CreateOrder(sending3("F")); err != nil {
			return err
		}
		if _, err := tx.UpdateOrder("D", to(agent.StateVoided)); err != nil {
			return err
		}
		return failed
	}), failed)
	require.ErrorIs(t, s.Update(ctx, func(tx agent.JournalTx) error {
		if _, err := tx.UpdateOrder("D", to(agent.StateVoided)); err != nil {
			return err
		}
		// The store refuses paid → sending.
		_, err := tx.UpdateOrder("A", func(o *agent.Order) error { o.State = agent.StateSending; return nil })
		return err
	}), agent.ErrIllegalTransition)
	_, err = s.UpdateOrder(ctx, "D", func(o *agent.Order) error {
		_ = o.To(agent.StateVoided, created0, "")
		return failed
	})
	require.ErrorIs(t, err, failed)
	requireCounts(t, s, after, "failed transactions change no count")

	require.NoError(t, s.Close())
	s, err = Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	requireCounts(t, s, after, "reopened")
}

// dropCounts removes state_counts with raw bbolt: a schema-3 file as a
// build before the counts left it.
func dropCounts(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(bucketStateCounts)) }))
	require.NoError(t, db.Close())
}

// A schema-3 file written before state_counts existed gets its counts at
// Open, with the upgrade to schema 4. A schema-4 file never lacked them:
// without them it is refused.
func TestOpenCountsSchema3FileWithoutCounts(t *testing.T) {
	p := with(pay3("P"), func(o *agent.Order) { o.State, o.Refunded = agent.StatePartiallyRefunded, 100 })
	path := writeOrders(t, 3, p, pay3("Q"), sending3("S"), refund3(p, "PR1", 100, agent.StatePaid))
	dropCounts(t, path)

	s, err := Open(path)
	require.NoError(t, err)
	requireCounts(t, s, map[agent.OrderState]int{agent.StatePaid: 2, agent.StatePartiallyRefunded: 1, agent.StateSending: 1},
		"built at Open")
	require.NoError(t, s.Close())
	assert.Equal(t, uint64(SchemaVersion), schemaVersionOf(t, path), "with every bucket of its schema")

	// A file whose orders do not decode is refused and left as it was.
	path = writeOrders(t, 3, pay3("P"))
	editOrder(t, path, "P", func(rec *orderRecord) { rec.State = "lost" })
	dropCounts(t, path)
	_, err = Open(path)
	require.ErrorIs(t, err, ErrNotStore)
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		assert.Nil(t, tx.Bucket([]byte(bucketStateCounts)), "nothing written")
		return nil
	}))

	path = writeOrders(t, SchemaVersion, pay3("P"))
	dropCounts(t, path)
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	requireRefusedUnchanged(t, content, ErrNotStore)
}

// setCount writes one state_counts value with raw bbolt (nil deletes it).
func setCount(t *testing.T, s *Store, st agent.OrderState, v []byte) {
	t.Helper()
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketStateCounts))
		if v == nil {
			return b.Delete([]byte(st))
		}
		return b.Put([]byte(st), v)
	}))
}

func TestCheckAllFindsStateCountsOutOfStep(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		name  string
		state agent.OrderState
		value []byte
		want  string
	}{
		{"a count too high", agent.StatePaid, countValue(3), "state_counts has 3 orders in state paid, the orders hold 2"},
		{"a count missing", agent.StateSending, nil, "state_counts has 0 orders in state sending, the orders hold 1"},
		{"a state without orders", agent.StateNeedsReview, countValue(1),
			"state_counts has 1 orders in state needs_review, the orders hold 0"},
		{"a state no order can have", "lost", countValue(1), "state_counts has 1 orders in state lost, the orders hold 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(writeOrders(t, SchemaVersion, pay3("P"), pay3("Q"), sending3("S")))
			require.NoError(t, err)
			defer func() { require.NoError(t, s.Close()) }()
			setCount(t, s, c.state, c.value)
			err = s.CheckAll(ctx)
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, c.want)
		})
	}

	t.Run("a malformed count", func(t *testing.T) {
		s, err := Open(writeOrders(t, SchemaVersion, pay3("P")))
		require.NoError(t, err)
		defer func() { require.NoError(t, s.Close()) }()
		setCount(t, s, agent.StatePaid, []byte{1})
		for _, err := range []error{s.CheckAll(ctx), func() error { _, err := s.StateCounts(ctx); return err }()} {
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, `state_counts entry of state "paid": malformed record: count of 1 bytes`)
		}
		err = s.CreateOrder(ctx, pay3("Q"))
		require.ErrorIs(t, err, ErrCorrupt, "a write does not build on a damaged count")
	})
}

// A count already short (here: none for sending) stays at zero when its
// order moves on: the order is written, and CheckAll says what is wrong.
func TestStateCountShortDoesNotStopWrites(t *testing.T) {
	ctx := t.Context()
	s, err := Open(writeOrders(t, SchemaVersion, sending3("S")))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	setCount(t, s, agent.StateSending, nil)

	_, err = s.UpdateOrder(ctx, "S", to(agent.StatePaid))
	require.NoError(t, err)
	got, err := s.StateCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[agent.OrderState]int{agent.StatePaid: 1}, got)
	require.NoError(t, s.CheckAll(ctx), "wrong no longer")
}

func TestStateCountsHonoursCancelledContext(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "kiosk.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = s.StateCounts(ctx)
	require.ErrorIs(t, err, context.Canceled)
}
