package offline

import (
	"encoding/binary"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
)

var benchCreated = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// benchOrder is a payment as the agent journals it before sending: in
// sending, due for the reconciler a little after the request timeout.
func benchOrder(i int) agent.Order {
	created := benchCreated.Add(time.Duration(i) * time.Millisecond)
	return agent.Order{
		OrderNo: fmt.Sprintf("K17-20250314-%08d", i), Kind: agent.KindPay,
		Account: "20230001", AccType: "###", MercAcc: "1000001", TermID: "17",
		Amount: 1234, Created: created, Updated: created, State: agent.StateSending,
		NextAttempt: created.Add(30 * time.Second),
		Day:         "20250314",
		History:     []agent.Transition{{At: created, To: agent.StateSending, Note: "journalled"}},
	}
}

// settled is o as it ends up once the platform confirmed it.
func settled(o agent.Order) agent.Order {
	at := o.Created.Add(800 * time.Millisecond)
	o.Attempts, o.LastSent, o.OutID, o.Code = 1, o.Created, "T2025031400001", "0"
	o.NextAttempt, o.Outcome = time.Time{}, agent.Outcome{Kind: agent.OutcomePaid}
	_ = o.To(agent.StatePaid, at, "")
	return o
}

// BenchmarkJournalCreate is one durable CreateOrder per op on a real file:
// a bbolt commit with fsync, writing the record, its orders_by_created and
// its unfinished entry, and its state's count.
func BenchmarkJournalCreate(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		if err := s.CreateOrder(ctx, benchOrder(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJournalSettle is one durable UpdateOrder sending → paid per op:
// read, check, rewrite the record, remove its unfinished entry, move one
// order from sending's count to paid's. Creating the order to settle is not
// timed.
func BenchmarkJournalSettle(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		o := benchOrder(i)
		b.StopTimer()
		if err := s.CreateOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.UpdateOrder(ctx, o.OrderNo, func(o *agent.Order) error {
			*o = settled(*o)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltCommitFloor is the least a durable write costs on this
// file system: one bbolt commit putting one 8-byte key. The journal's time
// over this is the store's own overhead.
func BenchmarkBoltCommitFloor(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("bench"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	var k [8]byte
	var i uint64
	for b.Loop() {
		i++
		binary.BigEndian.PutUint64(k[:], i)
		if err := s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("bench")).Put(k[:], nil)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNextOrderStamp is one durable NextOrderStamp per op (a bbolt
// commit, and every seqBlock numbers the guard file written and synced
// first), beside the floor of one fsync'd commit in the same run.
func BenchmarkNextOrderStamp(b *testing.B) {
	b.Run("floor", BenchmarkBoltCommitFloor)
	b.Run("stamp", func(b *testing.B) {
		s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		ctx := b.Context()
		for b.Loop() {
			if _, err := s.NextOrderStamp(ctx, benchCreated); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchOpen is Open and Close of the file at path per op, with the
// start-up check.
func benchOpen(b *testing.B, path string) {
	for b.Loop() {
		s, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenEmpty is start-up on a new, empty journal.
func BenchmarkOpenEmpty(b *testing.B) {
	path := filepath.Join(b.TempDir(), "kiosk.db")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	benchOpen(b, path)
}

// BenchmarkOpen1MFinished is start-up on a journal of a million finished
// orders: the start-up check must not read them, so this should cost about
// what BenchmarkOpenEmpty does.
func BenchmarkOpen1MFinished(b *testing.B) {
	benchOpen(b, millionOrders(b, "Open1MFinished", 0))
}

// BenchmarkCheckAll1MFinished is `kioskctl db check` of a journal of a
// million finished orders: what every start-up would cost if Open still ran
// bbolt's full check.
func BenchmarkCheckAll1MFinished(b *testing.B) {
	s, err := Open(millionOrders(b, "CheckAll1MFinished", 0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if err := s.CheckAll(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDue is the reconciler's look for work in a journal of a million
// finished orders and 100 unfinished ones, all due.
func BenchmarkDue(b *testing.B) {
	s, err := Open(millionOrders(b, "Due", 100))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	now := benchCreated.Add(365 * 24 * time.Hour)
	for b.Loop() {
		due, err := s.Due(ctx, now, 100)
		if err != nil {
			b.Fatal(err)
		}
		if len(due) != 100 {
			b.Fatalf("%d orders due, want 100", len(due))
		}
	}
}

// BenchmarkStateCounts1M is the orders counted by state (the status
// endpoint's and diagnostics' figures) in a journal of a million finished
// orders and 100 unfinished ones: it reads the counts, not the orders.
func BenchmarkStateCounts1M(b *testing.B) {
	s, err := Open(millionOrders(b, "StateCounts1M", 100))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	for b.Loop() {
		counts, err := s.StateCounts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if counts[agent.StatePaid] != 1_000_000 || counts[agent.StateUnknown] != 100 {
			b.Fatalf("counts %v", counts)
		}
	}
}

// millionOrders builds, in b.TempDir(), a journal of 1,000,000 finished
// orders plus unfinished ones in unknown state, and returns its path. The
// build takes a minute or so and a few hundred MB, so the benchmark runs
// only when -bench names it (not with -bench .), and the file is built once
// per call of the benchmark function (b.Loop calls it once; -count N
// builds N times). Orders go in batches of 50,000 per transaction, through
// the journal's own write path but without an fsync per order.
func millionOrders(b *testing.B, name string, unfinished int) string {
	b.Helper()
	if pattern := flag.Lookup("test.bench").Value.String(); !strings.Contains(pattern, name) {
		b.Skipf("builds a file of a million orders; run with -bench %s", name)
	}
	const finished, batch = 1_000_000, 50_000
	path := filepath.Join(b.TempDir(), "kiosk.db")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	for lo := 0; lo < finished+unfinished; lo += batch {
		if err := s.db.Update(func(tx *bolt.Tx) error {
			j := s.journal(tx)
			for i := lo; i < min(lo+batch, finished+unfinished); i++ {
				o := settled(benchOrder(i))
				if i >= finished {
					o = benchOrder(i)
					_ = o.To(agent.StateUnknown, o.Created.Add(15*time.Second), "timeout")
				}
				raw, err := encodeOrder(o)
				if err != nil {
					return err
				}
				if err := j.create(o, raw); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	var size int64
	if err := s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d finished + %d unfinished orders in %s: %d MB",
		finished, unfinished, time.Since(start).Round(time.Second), size>>20)
	return path
}
