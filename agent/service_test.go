package agent_test

import (
	"context"
	"errors"
	"net/http"
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

// rig is agenttest's Rig as a type of this package, so that the tests can
// give it helpers (orphan, charge, state, platformDay, …).
type rig struct{ *agenttest.Rig }

func newRig(t testing.TB, opts ...agenttest.Option) *rig { return &rig{agenttest.NewRig(t, opts...)} }

func TestPayIsRecordedBeforeItLeaves(t *testing.T) {
	var r *rig
	var seen []agent.Order
	r = newRig(t, agenttest.WrapTransport(func(next http.RoundTripper) http.RoundTripper {
		return agenttest.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if orders, err := r.Store.Orders(req.Context(), agent.OrderFilter{Limit: 1}); err == nil && len(orders) > 0 {
				seen = append(seen, orders[0])
			}
			return next.RoundTrip(req)
		})
	}))
	ctx := context.Background()
	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1234})
	require.NoError(t, err)
	require.NotEmpty(t, seen, "the pay request went out")
	last := seen[len(seen)-1]
	assert.Equal(t, o.OrderNo, last.OrderNo)
	assert.Equal(t, agent.StateSending, last.State, "the order was on disk, as sending, when the request left")

	assert.Equal(t, agent.StatePaid, o.State)
	assert.NotEmpty(t, o.OutID)
	stored, err := r.Store.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, stored.State)
	assert.Equal(t, o.OutID, stored.OutID)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-1234), bal)
}

func TestPayOutcomes(t *testing.T) {
	ctx := context.Background()
	t.Run("declined", func(t *testing.T) {
		r := newRig(t)
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoLow, Amount: 51})
		require.Error(t, err)
		assert.True(t, onecard.Declined(err))
		assert.Equal(t, agent.StateDeclined, o.State)
		assert.Equal(t, onecard.RetcodeInsufficient, o.Code)
	})
	t.Run("unknown, then settled by the reconciler", func(t *testing.T) {
		r := newRig(t)
		r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 500})
		require.Error(t, err)
		assert.True(t, onecard.OutcomeUnknown(err))
		assert.Equal(t, agent.StateUnknown, o.State)
		tx, charged := r.Simulator.Order(o.OrderNo)
		require.True(t, charged, "the platform committed before dropping the reply")

		res, err := r.Service.Query(ctx, []string{o.OrderNo}, "", "")
		require.NoError(t, err)
		require.Len(t, res, 1)
		require.NotNil(t, res[0].Status)
		assert.Equal(t, onecard.StatusPaid, res[0].Status.Status)
		assert.Equal(t, agent.StateUnknown, res[0].Local.State, "a query only reports")

		r.Clock.Advance(time.Minute)
		rep, err := r.Service.ReconcileOnce(ctx)
		require.NoError(t, err)
		require.Len(t, rep.Settled, 1)
		assert.Equal(t, agent.StatePaid, rep.Settled[0].To)
		stored, err := r.Store.Order(ctx, o.OrderNo)
		require.NoError(t, err)
		assert.Equal(t, agent.StatePaid, stored.State)
		assert.Equal(t, tx.OutID, stored.OutID)
	})
	t.Run("never sent", func(t *testing.T) {
		r := newRig(t)
		r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropRequest, Method: onecard.MethodPay, Times: 1})
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 500})
		require.Error(t, err)
		// The connection closed after the request was written: the client
		// cannot tell a drop before processing from one after.
		assert.True(t, onecard.OutcomeUnknown(err))
		assert.Equal(t, agent.StateUnknown, o.State)
		_, charged := r.Simulator.Order(o.OrderNo)
		assert.False(t, charged)

		// The customer was told "will be confirmed": the reconciler finds
		// the platform never saw it and sends it again, same number.
		r.Clock.Advance(time.Minute)
		_, err = r.Service.ReconcileOnce(ctx)
		require.NoError(t, err)
		stored, err := r.Store.Order(ctx, o.OrderNo)
		require.NoError(t, err)
		assert.Equal(t, agent.StatePaid, stored.State)
		bal, _ := r.Simulator.Balance(sim.DemoNormal)
		assert.Equal(t, money.Fen(100_00-500), bal, "charged exactly once")
	})
	t.Run("invalid input is refused before anything is recorded", func(t *testing.T) {
		r := newRig(t)
		_, err := r.Service.Pay(ctx, agent.PayInput{Account: "12345678901", Amount: 100})
		var re *onecard.RequestError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "account", re.Field)
		orders, err := r.Store.Orders(ctx, agent.OrderFilter{})
		require.NoError(t, err)
		assert.Empty(t, orders)
	})
}

func TestTokenIsRenewedOnceAfter40017(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	_, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 100})
	require.NoError(t, err)
	require.Equal(t, 1, r.Simulator.Stats().TokenCalls)

	// Another holder of the app key takes a new token, voiding ours.
	r.Clock.Advance(3 * time.Minute)
	_, err = r.Client.AccessToken(ctx)
	require.NoError(t, err)
	r.Clock.Advance(3 * time.Minute)

	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 100})
	require.NoError(t, err, "40017 is answered with one fresh token and one retry")
	assert.Equal(t, agent.StatePaid, o.State)
	assert.Equal(t, 3, r.Simulator.Stats().TokenCalls)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-200), bal, "the retried payment is charged once")
}

func TestTokenCallsStayTwoMinutesApart(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	cardQuery := agent.Identity{Type: "acc", ID: sim.DemoNormal}
	_, err := r.Service.QueryCard(ctx, cardQuery)
	require.NoError(t, err)
	r.Clock.Advance(3 * time.Minute)
	_, err = r.Client.AccessToken(ctx) // another holder of the app key voids the agent's token
	require.NoError(t, err)
	r.Clock.Advance(30 * time.Second)
	calls := r.Simulator.Stats().TokenCalls

	// The agent's own last call is 3.5 minutes old, so it tries once; the
	// platform refuses (the other holder called 30 s ago).
	_, err = r.Service.QueryCard(ctx, cardQuery)
	var be *onecard.BusinessError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, onecard.RetcodeIntervalTooShort, be.Retcode)
	assert.Equal(t, calls+1, r.Simulator.Stats().TokenCalls)

	// Now the agent itself called less than two minutes ago: it refuses
	// locally and the platform sees nothing.
	_, err = r.Service.QueryCard(ctx, cardQuery)
	assert.ErrorIs(t, err, agent.ErrTokenRateLimited)
	assert.Equal(t, calls+1, r.Simulator.Stats().TokenCalls)

	r.Clock.Advance(2 * time.Minute)
	_, err = r.Service.QueryCard(ctx, cardQuery)
	require.NoError(t, err)
	assert.Equal(t, calls+2, r.Simulator.Stats().TokenCalls)
}

func TestRefunds(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	pay, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1000})
	require.NoError(t, err)

	_, err = r.Service.Refund(ctx, pay.OrderNo, 1001, "")
	var re *onecard.RequestError
	require.ErrorAs(t, err, &re, "more than the original is refused locally")

	first, err := r.Service.Refund(ctx, pay.OrderNo, 600, "")
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, first.State)
	assert.Equal(t, agent.KindRefund, first.Kind)
	assert.Equal(t, pay.OrderNo, first.RefundOf)
	assert.Equal(t, pay.Account, first.Account)

	p, err := r.Store.Order(ctx, pay.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePartiallyRefunded, p.State)
	assert.Equal(t, money.Fen(600), p.Refunded)

	_, err = r.Service.Refund(ctx, pay.OrderNo, 401, "")
	require.ErrorAs(t, err, &re, "the sum of refunds stays within the original")

	_, err = r.Service.Refund(ctx, pay.OrderNo, 400, "")
	require.NoError(t, err)
	p, err = r.Store.Order(ctx, pay.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, agent.StateRefunded, p.State)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal)

	_, err = r.Service.Refund(ctx, "no-such-order", 100, "")
	assert.ErrorIs(t, err, agent.ErrOrderNotFound, "a refund is never sent for an order the terminal does not know")
}

func TestQueryNeverSendsAnEmptyAccount(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	before := r.Simulator.Stats()
	res, err := r.Service.Query(ctx, []string{"001720261127000000000099"}, "", "")
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Nil(t, res[0].Local)
	assert.Nil(t, res[0].Status, "not asked")
	assert.Equal(t, before.Requests[onecard.MethodPayQuery], r.Simulator.Stats().Requests[onecard.MethodPayQuery])

	res, err = r.Service.Query(ctx, []string{"001720261127000000000099"}, sim.DemoNormal, "")
	require.NoError(t, err)
	require.NotNil(t, res[0].Status)
	assert.Equal(t, onecard.StatusNoOrder, res[0].Status.Status)
}

func TestQueryBatchesOfFifty(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	var nos []string
	for range 51 {
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 1})
		require.NoError(t, err)
		nos = append(nos, o.OrderNo)
	}
	before := r.Simulator.Stats().Requests[onecard.MethodPayQuery]
	res, err := r.Service.Query(ctx, nos, "", "")
	require.NoError(t, err)
	require.Len(t, res, 51)
	for _, q := range res {
		require.NotNil(t, q.Status)
		assert.Equal(t, onecard.StatusPaid, q.Status.Status, q.OrderNo)
	}
	assert.Equal(t, before+2, r.Simulator.Stats().Requests[onecard.MethodPayQuery])
}

func TestOrderNumbersAreUniqueAndShort(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	seen := map[string]bool{}
	for range 100 {
		no, err := r.Service.NewOrderNo(ctx)
		require.NoError(t, err)
		assert.Len(t, no, 24)
		assert.Equal(t, "0017", no[:4])
		assert.False(t, seen[no], no)
		seen[no] = true
	}
	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1, OrderNo: "fixed-1"})
	require.NoError(t, err)
	_, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1, OrderNo: o.OrderNo})
	assert.True(t, errors.Is(err, agent.ErrOrderExists), "a reused number is refused locally: %v", err)
}

func TestServiceExposesOptionsLocationAndClockOffset(t *testing.T) {
	r := newRig(t)
	o := r.Service.Options()
	assert.True(t, o.Offline.Enabled)
	assert.Equal(t, money.Fen(30_00), o.Offline.MaxAmount)
	assert.Equal(t, "17", o.Terminal.TermID)
	assert.Equal(t, r.Simulator.Location(), r.Service.Location())

	_, _, ok := r.Service.ClockOffset()
	assert.False(t, ok, "no reply yet")
	_, err := r.Service.Platform().Tokens().Info(context.Background())
	require.NoError(t, err)
	_, at, ok := r.Service.ClockOffset()
	require.True(t, ok, "the token reply carried a Date header")
	assert.Equal(t, r.Clock.Now(), at)
}
