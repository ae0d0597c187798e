package agent_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/agenttest"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
)

// The tests in this file are the money lifecycle's rules, one each, as an
// auditor broke them: refunds, reconciler passes, long outages and clock
// trouble against a platform that protects nothing.

// refundedBy sums what the platform refunded of payment no.
func refundedBy(simulator *sim.Server, no string) money.Fen {
	var sum money.Fen
	for _, tx := range simulator.Transactions() {
		if tx.Kind == sim.KindRefund && tx.RefundOf == no && tx.Status == onecard.StatusPaid {
			sum += tx.Amount
		}
	}
	return sum
}

// Rule: a payment's refundable amount counts refunds that are sending or
// unknown as spent, and no refund of a payment starts while one of it is
// unconfirmed.
func TestRuleNoSecondRefundWhileOneIsUnconfirmed(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	pay, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 10_00})
	require.NoError(t, err)

	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodRefund, Times: 1})
	first, err := r.Service.Refund(ctx, pay.OrderNo, 5_00, "")
	require.Error(t, err)
	require.Equal(t, agent.StateUnknown, first.State, "the reply was lost")

	_, err = r.Service.Refund(ctx, pay.OrderNo, 5_00, "")
	var blocked *agent.RefundBlockedError
	require.ErrorAs(t, err, &blocked, "a second refund while the first is unconfirmed")
	require.Len(t, blocked.Pending, 1)
	assert.Equal(t, first.OrderNo, blocked.Pending[0].OrderNo)
	assert.Contains(t, err.Error(), first.OrderNo)
	assert.Equal(t, 1, r.Simulator.Stats().Refunds, "nothing more was sent")

	r.Clock.Advance(time.Minute)
	_, err = r.Service.ReconcileAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, money.Fen(5_00), refundedBy(r.Simulator, pay.OrderNo), "the student got 5.00 back, once")
	p := r.state(t, pay.OrderNo)
	assert.Equal(t, agent.StatePartiallyRefunded, p.State)
	assert.Equal(t, money.Fen(5_00), p.Refunded)
	assert.Empty(t, p.PendingRefunds)

	// Settled: the rest may be refunded now, and no more than the rest.
	_, err = r.Service.Refund(ctx, pay.OrderNo, 5_01, "")
	var re *onecard.RequestError
	require.ErrorAs(t, err, &re)
	second, err := r.Service.Refund(ctx, pay.OrderNo, 5_00, "")
	require.NoError(t, err)
	assert.Equal(t, pay.OrderNo+"R2", second.OrderNo, "refund numbers derive from the payment's")
	assert.Equal(t, agent.StateRefunded, r.state(t, pay.OrderNo).State)
}

// Rule: "duplicate order number" on a refund's resend means the platform
// has it: never declined on that answer.
func TestRuleDuplicateOnARefundResendIsNotADecline(t *testing.T) {
	ctx := context.Background()
	// A platform whose pay.query knows payments only.
	r := newRig(t, agenttest.SimOptions(func(o *sim.Options) { o.QueryForgetsRefunds = true }))
	pay, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 10_00})
	require.NoError(t, err)
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodRefund, Times: 1})
	ref, err := r.Service.Refund(ctx, pay.OrderNo, 4_00, "")
	require.Error(t, err)
	require.Equal(t, agent.StateUnknown, ref.State)

	// pay.query answers 78; the resend is answered 60045.
	r.Clock.Advance(time.Minute)
	_, err = r.Service.ReconcileAll(ctx)
	require.NoError(t, err)
	got := r.state(t, ref.OrderNo)
	assert.Equal(t, agent.StateUnknown, got.State, "the platform has it: unconfirmed, never declined")
	assert.True(t, got.PlatformHas)
	assert.Equal(t, []string{ref.OrderNo}, r.state(t, pay.OrderNo).PendingRefunds, "the payment stays blocked")

	// Passes after that wait for the bill instead of resending for ever.
	sent := r.Simulator.Stats().Requests[onecard.MethodRefund]
	r.Clock.Advance(time.Hour)
	_, err = r.Service.ReconcileAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, sent, r.Simulator.Stats().Requests[onecard.MethodRefund])

	// The day's bill shows the refund done: credited, exactly once.
	day := r.Clock.Now().In(r.Simulator.Location()).Format(onecard.BillDateLayout)
	_, err = r.Service.ReconcileBill(ctx, day)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, r.state(t, ref.OrderNo).State)
	p := r.state(t, pay.OrderNo)
	assert.Equal(t, money.Fen(4_00), p.Refunded)
	assert.Equal(t, agent.StatePartiallyRefunded, p.State)
	assert.Equal(t, money.Fen(4_00), refundedBy(r.Simulator, pay.OrderNo))
}

// crashAfter is a journal that dies after a number of commits: every write
// after that fails and reaches nothing, as if the process had been killed
// right after its last commit.
type crashAfter struct {
	agent.Journal
	mu   sync.Mutex
	left int
}

var errKilled = errors.New("killed")

func (c *crashAfter) commit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left <= 0 {
		return errKilled
	}
	c.left--
	return nil
}

func (c *crashAfter) CreateOrder(ctx context.Context, o agent.Order) error {
	if err := c.commit(); err != nil {
		return err
	}
	return c.Journal.CreateOrder(ctx, o)
}

func (c *crashAfter) UpdateOrder(ctx context.Context, no string, fn func(*agent.Order) error) (agent.Order, error) {
	if err := c.commit(); err != nil {
		return agent.Order{}, err
	}
	return c.Journal.UpdateOrder(ctx, no, fn)
}

func (c *crashAfter) Update(ctx context.Context, fn func(agent.JournalTx) error) error {
	if err := c.commit(); err != nil {
		return err
	}
	return c.Journal.Update(ctx, fn)
}

func (c *crashAfter) NextOrderStamp(ctx context.Context, now time.Time) (agent.OrderStamp, error) {
	if err := c.commit(); err != nil {
		return agent.OrderStamp{}, err
	}
	return c.Journal.NextOrderStamp(ctx, now)
}

// Rule: a refund and its payment's refunded amount change in one
// transaction. The process is killed after every commit of a refund's life
// in turn; after a restart and reconciliation the journal always agrees
// with the platform, and a further refund can never pay out twice.
func TestRuleRefundAndItsPaymentCommitTogether(t *testing.T) {
	ctx := context.Background()
	for commits := 0; ; commits++ {
		r := newRig(t)
		pay, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 10_00})
		require.NoError(t, err)
		crash := &crashAfter{Journal: r.Store, left: commits}
		dying := agent.NewService(r.Service.Platform(), crash, r.Service.Options())
		_, refundErr := dying.Refund(ctx, pay.OrderNo, 10_00, "")

		// Restart on the same journal and settle.
		r.Clock.Advance(time.Minute)
		_, err = r.Service.ReconcileAll(ctx)
		require.NoError(t, err)
		p := r.state(t, pay.OrderNo)
		platform := refundedBy(r.Simulator, pay.OrderNo)
		assert.Equal(t, platform, p.Refunded, "after %d commits: the journal's refunded amount is the platform's", commits)
		assert.Empty(t, p.PendingRefunds, "after %d commits", commits)
		if platform == 10_00 {
			assert.Equal(t, agent.StateRefunded, p.State, "after %d commits", commits)
		}
		// A second full refund must not pass the local check if the first
		// went through.
		_, err = r.Service.Refund(ctx, pay.OrderNo, 10_00, "")
		if platform > 0 {
			require.Error(t, err, "after %d commits", commits)
		}
		assert.LessOrEqual(t, refundedBy(r.Simulator, pay.OrderNo), money.Fen(10_00), "after %d commits", commits)
		if refundErr == nil {
			break // the refund's whole life fitted in the commits allowed
		}
		require.Less(t, commits, 10)
	}
}

// meetingPoint holds the first pay.query at the transport until a second
// one arrives, so that two passes that could both act on the same order do
// so at once. When passes exclude each other the second cannot come while
// the first waits, and the first goes on after a short while: the only
// timed wait in these tests, for an event that must not happen.
type meetingPoint struct {
	queries atomic.Int32
	second  chan struct{}
}

func (m *meetingPoint) wrap(next http.RoundTripper) http.RoundTripper {
	return agenttest.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte("method="+onecard.MethodPayQuery)) {
			switch m.queries.Add(1) {
			case 1:
				select {
				case <-m.second:
				case <-time.After(300 * time.Millisecond):
				}
			case 2:
				close(m.second)
			}
		}
		return next.RoundTrip(req)
	})
}

// Rule: reconciler passes are mutually exclusive, and starting an orphan's
// refund is idempotent: however many passes find the orphan at once, it is
// refunded once.
func TestRuleConcurrentPassesRefundAnOrphanOnce(t *testing.T) {
	ctx := context.Background()
	meet := &meetingPoint{second: make(chan struct{})}
	// A platform that would take a second refund of the same charge.
	r := newRig(t, agenttest.WrapTransport(meet.wrap), agenttest.SimOptions(func(o *sim.Options) { o.RefundsUncapped = true }))
	orphan := r.orphan(t, sim.DemoNormal, 7_00, true)
	r.Clock.Advance(2 * time.Minute)
	day := r.Clock.Now().In(r.Simulator.Location()).Format(onecard.BillDateLayout)
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = r.Service.ReconcileOnce(ctx) }) // the background pass
	wg.Go(func() { _, _ = r.Service.ReconcileAll(ctx) })  // "reconcile now"
	wg.Go(func() { _, _ = r.Service.ReconcileBill(ctx, day) })
	wg.Wait()
	_, err := r.Service.ReconcileAll(ctx)
	require.NoError(t, err)
	got := r.state(t, orphan.OrderNo)
	assert.Equal(t, agent.StateOrphanRefunded, got.State)
	assert.Equal(t, 1, got.RefundsStarted, "one refund order")
	assert.Equal(t, money.Fen(7_00), refundedBy(r.Simulator, orphan.OrderNo), "refunded once")
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal)
}

// Rule: an order that was never sent is forwarded before any give-up clock
// can touch it, and give_up_after counts time the platform was reachable,
// not wall-clock time.
func TestRuleLongOutagesAndClockJumpsDoNotGiveUp(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	_, err := r.Service.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)

	// A lost reply, and an offline acceptance during a long weekend's outage.
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	unknown, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 3_00})
	require.Error(t, err)
	require.Equal(t, agent.StateUnknown, unknown.State)
	sw.Down.Store(true)
	accepted, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 5_00})
	require.NoError(t, err)
	require.Equal(t, agent.StateOfflineAccepted, accepted.State)
	for range 10 {
		r.Clock.Advance(10 * time.Hour) // 100 hours: past the 24-hour give-up
		_, _ = r.Service.ReconcileOnce(ctx)
	}
	sw.Down.Store(false)

	// And the clock jumps a year ahead (NTP fixing a stale clock).
	r.Clock.Advance(365 * 24 * time.Hour)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, r.state(t, accepted.OrderNo).State, "forwarded and charged")
	assert.Equal(t, agent.StatePaid, r.state(t, unknown.OrderNo).State, "settled")
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-8_00), bal)
}

// Rule: a payment the customer was told about that ended in review
// without reaching the platform can be resolved as offline_accepted, and
// is then forwarded.
func TestRuleAReviewedPaymentCanBeForwarded(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	o := r.acceptOffline(t, &sw, 2_00)
	_, err := r.Store.UpdateOrder(ctx, o.OrderNo, func(p *agent.Order) error {
		return p.To(agent.StateNeedsReview, r.Clock.Now(), "test: a schema-2 reconciler gave up on it")
	})
	require.NoError(t, err)

	_, err = r.Service.Resolve(ctx, o.OrderNo, agent.StatePaid, "the platform has it")
	var re *agent.ResolveError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Fits, agent.StateOfflineAccepted, "the customer was told: forwarding is offered")

	_, err = r.Service.Resolve(ctx, o.OrderNo, agent.StateOfflineAccepted, "technician Wang: the student took the meal; forward it")
	require.NoError(t, err)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, r.state(t, o.OrderNo).State)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-2_00), bal)
}

// Rule: an order's amount, account and out_id from the platform must match
// the journal's before it is settled; a mismatch is needs_review with both
// amounts, and the bill never refunds another purchase's charge.
func TestRuleSettleOnlyTheSamePurchase(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	// The platform already has this number, for another amount (a journal
	// restored from a backup once reused it).
	orphan := r.orphan(t, sim.DemoNormal, 5_00, false)
	r.charge(t, orphan.OrderNo, sim.DemoNormal, 7_00)
	_, err := r.Store.UpdateOrder(ctx, orphan.OrderNo, func(o *agent.Order) error {
		return o.To(agent.StateUnknown, r.Clock.Now(), "test: the customer was told it would be confirmed")
	})
	require.NoError(t, err)

	r.Clock.Advance(2 * time.Minute)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	got := r.state(t, orphan.OrderNo)
	assert.Equal(t, agent.StateNeedsReview, got.State, "never paid on another purchase's charge")
	note := got.History[len(got.History)-1].Note
	assert.Contains(t, note, "5.00")
	assert.Contains(t, note, "7.00")

	// A voided order whose number the bill shows charged for another
	// amount: a person looks, nothing is refunded.
	voided := r.orphan(t, sim.DemoNormal, 2_00, false)
	r.Clock.Advance(2 * time.Minute)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, agent.StateVoided, r.state(t, voided.OrderNo).State)
	r.charge(t, voided.OrderNo, sim.DemoNormal, 9_00)
	_, err = r.Service.ReconcileBill(ctx, r.Clock.Now().In(r.Simulator.Location()).Format(onecard.BillDateLayout))
	require.NoError(t, err)
	assert.Equal(t, agent.StateNeedsReview, r.state(t, voided.OrderNo).State)
	assert.Zero(t, r.Simulator.Stats().Refunds, "no other purchase's charge was refunded")
}

// Rule: an order number is never reused, even after the journal was
// restored from a backup and the clock set back.
func TestRuleOrderNumbersNeverRepeat(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	seen := map[string]bool{}
	take := func(svc *agent.Service, n int) {
		for range n {
			no, err := svc.NewOrderNo(ctx)
			require.NoError(t, err)
			require.False(t, seen[no], "order number %s used twice", no)
			seen[no] = true
		}
	}
	take(r.Service, 3)
	backup := filepath.Join(t.TempDir(), "backup.db")
	copyFile(t, r.Path, backup)
	r.Clock.Advance(30 * time.Second)
	take(r.Service, 5)
	r.Clock.Advance(-time.Hour) // the clock is set back
	take(r.Service, 5)

	// The journal is restored from the backup, and the clock is still back.
	reopen := func() *agent.Service {
		require.NoError(t, r.Store.Close())
		store, err := offline.Open(r.Path)
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		r.Store = store
		return r.NewService(store)
	}
	require.NoError(t, r.Store.Close())
	copyFile(t, backup, r.Path)
	r.Store, _ = offline.Open(r.Path)
	take(reopen(), 5)

	// A restart, more numbers, then a restore of the old backup: the
	// guard is ahead of the journal, which tells a restored file.
	take(reopen(), 5)
	require.NoError(t, r.Store.Close())
	copyFile(t, backup, r.Path)
	store, err := offline.Open(r.Path)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	_, restored := store.Restored()
	assert.True(t, restored, "the guard tells a restored journal")
	r.Store = store
	take(r.NewService(store), 5)
}

// Rule: the reconciler's own decisions stay safe when a request is
// processed after the terminal gave up on it. An orphan whose query
// overtook its request is voided, and refunded once the late charge shows
// on the bill; a payment the customer was told would be confirmed, then
// failed, and then charged by a late copy, is paid, as they were told.
func TestRuleLateRequestsAreSettledByTheBill(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	day := r.Clock.Now().In(r.Simulator.Location()).Format(onecard.BillDateLayout)

	// The process died while its request was held by the platform.
	held := r.orphan(t, sim.DemoNormal, 3_00, false)
	r.payHeld(t, held.OrderNo, sim.DemoNormal, 3_00)
	require.Equal(t, 1, r.Simulator.Held())
	r.Clock.Advance(2 * time.Minute)
	_, err := r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, agent.StateVoided, r.state(t, held.OrderNo).State, "the query overtook the request")
	require.Equal(t, 1, r.Simulator.ReleaseHeld())

	// Told "will be confirmed", declined on the resend, then a copy that a
	// platform processed late charged it after all (this simulator burns a
	// declined number; some platforms may not).
	failed := r.orphan(t, sim.DemoNormal, 4_00, false)
	for _, to := range []agent.OrderState{agent.StateUnknown, agent.StateFailedAfterOffline} {
		_, err = r.Store.UpdateOrder(ctx, failed.OrderNo, func(o *agent.Order) error {
			return o.To(to, r.Clock.Now(), "test: told it would be confirmed, then declined on a resend")
		})
		require.NoError(t, err)
	}
	r.charge(t, failed.OrderNo, sim.DemoNormal, 4_00)

	_, err = r.Service.ReconcileBill(ctx, day)
	require.NoError(t, err)
	assert.Equal(t, agent.StateOrphanRefunded, r.state(t, held.OrderNo).State, "the late charge went back")
	assert.Equal(t, agent.StatePaid, r.state(t, failed.OrderNo).State, "charged as the customer was told")
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-4_00), bal)
}

// Rule: the platform's time zone has one default, shared by the agent and
// the journal: a caller that sets neither still counts the per-card daily
// offline limit on one day.
func TestRuleOneDefaultZoneForTheDailyOfflineLimit(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	r.Clock.Advance(8 * time.Hour) // 20:00 UTC: the next day in CST
	svc := r.NewService(r.Store, func(o *agent.Options) { o.Location = nil })
	require.Equal(t, agent.DefaultLocation().String(), svc.Location().String())
	_, err := svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	sw.Down.Store(true)
	for _, amount := range []money.Fen{25_00, 10_00} { // 40.00 a card a day
		o, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: amount})
		require.NoError(t, err)
		require.Equal(t, agent.StateOfflineAccepted, o.State)
	}
	_, err = svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 6_00})
	var refusal *agent.OfflineRefusal
	require.ErrorAs(t, err, &refusal, "35.00 + 6.00 is over the card's 40.00 a day")
	assert.Equal(t, agent.OfflineCardDay, refusal.Code)
}
