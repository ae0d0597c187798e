package agent_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/offline"
)

// unknownJournal prepares n payments the platform charged but the journal
// left unknown (the replies were lost), and returns the journal file; every
// benchmark iteration reconciles a fresh copy of it.
func unknownJournal(b *testing.B, r *rig, n int) string {
	b.Helper()
	ctx := context.Background()
	now := r.clock.Now()
	nos := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for no := range nos {
				if _, err := r.svc.Platform().Pay(ctx, onecard.PayRequest{OrderNo: no, Account: onecardtest.DemoRich,
					AccType: "###", MercAcc: "100000", Amount: 1, TermID: "17"}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range n {
		no := fmt.Sprintf("0017BENCH%010d", i)
		if err := r.store.CreateOrder(ctx, agent.Order{OrderNo: no, Kind: agent.KindPay, Account: onecardtest.DemoRich,
			AccType: "###", MercAcc: "100000", TermID: "17", Amount: 1, Created: now, Updated: now,
			State: agent.StateUnknown, LastSent: now.Add(-time.Hour), NextAttempt: now}); err != nil {
			b.Fatal(err)
		}
		nos <- no
	}
	close(nos)
	wg.Wait()
	path := filepath.Join(b.TempDir(), "unknown.db")
	copyFile(b, r.path, path) // every write above is committed: the file is whole
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
// settled order. Compare ns/order with BenchmarkReconcileUnknownOneByOne.
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
// call per order, then the same journal commit.
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
	r := newRig(b, nil)
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
		svc := r.service(store)
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
	r := newRig(b, nil)
	ctx := context.Background()
	pay, err := r.svc.Pay(ctx, agent.PayInput{Account: onecardtest.DemoRich, Amount: 100_000_00})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.svc.Refund(ctx, pay.OrderNo, 1, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefundFloorPay is BenchmarkRefund's floor: Service.Pay of the
// smallest amount.
func BenchmarkRefundFloorPay(b *testing.B) {
	r := newRig(b, nil)
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.svc.Pay(ctx, agent.PayInput{Account: onecardtest.DemoRich, Amount: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
