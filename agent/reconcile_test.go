package agent_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/agenttest"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orphan journals a payment as "sending" (the process died after writing
// it), optionally charging it at the platform first (it died after the
// request left).
func (r *rig) orphan(t *testing.T, account string, amount money.Fen, charge bool) agent.Order {
	t.Helper()
	ctx := context.Background()
	no, err := r.Service.NewOrderNo(ctx)
	require.NoError(t, err)
	now := r.Clock.Now()
	o := agent.Order{OrderNo: no, Kind: agent.KindPay, Account: account, AccType: "###", MercAcc: "100000",
		TermID: "17", Amount: amount, Created: now, Updated: now, State: agent.StateSending, LastSent: now, Attempts: 1,
		NextAttempt: now.Add(time.Minute)}
	require.NoError(t, r.Store.CreateOrder(ctx, o))
	if charge {
		r.charge(t, no, account, amount)
	}
	return o
}

// charge has the platform charge order number no directly, as a late or
// foreign request would, declines included.
func (r *rig) charge(t *testing.T, no, account string, amount money.Fen) {
	t.Helper()
	_, err := r.Service.Platform().Pay(context.Background(), onecard.PayRequest{OrderNo: no, Account: account, AccType: "###",
		MercAcc: "100000", Amount: amount, TermID: "17"})
	var be *onecard.BusinessError
	if err != nil && !errors.As(err, &be) {
		require.NoError(t, err, "the request reached the platform")
	}
}

// payHeld sends a pay request for order number no that the platform holds
// and processes only when the test releases it (sim.ReleaseHeld): the
// client gives up waiting first.
func (r *rig) payHeld(t *testing.T, no, account string, amount money.Fen) {
	t.Helper()
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultLate, Method: onecard.MethodPay, Times: 1, Delay: time.Hour})
	_, err := r.Service.Platform().Pay(context.Background(), onecard.PayRequest{OrderNo: no, Account: account, AccType: "###",
		MercAcc: "100000", Amount: amount, TermID: "17"})
	require.True(t, onecard.OutcomeUnknown(err), "the client gave up waiting: %v", err)
}

// acceptOffline takes a payment of amount while sw keeps the network down
// (the card seen online first), and plugs it back in.
func (r *rig) acceptOffline(t *testing.T, sw *agenttest.NetSwitch, amount money.Fen) agent.Order {
	t.Helper()
	ctx := context.Background()
	_, err := r.Service.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	sw.Down.Store(true)
	defer sw.Down.Store(false)
	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: amount})
	require.NoError(t, err)
	require.Equal(t, agent.StateOfflineAccepted, o.State)
	return o
}

func (r *rig) state(t *testing.T, no string) agent.Order {
	t.Helper()
	o, err := r.Store.Order(context.Background(), no)
	require.NoError(t, err)
	return o
}

func TestOrphansAfterACrash(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	charged := r.orphan(t, sim.DemoNormal, 700, true)
	notSent := r.orphan(t, sim.DemoNormal, 800, false)
	declined := r.orphan(t, sim.DemoLow, 900, true)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	require.Equal(t, money.Fen(100_00-700), bal)

	// Not yet: the requests might still be on their way.
	rep, err := r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Settled)

	r.Clock.Advance(2 * time.Minute)
	rep, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StateOrphanRefunded, r.state(t, charged.OrderNo).State, "charged without the customer being told: refunded")
	assert.Equal(t, agent.StateVoided, r.state(t, notSent.OrderNo).State)
	assert.Equal(t, agent.StateDeclined, r.state(t, declined.OrderNo).State)
	assert.Zero(t, rep.Unfinished)
	bal, _ = r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal, "the student is out of nothing")
	_, sent := r.Simulator.Order(notSent.OrderNo)
	assert.False(t, sent, "a voided order is never sent")

	refund := r.state(t, r.state(t, charged.OrderNo).RefundOrderNo)
	assert.Equal(t, agent.KindRefund, refund.Kind)
	assert.Equal(t, agent.StatePaid, refund.State)
}

func TestOrphanRefundSurvivesItsOwnCrash(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	p := r.orphan(t, sim.DemoNormal, 700, true)
	// The refund of the orphan was journalled and then the process died
	// before sending it.
	r.Clock.Advance(2 * time.Minute)
	_, err := r.Store.UpdateOrder(ctx, p.OrderNo, func(o *agent.Order) error {
		o.RefundOrderNo, o.PendingRefunds, o.RefundsStarted = "0017REFUND0001", []string{"0017REFUND0001"}, 1
		return o.To(agent.StateOrphanCharged, r.Clock.Now(), "test")
	})
	require.NoError(t, err)
	now := r.Clock.Now()
	require.NoError(t, r.Store.CreateOrder(ctx, agent.Order{OrderNo: "0017REFUND0001", Kind: agent.KindRefund,
		RefundOf: p.OrderNo, Account: p.Account, AccType: "###", MercAcc: "100000", TermID: "17", Amount: 700,
		Created: now, Updated: now, State: agent.StateSending, LastSent: now, NextAttempt: now}))

	r.Clock.Advance(2 * time.Minute)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, r.state(t, "0017REFUND0001").State, "resent with its own number")
	assert.Equal(t, agent.StateOrphanRefunded, r.state(t, p.OrderNo).State)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal)
}

func TestReviewOrphansWhenConfigured(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.Service = agent.NewService(r.Service.Platform(), r.Store, agent.Options{
		Terminal:  agent.Terminal{TermID: "17", MercAcc: "100000"},
		Reconcile: agent.ReconcilePolicy{RequestTimeout: 2 * time.Second, ReviewOrphans: true},
		Location:  r.Simulator.Location(), Clock: r.Clock,
	})
	p := r.orphan(t, sim.DemoNormal, 700, true)
	r.Clock.Advance(2 * time.Minute)
	_, err := r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StateNeedsReview, r.state(t, p.OrderNo).State)
}

func TestOfflineAcceptanceAndForwarding(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	events := r.Service.Subscribe(t.Context())

	_, err := r.Service.QueryCard(ctx, agent.Identity{Type: "sno", ID: "2024000001"}) // caches 100001
	require.NoError(t, err)
	sw.Down.Store(true)

	first, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 12_00})
	require.NoError(t, err, "the first payment finds the network down and is accepted offline")
	assert.Equal(t, agent.StateOfflineAccepted, first.State)
	ev := <-events
	assert.Equal(t, agent.EventOffline, ev.Kind)
	online, _ := r.Service.Online()
	assert.False(t, online)

	lookup, err := r.Service.LookupCard(ctx, agent.Identity{Type: "sno", ID: "2024000001"})
	require.NoError(t, err, "the cache answers while offline")
	require.Len(t, lookup.Cards, 1)
	assert.True(t, lookup.Cards[0].Cached)
	assert.Equal(t, sim.DemoNormal, lookup.Cards[0].Account)
	assert.Equal(t, "张*", lookup.Cards[0].Name)

	refusals := []struct {
		name string
		in   agent.PayInput
	}{
		{"over the per-payment limit", agent.PayInput{Account: sim.DemoNormal, Amount: 30_01}},
		{"card never seen online", agent.PayInput{Account: sim.DemoRich, Amount: 1_00}},
	}
	for _, c := range refusals {
		o, err := r.Service.Pay(ctx, c.in)
		var refusal *agent.OfflineRefusal
		assert.ErrorAs(t, err, &refusal, c.name)
		// What the customer was told is journalled, like every outcome.
		assert.Equal(t, agent.StateVoided, o.State, c.name)
		assert.Equal(t, agent.OfflineRefusedCode, o.Code, c.name)
		assert.Equal(t, agent.StateVoided, r.state(t, o.OrderNo).State, c.name)
	}
	second, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 20_00})
	require.NoError(t, err)
	assert.Equal(t, agent.StateOfflineAccepted, second.State)
	_, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 9_00})
	var refusal *agent.OfflineRefusal
	require.ErrorAs(t, err, &refusal, "40.00 a card a day")

	// Nothing reached the platform while the network was down.
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal)

	sw.Down.Store(false)
	rep, err := r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Len(t, rep.Settled, 2)
	assert.Equal(t, agent.StatePaid, r.state(t, first.OrderNo).State)
	assert.Equal(t, agent.StatePaid, r.state(t, second.OrderNo).State)
	bal, _ = r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-32_00), bal, "each accepted payment charged exactly once")
	ev = <-events
	assert.Equal(t, agent.EventOnline, ev.Kind)
}

func TestOfflineAcceptedThenDeclined(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	o := r.acceptOffline(t, &sw, 30_00)

	// Meanwhile the student spent nearly everything elsewhere.
	_, err := r.Service.Platform().Pay(ctx, onecard.PayRequest{OrderNo: "elsewhere-1", Account: sim.DemoNormal,
		AccType: "###", MercAcc: "200000", Amount: 90_00, TermID: "18"})
	require.NoError(t, err)

	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	got := r.state(t, o.OrderNo)
	assert.Equal(t, agent.StateFailedAfterOffline, got.State)
	assert.Equal(t, onecard.RetcodeInsufficient, got.Code)
}

// giveUp makes the platform answer "processing" for order no until the
// reconciler has spent its give-up time asking: needs_review.
func (r *rig) giveUp(t *testing.T, no string) {
	t.Helper()
	ctx := context.Background()
	r.Simulator.SetProcessingFor(10_000 * time.Hour)
	defer r.Simulator.SetProcessingFor(0)
	for i := 0; r.state(t, no).State != agent.StateNeedsReview; i++ {
		require.Less(t, i, 2000, "the reconciler never gives up")
		r.Clock.Advance(2 * time.Minute)
		_, err := r.Service.ReconcileOnce(ctx)
		require.NoError(t, err)
	}
}

func TestGiveUpBecomesNeedsReview(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	r.Service = r.NewService(r.Store, func(o *agent.Options) { o.Reconcile.GiveUpAfter = 2 * time.Hour })
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00})
	require.Error(t, err)
	require.Equal(t, agent.StateUnknown, o.State)

	sw.Down.Store(true)
	r.Clock.Advance(time.Minute)
	_, err = r.Service.ReconcileOnce(ctx)
	require.Error(t, err, "the platform is unreachable")
	got := r.state(t, o.OrderNo)
	assert.Equal(t, agent.StateUnknown, got.State)
	assert.True(t, got.NextAttempt.After(r.Clock.Now()), "backed off")
	assert.NotEmpty(t, got.LastError)
	sw.Down.Store(false)

	start := r.Clock.Now()
	r.giveUp(t, o.OrderNo)
	got = r.state(t, o.OrderNo)
	assert.GreaterOrEqual(t, r.Clock.Now().Sub(start), 2*time.Hour, "the platform answered for the whole give-up time")
	require.NotEmpty(t, got.History)
	assert.Equal(t, agent.StateNeedsReview, got.History[len(got.History)-1].To, "never deleted, handed to a person")
}

func TestReconcileAsksFiftyAtATime(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 120})
	for range 120 {
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 1})
		require.Error(t, err)
		require.Equal(t, agent.StateUnknown, o.State)
	}
	before := r.Simulator.Stats().Requests[onecard.MethodPayQuery]
	r.Clock.Advance(time.Minute)
	rep, err := r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Len(t, rep.Settled, 120)
	assert.Zero(t, rep.Unfinished)
	assert.Equal(t, before+3, r.Simulator.Stats().Requests[onecard.MethodPayQuery])
}

func TestIllegalTransitionsAreRefused(t *testing.T) {
	assert.NoError(t, agent.CheckTransition(agent.StateSending, agent.StatePaid))
	assert.NoError(t, agent.CheckTransition(agent.StatePaid, agent.StatePaid))
	for _, c := range [][2]agent.OrderState{
		{agent.StatePaid, agent.StateVoided},
		{agent.StateVoided, agent.StatePaid},
		{agent.StateOfflineAccepted, agent.StateVoided},
		{agent.StateUnknown, agent.StateVoided},
		{agent.StateRefunded, agent.StatePaid},
	} {
		assert.ErrorIs(t, agent.CheckTransition(c[0], c[1]), agent.ErrIllegalTransition, "%s → %s", c[0], c[1])
	}
	o := agent.Order{OrderNo: "x", State: agent.StatePaid}
	assert.Error(t, o.To(agent.StateSending, time.Now(), ""))
	assert.Equal(t, agent.StatePaid, o.State)
}

// The refund of an orphan went through, and the process died before the
// payment was marked: the next pass finishes it.
func TestOrphanFinishedAfterItsRefundSettled(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	p := r.orphan(t, sim.DemoNormal, 700, true)
	r.Clock.Advance(2 * time.Minute)
	_, err := r.Store.UpdateOrder(ctx, p.OrderNo, func(o *agent.Order) error {
		o.RefundOrderNo = "0017REFUND0002"
		return o.To(agent.StateOrphanCharged, r.Clock.Now(), "test")
	})
	require.NoError(t, err)
	now := r.Clock.Now()
	require.NoError(t, r.Store.CreateOrder(ctx, agent.Order{OrderNo: "0017REFUND0002", Kind: agent.KindRefund,
		RefundOf: p.OrderNo, Account: p.Account, AccType: "###", MercAcc: "100000", TermID: "17", Amount: 700,
		Created: now, Updated: now, State: agent.StateSending, LastSent: now, NextAttempt: now.Add(time.Hour)}))
	_, err = r.Store.UpdateOrder(ctx, "0017REFUND0002", func(o *agent.Order) error {
		return o.To(agent.StatePaid, now, "test: settled, then the process died")
	})
	require.NoError(t, err)

	_, err = r.Service.ReconcileAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StateOrphanRefunded, r.state(t, p.OrderNo).State)
	n, err := r.Store.UnfinishedCount(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// txJournal is the rig's journal, counting its commits (an UpdateOrder, an
// Update) and able to fail a transaction part-way: when a transaction
// writes order failAt, hook runs first, and its error fails the write.
type txJournal struct {
	agent.Journal
	updateOrders, updates atomic.Int32
	failAt                string
	hook                  func() error
}

func (j *txJournal) UpdateOrder(ctx context.Context, no string, fn func(*agent.Order) error) (agent.Order, error) {
	j.updateOrders.Add(1)
	return j.Journal.UpdateOrder(ctx, no, fn)
}

func (j *txJournal) Update(ctx context.Context, fn func(agent.JournalTx) error) error {
	j.updates.Add(1)
	return j.Journal.Update(ctx, func(tx agent.JournalTx) error { return fn(hookedTx{tx, j}) })
}

type hookedTx struct {
	agent.JournalTx
	j *txJournal
}

func (t hookedTx) UpdateOrder(no string, fn func(*agent.Order) error) (agent.Order, error) {
	if no == t.j.failAt && t.j.hook != nil {
		if err := t.j.hook(); err != nil {
			return agent.Order{}, err
		}
	}
	return t.JournalTx.UpdateOrder(no, fn)
}

// unknownOrders has n payments charged at the platform whose replies were
// lost (unknown in the journal), due for the reconciler, and returns them
// as the journal has them, in the order the reconciler takes them.
func (r *rig) unknownOrders(t *testing.T, n int) []agent.Order {
	t.Helper()
	ctx := context.Background()
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: n})
	for range n {
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 1})
		require.Error(t, err)
		require.Equal(t, agent.StateUnknown, o.State)
	}
	r.Clock.Advance(time.Minute)
	due, err := r.Store.Due(ctx, r.Clock.Now(), 0)
	require.NoError(t, err)
	require.Len(t, due, n)
	return due
}

// settledEvents drains the settlement events published so far.
func settledEvents(events <-chan agent.Event) []agent.Event {
	var got []agent.Event
	for {
		select {
		case e := <-events:
			if e.Kind == agent.EventSettled {
				got = append(got, e)
			}
		default:
			return got
		}
	}
}

func TestReconcileSettlesEachQueryBatchInOneCommit(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	due := r.unknownOrders(t, 120)
	j := &txJournal{Journal: r.Store}
	svc := r.NewService(j)
	events := svc.Subscribe(t.Context())

	rep, err := svc.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Len(t, rep.Settled, 120)
	assert.Zero(t, rep.Unfinished)
	assert.Equal(t, int32(3), j.updates.Load(), "one transaction a pay.query batch of 50, 50 and 20")
	assert.Zero(t, j.updateOrders.Load(), "no order committed on its own")
	got := settledEvents(events)
	assert.NotEmpty(t, got, "published once committed")
	for _, e := range got {
		assert.Equal(t, agent.StatePaid, e.To, e.OrderNo)
	}
	for _, o := range due {
		assert.Equal(t, agent.StatePaid, r.state(t, o.OrderNo).State)
	}
}

// A transaction that fails part-way through a batch (the journal refusing
// one order's write, the pass cancelled) stores nothing of the batch and
// announces nothing: every order is as it was, still unfinished, and the
// next pass settles them all.
func TestReconcileBatchIsAllOrNothing(t *testing.T) {
	errDisk := errors.New("disk full")
	for _, c := range []struct {
		name string
		fail func(cancel context.CancelFunc) error
		want error
	}{
		{"the journal refuses one order", func(context.CancelFunc) error { return errDisk }, errDisk},
		{"the pass is cancelled", func(cancel context.CancelFunc) error { cancel(); return nil }, context.Canceled},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			due := r.unknownOrders(t, 120)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Mid-way through the first pay.query batch: 25 orders are
			// written in the transaction before it fails.
			j := &txJournal{Journal: r.Store, failAt: due[25].OrderNo, hook: func() error { return c.fail(cancel) }}
			svc := r.NewService(j)
			events := svc.Subscribe(t.Context())

			rep, err := svc.ReconcileOnce(ctx)
			require.ErrorIs(t, err, c.want)
			assert.Empty(t, rep.Settled, "nothing reported")
			assert.Empty(t, settledEvents(events), "nothing published")
			for _, o := range due {
				assert.Equal(t, o, r.state(t, o.OrderNo), "order %s unchanged", o.OrderNo)
			}
			n, err := r.Store.UnfinishedCount(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 120, n)

			rep, err = r.Service.ReconcileOnce(context.Background())
			require.NoError(t, err)
			assert.Len(t, rep.Settled, 120)
			for _, o := range due {
				assert.Equal(t, agent.StatePaid, r.state(t, o.OrderNo).State)
			}
			assert.Equal(t, 120, r.Simulator.Stats().Charges, "each charged once")
		})
	}
}

// An outage with many orders due backs them all off in one commit, and
// what needs no pay.query (give-up, a wait for a request's timeout) is one
// commit too.
func TestReconcileBacksOffInOneCommit(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	due := r.unknownOrders(t, 120)
	j := &txJournal{Journal: r.Store}
	svc := r.NewService(j)

	sw.Down.Store(true)
	_, err := svc.ReconcileOnce(ctx)
	require.Error(t, err, "the platform is unreachable")
	assert.Equal(t, int32(1), j.updates.Load(), "one transaction backs off every order")
	assert.Zero(t, j.updateOrders.Load())
	for _, o := range due {
		got := r.state(t, o.OrderNo)
		assert.Equal(t, agent.StateUnknown, got.State)
		assert.Equal(t, o.Attempts+1, got.Attempts)
		assert.True(t, got.NextAttempt.After(r.Clock.Now()), "backed off")
		assert.NotEmpty(t, got.LastError)
	}
	sw.Down.Store(false)

	// Ten orders past the give-up time and ten whose requests have just
	// left (the clock went back a little): no pay.query, one commit.
	now := r.Clock.Now()
	for i := range 20 {
		o := agent.Order{OrderNo: fmt.Sprintf("0017NOQUERY%04d", i), Kind: agent.KindPay, Account: sim.DemoRich, AccType: "###",
			MercAcc: "100000", TermID: "17", Amount: 1, Created: now, Updated: now, State: agent.StateUnknown,
			LastSent: now.Add(-time.Hour), NextAttempt: now, OnlineAge: 25 * time.Hour}
		if i >= 10 {
			o.LastSent, o.OnlineAge = now.Add(time.Second), 0
		}
		require.NoError(t, r.Store.CreateOrder(ctx, o))
	}
	j.updates.Store(0)
	events := svc.Subscribe(t.Context())
	queries := r.Simulator.Stats().Requests[onecard.MethodPayQuery]
	rep, err := svc.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, int32(1), j.updates.Load())
	assert.Zero(t, j.updateOrders.Load())
	assert.Equal(t, queries, r.Simulator.Stats().Requests[onecard.MethodPayQuery])
	assert.Len(t, rep.Settled, 10)
	assert.Len(t, settledEvents(events), 10)
	for i := range 20 {
		got := r.state(t, fmt.Sprintf("0017NOQUERY%04d", i))
		if i < 10 {
			assert.Equal(t, agent.StateNeedsReview, got.State)
			continue
		}
		assert.Equal(t, agent.StateUnknown, got.State)
		assert.Equal(t, got.LastSent.Add(3*time.Second), got.NextAttempt, "not before the request's timeout")
	}
}
