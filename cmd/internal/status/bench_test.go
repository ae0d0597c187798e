package status_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/status"
)

// BenchmarkBoltCommitFloor is the floor of the hooks' benchmarks: one
// bbolt commit with fsync putting one 8-byte key, as in offline's
// benchmark of the same name. Every order write the Order hook sees has
// just paid at least this; every call the Call hook sees, a round trip.
func BenchmarkBoltCommitFloor(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "floor.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
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
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("bench")).Put(k[:], nil)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObserveOrder is the Order hook on the payment path: a payment
// settled sending → paid (a state change and a payment outcome counted).
func BenchmarkObserveOrder(b *testing.B) {
	m := status.NewMetrics()
	ctx := b.Context()
	now := time.Now()
	before := agent.Order{OrderNo: "001720261127120000000001", Kind: agent.KindPay, Account: sim.DemoNormal,
		Amount: 12_34, State: agent.StateSending, Attempts: 1, Created: now,
		History: []agent.Transition{{At: now, To: agent.StateSending}}}
	after := before
	after.State = agent.StatePaid
	after.History = append(after.History, agent.Transition{At: now, From: agent.StateSending, To: agent.StatePaid})
	change := agent.OrderChange{Before: &before, After: after}
	for b.Loop() {
		m.ObserveOrder(ctx, change)
	}
}

// BenchmarkObserveCall is the Call hook after a platform call: a
// successful payment (one histogram observation) and a declined one (and
// its error counted by method, code and kind).
func BenchmarkObserveCall(b *testing.B) {
	m := status.NewMetrics()
	b.Run("ok", func(b *testing.B) {
		ci := onecard.CallInfo{Method: onecard.MethodPay, Duration: 3 * time.Millisecond}
		for b.Loop() {
			m.ObserveCall(ci)
		}
	})
	b.Run("declined", func(b *testing.B) {
		ci := onecard.CallInfo{Method: onecard.MethodPay, Duration: 3 * time.Millisecond,
			Err: &onecard.BusinessError{Method: onecard.MethodPay, Retcode: onecard.RetcodeInsufficient}}
		for b.Loop() {
			m.ObserveCall(ci)
		}
	})
}

// BenchmarkScrape is one GET /metrics over loopback HTTP, body read: the
// Go and process collectors, the hooks' counters, and the gauges read from
// a journal with a few orders (one unfinished) at scrape time.
func BenchmarkScrape(b *testing.B) {
	r := newRig(b, rigOptions{})
	ctx := b.Context()
	svc := r.app.Service
	if _, err := svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal}); err != nil {
		b.Fatal(err)
	}
	for range 5 {
		if _, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00}); err != nil {
			b.Fatal(err)
		}
	}
	r.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	if _, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00}); !onecard.OutcomeUnknown(err) {
		b.Fatalf("want an unknown outcome, got %v", err)
	}
	for b.Loop() {
		resp, err := r.client.Get(r.url + "/metrics")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(errors.Join(err, errors.New(resp.Status)))
		}
		b.SetBytes(n)
	}
}
