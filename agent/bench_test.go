package agent_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
)

// unknownJournal prepares n payments the platform charged but the journal
// left unknown (the replies were lost), and returns the journal file; every
// benchmark iteration reconciles a fresh copy of it.
func unknownJournal(b *testing.B, r *rig, n int) string {
	b.Helper()
	ctx := context.Background()
	now := r.Clock.Now()
	nos := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for no := range nos {
				if _, err := r.Service.Platform().Pay(ctx, onecard.PayRequest{OrderNo: no, Account: sim.DemoRich,
					AccType: "###", MercAcc: "100000", Amount: 1, TermID: "17"}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range n {
		no := fmt.Sprintf("0017BENCH%010d", i)
		if err := r.Store.CreateOrder(ctx, agent.Order{OrderNo: no, Kind: agent.KindPay, Account: sim.DemoRich,
			AccType: "###", MercAcc: "100000", TermID: "17", Amount: 1, Created: now, Updated: now,
			State: agent.StateUnknown, LastSent: now.Add(-time.Hour), NextAttempt: now}); err != nil {
			b.Fatal(err)
		}
		nos <- no
	}
	close(nos)
	wg.Wait()
	path := filepath.Join(b.TempDir(), "unknown.db")
	copyFile(b, r.Path, path) // every write above is committed: the file is whole
	return path
}

// copyFile copies a closed or fully committed database file, as a backup
// would.
func copyFile(b testing.TB, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReconcileUnknown settles 10,000 unknown orders against the
// in-process simulator: pay.query 50 orders a call, one journal commit per
// call's answers (the next call going out while they are committed).
// Compare ns/order with BenchmarkReconcileUnknownOneByOne, in the same run.
func BenchmarkReconcileUnknown(b *testing.B) {
	benchReconcile(b, 10_000, func(ctx context.Context, svc *agent.Service, _ *offline.Store) error {
		rep, err := svc.ReconcileOnce(ctx)
		if err == nil && rep.Unfinished != 0 {
			err = fmt.Errorf("%d orders left unfinished", rep.Unfinished)
		}
		return err
	})
}

// BenchmarkReconcileUnknownOneByOne is the naive approach: one pay.query
// call per order, then one journal commit per order.
func BenchmarkReconcileUnknownOneByOne(b *testing.B) {
	benchReconcile(b, 2_000, func(ctx context.Context, svc *agent.Service, store *offline.Store) error {
		due, err := store.Due(ctx, time.Now().AddDate(1, 0, 0), 0)
		if err != nil {
			return err
		}
		for _, o := range due {
			st, err := svc.Platform().QueryPayments(ctx, []onecard.PayQuery{{Account: o.Account, AccType: o.AccType, OrderNo: o.OrderNo}})
			if err != nil {
				return err
			}
			if _, err := store.UpdateOrder(ctx, o.OrderNo, func(p *agent.Order) error {
				p.OutID = st[0].OutID
				return p.To(agent.StatePaid, time.Now(), "pay.query")
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

func benchReconcile(b *testing.B, n int, reconcile func(context.Context, *agent.Service, *offline.Store) error) {
	r := newRig(b)
	src := unknownJournal(b, r, n)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), fmt.Sprintf("run%d.db", i))
		copyFile(b, src, path)
		store, err := offline.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		svc := r.NewService(store)
		b.StartTimer()
		if err := reconcile(ctx, svc, store); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/order")
}

// BenchmarkRefund is one confirmed partial refund through Service.Refund
// against the in-process simulator: the transaction that creates the
// refund and books it pending on its payment, the refund call, and the
// transaction that confirms it and credits the payment. Its floor,
// measured in the same run, is BenchmarkRefundFloorPay: a payment, which
// also makes two journal commits around one call.
func BenchmarkRefund(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	pay, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 100_000_00})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Service.Refund(ctx, pay.OrderNo, 1, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefundFloorPay is BenchmarkRefund's floor: Service.Pay of the
// smallest amount.
func BenchmarkRefundFloorPay(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSettleDay10k settles a day of 10,000 bill rows against a
// journal of a million other orders: download (crypt 1), parse, compare,
// act (nothing to do: every row matches) and save the report. Its floor,
// in the same run, is the download and parse of the same bill alone. The
// journal takes a minute or two to build, so the benchmark runs only when
// -bench names it: go test -run '^$' -bench SettleDay10k -benchmem ./agent/
func BenchmarkSettleDay10k(b *testing.B) {
	if pattern := flag.Lookup("test.bench").Value.String(); !strings.Contains(pattern, "SettleDay10k") {
		b.Skip("builds a journal of a million orders; run with -bench SettleDay10k")
	}
	r := newRig(b)
	r.Service = r.NewService(r.Store, func(o *agent.Options) { o.Settlement.Encrypted = true })
	ctx := context.Background()
	start := time.Now()
	// A million finished orders of other days, 50,000 a transaction.
	old := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	for lo := 0; lo < 1_000_000; lo += 50_000 {
		if err := r.Store.Update(ctx, func(tx agent.JournalTx) error {
			for i := lo; i < lo+50_000; i++ {
				at := old.Add(time.Duration(i) * 10 * time.Millisecond)
				if err := tx.CreateOrder(agent.Order{OrderNo: fmt.Sprintf("0017OLD%012d", i), Kind: agent.KindPay,
					Account: sim.DemoRich, AccType: "###", MercAcc: "100000", TermID: "17", Amount: 1,
					Created: at, Updated: at, State: agent.StatePaid, OutID: "OLD",
					History: []agent.Transition{{At: at, To: agent.StatePaid}}}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	// The day: 10,000 payments charged at the platform, then paid in the
	// journal (the platform first: a charge needs a token, whose saving
	// would wait for a long transaction).
	now := r.Clock.Now()
	dayNo := func(i int) string { return fmt.Sprintf("0017DAY%012d", i) }
	nos := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for no := range nos {
				if _, err := r.Service.Platform().Pay(ctx, onecard.PayRequest{OrderNo: no, Account: sim.DemoRich,
					AccType: "###", MercAcc: "100000", Amount: 1, TermID: "17"}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range 10_000 {
		nos <- dayNo(i)
	}
	close(nos)
	wg.Wait()
	if err := r.Store.Update(ctx, func(tx agent.JournalTx) error {
		for i := range 10_000 {
			if err := tx.CreateOrder(agent.Order{OrderNo: dayNo(i), Kind: agent.KindPay, Account: sim.DemoRich,
				AccType: "###", MercAcc: "100000", TermID: "17", Amount: 1, Created: now, Updated: now,
				State: agent.StatePaid, History: []agent.Transition{{At: now, To: agent.StatePaid}}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("built 1,000,000 + 10,000 orders in %s", time.Since(start).Round(time.Second))
	day := now.In(r.Simulator.Location()).Format(onecard.BillDateLayout)

	b.Run("floor: download and parse", func(b *testing.B) {
		for b.Loop() {
			bill, _, err := r.Service.Bill(ctx, onecard.BillRequest{Date: day, Type: onecard.BillAll, Encrypted: true})
			if err != nil || len(bill.Rows) != 10_000 {
				b.Fatal(err, len(bill.Rows))
			}
		}
	})
	b.Run("settle", func(b *testing.B) {
		for b.Loop() {
			rep, err := r.Service.Settle(ctx, day)
			if err != nil || rep.Counts[agent.BillMatched] != 10_000 {
				b.Fatal(err, rep.Counts)
			}
		}
	})
}
