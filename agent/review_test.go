package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/agenttest"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// inReview makes a payment whose reply was lost and lets the reconciler
// give up on it while the platform keeps saying "processing":
// needs_review, charged on the platform.
func inReview(t *testing.T, r *rig, sw *agenttest.NetSwitch) agent.Order {
	t.Helper()
	ctx := context.Background()
	r.Service = r.NewService(r.Store, func(o *agent.Options) { o.Reconcile.GiveUpAfter = time.Hour })
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 7_00})
	require.Error(t, err)
	r.giveUp(t, o.OrderNo)
	return o
}

func TestResolveAReview(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	o := inReview(t, r, &sw)

	_, err := r.Service.Resolve(ctx, o.OrderNo, agent.StatePaid, "  ")
	require.Error(t, err, "a note is required")

	_, err = r.Service.Resolve(ctx, o.OrderNo, agent.StateVoided, "customer says not charged")
	var re *agent.ResolveError
	require.ErrorAs(t, err, &re, "the platform charged it")
	assert.Equal(t, onecard.StatusPaid, re.Platform)
	assert.Equal(t, []agent.OrderState{agent.StatePaid, agent.StateOrphanCharged}, re.Fits)
	assert.Contains(t, err.Error(), "resolve it as paid or orphan_charged")
	assert.Equal(t, agent.StateNeedsReview, r.state(t, o.OrderNo).State, "nothing changed")

	// The student never got the meal: it is refunded at once.
	got, err := r.Service.Resolve(ctx, o.OrderNo, agent.StateOrphanCharged, "technician Li: no receipt printed, refund")
	require.NoError(t, err)
	assert.Equal(t, agent.StateOrphanRefunded, got.State)
	assert.NotEmpty(t, got.OutID, "from pay.query")
	require.Len(t, got.History, 5, "sending, unknown, needs_review, orphan_charged, orphan_refunded")
	assert.Contains(t, got.History[3].Note, "technician Li")
	_, err = r.Service.ReconcileAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StateOrphanRefunded, r.state(t, o.OrderNo).State)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal, "charged once, refunded once")

	_, err = r.Service.Resolve(ctx, o.OrderNo, agent.StatePaid, "again")
	assert.ErrorIs(t, err, agent.ErrNotInReview)
}

func TestResolveNeedsThePlatform(t *testing.T) {
	ctx := context.Background()
	var sw agenttest.NetSwitch
	r := newRig(t, agenttest.WrapTransport(sw.Wrap))
	o := inReview(t, r, &sw)
	sw.Down.Store(true)
	_, err := r.Service.Resolve(ctx, o.OrderNo, agent.StatePaid, "looked at the platform's console")
	require.Error(t, err)
	assert.Equal(t, agent.StateNeedsReview, r.state(t, o.OrderNo).State, "no resolution without the platform's word")

	sw.Down.Store(false)
	r.Clock.Advance(3 * time.Minute) // the token method's interval
	got, err := r.Service.Resolve(ctx, o.OrderNo, agent.StatePaid, "looked at the platform's console")
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, got.State)
}

// A review is never ended from the platform's answer about another
// purchase under the same number: no state fits, and the order stays for
// the card office.
func TestResolveRefusesAnotherPurchase(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	o := r.orphan(t, sim.DemoNormal, 5_00, false)
	r.charge(t, o.OrderNo, sim.DemoNormal, 6_00)
	_, err := r.Store.UpdateOrder(ctx, o.OrderNo, func(p *agent.Order) error {
		return p.To(agent.StateNeedsReview, r.Clock.Now(), "test: the bill disagreed")
	})
	require.NoError(t, err)
	_, err = r.Service.Resolve(ctx, o.OrderNo, agent.StatePaid, "technician: looks paid")
	var re *agent.ResolveError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Mismatch, "amount: journal 5.00, platform 6.00")
	assert.Equal(t, agent.StateNeedsReview, r.state(t, o.OrderNo).State)
}
