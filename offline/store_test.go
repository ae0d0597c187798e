package offline_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/offline"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// cst is the platform's zone in these tests (UTC+8).
var cst = time.FixedZone("CST", 8*3600)

// payment is a payment just journalled, with the platform day (in cst) it
// was created on, as the Service sets it.
func payment(no string, created time.Time) agent.Order {
	return agent.Order{
		OrderNo: no,
		Kind:    agent.KindPay,
		Account: "20230001",
		AccType: "###",
		MercAcc: "1000001",
		TermID:  "17",
		Amount:  1234,
		Created: created,
		State:   agent.StateSending,
		Day:     created.In(cst).Format("20060102"),
	}
}

func openStore(t *testing.T, path string, opts ...offline.Option) *offline.Store {
	t.Helper()
	s, err := offline.Open(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

func TestOpenCreatesDirectoryAndPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "kiosk", "kiosk.db")
	s, err := offline.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "second Close is harmless")

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	s = openStore(t, path) // an initialized file opens again
	_, ok, err := s.LoadToken(t.Context())
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestOrderLifecycle(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s := openStore(t, path)

	// A zone other than UTC and a monotonic reading must not survive into
	// the record; the instant must.
	created := t0.In(time.FixedZone("CST", 8*3600))
	o := payment("K17-000001", created)
	require.NoError(t, s.CreateOrder(ctx, o))

	got, err := s.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	want := o
	want.Created = t0
	assert.Equal(t, want, got)

	err = s.CreateOrder(ctx, payment("K17-000001", t0.Add(time.Hour)))
	assert.ErrorIs(t, err, agent.ErrOrderExists)
	got, err = s.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, want, got, "a refused duplicate leaves the first order alone")

	updated, err := s.UpdateOrder(ctx, o.OrderNo, func(o *agent.Order) error {
		o.State = agent.StatePaid
		o.OutID = "T2025031400001"
		o.Updated = t0.Add(2 * time.Second)
		return nil
	})
	require.NoError(t, err)
	want.State, want.OutID, want.Updated = agent.StatePaid, "T2025031400001", t0.Add(2*time.Second)
	assert.Equal(t, want, updated)

	errAbort := errors.New("abort")
	_, err = s.UpdateOrder(ctx, o.OrderNo, func(o *agent.Order) error {
		o.State = agent.StateUnknown
		return errAbort
	})
	assert.Same(t, errAbort, err, "fn's error comes back as it is")

	_, err = s.UpdateOrder(ctx, o.OrderNo, func(o *agent.Order) error {
		o.OrderNo = "K17-999999"
		return nil
	})
	assert.Error(t, err)

	_, err = s.UpdateOrder(ctx, o.OrderNo, func(o *agent.Order) error {
		o.Kind = "gift"
		return nil
	})
	assert.Error(t, err, "an invalid result is not stored")

	_, err = s.UpdateOrder(ctx, "nope", func(*agent.Order) error { return nil })
	assert.ErrorIs(t, err, agent.ErrOrderNotFound)
	_, err = s.Order(ctx, "nope")
	assert.ErrorIs(t, err, agent.ErrOrderNotFound)

	got, err = s.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, want, got, "failed updates changed nothing")

	require.NoError(t, s.Close())
	s = openStore(t, path)
	got, err = s.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, want, got, "survives reopening")
}

func TestCreateOrderRefusesInvalid(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
	refund := payment("R1", t0)
	refund.Kind = agent.KindRefund
	for name, o := range map[string]agent.Order{
		"no number":     payment("", t0),
		"no time":       payment("A1", time.Time{}),
		"refund of ?":   refund,
		"unknown kind":  func() agent.Order { o := payment("A2", t0); o.Kind = "x"; return o }(),
		"no state":      func() agent.Order { o := payment("A3", t0); o.State = ""; return o }(),
		"time too late": payment("A4", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)),
	} {
		assert.Error(t, s.CreateOrder(t.Context(), o), name)
	}
	list, err := s.Orders(t.Context(), agent.OrderFilter{})
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestOrdersNewestFirst(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))

	// Inserted out of time order; "B" and "C" share an instant; one order
	// predates 1970 (a kiosk with a flat RTC battery) and must sort last.
	for _, o := range []agent.Order{
		payment("C", t0.Add(time.Minute)),
		payment("A", t0),
		payment("D", t0.Add(2*time.Minute)),
		payment("B", t0.Add(time.Minute)),
		payment("OLD", time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)),
	} {
		require.NoError(t, s.CreateOrder(ctx, o))
	}
	numbers := func(list []agent.Order) []string {
		var nos []string
		for _, o := range list {
			nos = append(nos, o.OrderNo)
		}
		return nos
	}

	all, err := s.Orders(ctx, agent.OrderFilter{})
	require.NoError(t, err)
	assert.Equal(t, []string{"D", "C", "B", "A", "OLD"}, numbers(all))

	two, err := s.Orders(ctx, agent.OrderFilter{Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"D", "C"}, numbers(two))

	// From inclusive, To exclusive, on Created.
	mid, err := s.Orders(ctx, agent.OrderFilter{From: t0, To: t0.Add(2 * time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, []string{"C", "B", "A"}, numbers(mid))
	mid, err = s.Orders(ctx, agent.OrderFilter{From: t0.Add(time.Minute), To: t0.Add(2 * time.Minute), Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{"C"}, numbers(mid))
	old, err := s.Orders(ctx, agent.OrderFilter{To: t0})
	require.NoError(t, err)
	assert.Equal(t, []string{"OLD"}, numbers(old))
	none, err := s.Orders(ctx, agent.OrderFilter{From: t0.Add(time.Hour)})
	require.NoError(t, err)
	assert.Empty(t, none)

	// The creation time is part of the order's identity.
	_, err = s.UpdateOrder(ctx, "A", func(o *agent.Order) error {
		o.Created = t0.Add(time.Hour)
		return nil
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "created")
	all, err = s.Orders(ctx, agent.OrderFilter{Limit: -1})
	require.NoError(t, err)
	assert.Equal(t, []string{"D", "C", "B", "A", "OLD"}, numbers(all))
}

func TestNextSequenceIsDurable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := offline.Open(path)
	require.NoError(t, err)
	for want := uint64(1); want <= 3; want++ {
		n, err := s.NextSequence(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, n)
	}
	require.NoError(t, s.Close())

	s = openStore(t, path)
	n, err := s.NextSequence(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(4), n)
}

func TestTokenRoundTrip(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := offline.Open(path)
	require.NoError(t, err)

	_, ok, err := s.LoadToken(ctx)
	require.NoError(t, err)
	assert.False(t, ok)

	// Only LastCall set: what the token manager saves before its first call.
	require.NoError(t, s.SaveToken(ctx, agent.Token{LastCall: t0}))
	tok, ok, err := s.LoadToken(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, agent.Token{LastCall: t0}, tok)

	want := agent.Token{Value: "tok-1", Expires: t0.Add(2 * time.Hour), LastCall: t0}
	require.NoError(t, s.SaveToken(ctx, want))
	require.NoError(t, s.Close())

	s = openStore(t, path)
	tok, ok, err = s.LoadToken(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, want, tok)
}

func TestCancelledContext(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, s.CreateOrder(ctx, payment("X", t0)), context.Canceled)
	_, err := s.NextSequence(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, s.SaveToken(ctx, agent.Token{}), context.Canceled)
	_, err = s.Order(t.Context(), "X")
	assert.ErrorIs(t, err, agent.ErrOrderNotFound, "nothing was written")
}

func TestOpenLockedByAnotherHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	first, err := offline.Open(path)
	require.NoError(t, err)

	// flock locks belong to the open file, so a second Open in this process
	// is refused just like one from kioskctl while the kiosk runs.
	_, err = offline.Open(path, offline.WithLockTimeout(0))
	require.ErrorIs(t, err, offline.ErrLocked)
	assert.Contains(t, err.Error(), "in use by another process")
	assert.Contains(t, err.Error(), path)

	_, err = offline.Open(path, offline.WithLockTimeout(120*time.Millisecond))
	require.ErrorIs(t, err, offline.ErrLocked)

	require.NoError(t, first.Close())
	openStore(t, path, offline.WithLockTimeout(0))
}

// damagedFiles builds the contents of files Open must refuse.
func damagedFiles(t *testing.T) map[string][]byte {
	t.Helper()
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}

	good := filepath.Join(t.TempDir(), "good.db")
	s, err := offline.Open(good)
	require.NoError(t, err)
	for i := range 200 {
		require.NoError(t, s.CreateOrder(t.Context(), payment(fmt.Sprintf("K%06d", i), t0.Add(time.Duration(i)*time.Second))))
	}
	require.NoError(t, s.Close())
	whole, err := os.ReadFile(good)
	require.NoError(t, err)
	page := os.Getpagesize()
	require.Greater(t, len(whole), 4*page)

	return map[string][]byte{
		"zero-length": {},
		"garbage":     garbage,
		"short text":  []byte("orders.csv\n"),
		// Every bbolt file has at least four pages; the header survives.
		"truncated to 3 pages": whole[:3*page],
		"truncated by half":    whole[:len(whole)/2],
	}
}

func TestOpenRefusesDamagedFileAndLeavesItAlone(t *testing.T) {
	for name, content := range damagedFiles(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kiosk.db")
			require.NoError(t, os.WriteFile(path, content, 0o600))

			s, err := offline.Open(path)
			if s != nil {
				_ = s.Close()
			}
			require.ErrorIs(t, err, offline.ErrNotStore)
			assert.Contains(t, err.Error(), path)
			t.Log(err)

			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, content, after, "file must be left exactly as it was")
		})
	}
}

func TestOpenRefusesAnotherProgramsBoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("settings"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}))
	require.NoError(t, db.Close())
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	_, err = offline.Open(path)
	require.ErrorIs(t, err, offline.ErrNotStore)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[uint64]bool{}
	)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				n, err := s.NextSequence(ctx)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				assert.False(t, seen[n], "sequence %d returned twice", n)
				seen[n] = true
				mu.Unlock()
				assert.NoError(t, s.CreateOrder(ctx, payment(fmt.Sprintf("G%d-%d", g, i), t0.Add(time.Duration(n)))))
				_, err = s.Orders(ctx, agent.OrderFilter{Limit: 5})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	all, err := s.Orders(ctx, agent.OrderFilter{})
	require.NoError(t, err)
	assert.Len(t, all, 80)
	require.NoError(t, s.CheckAll(ctx), "indexes in step after concurrent writes")
	assert.Len(t, seen, 80)
}
