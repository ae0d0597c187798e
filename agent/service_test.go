package agent_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// movableClock is shared by the agent and the simulator so that token
// intervals can be crossed without waiting.

type rig struct {
	simulator *sim.Server
	client    *onecard.Client
	store     *offline.Store
	svc       *agent.Service
	clock     *onecardtest.Clock
	path      string
}

// newRig wires a Service to a real simulator over loopback and a real bbolt
// file, sharing one movable clock.
func newRig(t testing.TB, wrap func(http.RoundTripper) http.RoundTripper, simOpts ...func(*sim.Options)) *rig {
	t.Helper()
	clock := onecardtest.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	simulator, client := onecardtest.NewTestPair(t, append([]func(*sim.Options){func(o *sim.Options) { o.Now = clock.Now }}, simOpts...)...)
	if wrap != nil {
		client = rewrapClient(t, simulator, clock, wrap)
	}
	path := filepath.Join(t.TempDir(), "kiosk.db")
	store, err := offline.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	r := &rig{simulator: simulator, client: client, store: store, clock: clock, path: path}
	r.svc = r.service(store)
	return r
}

// service builds the rig's Service over a journal; tune adjusts the
// options first.
func (r *rig) service(store *offline.Store, tune ...func(*agent.Options)) *agent.Service {
	opts := agent.Options{
		Terminal: agent.Terminal{TermID: "17", MercAcc: "100000"},
		Offline: agent.OfflinePolicy{Enabled: true, MaxAmount: 30_00, MaxTotal: 50_00, MaxCount: 3,
			MaxPerCardDay: 40_00, CardMaxAge: time.Hour},
		Reconcile: agent.ReconcilePolicy{Interval: time.Second, MaxInterval: time.Minute,
			GiveUpAfter: 24 * time.Hour, RequestTimeout: 2 * time.Second},
		Location: r.simulator.Location(),
		Clock:    r.clock,
		Jitter:   func() float64 { return 0.5 },
	}
	for _, f := range tune {
		f(&opts)
	}
	return agent.NewService(agent.NewPlatform(r.client, store, r.clock), store, opts)
}

// rewrapClient builds a client like NewTestPair's whose transport is
// wrapped, to observe what happens while a request is on its way.
func rewrapClient(t testing.TB, simulator *sim.Server, clock *onecardtest.Clock, wrap func(http.RoundTripper) http.RoundTripper) *onecard.Client {
	t.Helper()
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(secret)
	require.NoError(t, err)
	hc := onecard.NewHTTPClient(10*time.Second, nil)
	hc.Transport = wrap(hc.Transport)
	c, err := onecard.New(onecard.Config{URL: simulator.URL(), BillURL: simulator.BillURL(), AppKey: onecardtest.TestAppKey,
		Cipher: cipher, PrivateKey: clientPriv, PlatformKey: &platformPriv.PublicKey, Location: simulator.Location(),
		HTTPClient: hc, Now: clock.Now})
	require.NoError(t, err)
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPayIsRecordedBeforeItLeaves(t *testing.T) {
	var r *rig
	var seen []agent.Order
	r = newRig(t, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if orders, err := r.store.Orders(req.Context(), agent.OrderFilter{Limit: 1}); err == nil && len(orders) > 0 {
				seen = append(seen, orders[0])
			}
			return next.RoundTrip(req)
		})
	})
	ctx := context.Background()
	o, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1234})
	require.NoError(t, err)
	require.NotEmpty(t, seen, "the pay request went out")
	last := seen[len(seen)-1]
	assert.Equal(t, o.OrderNo, last.OrderNo)
	assert.Equal(t, agent.StateSending, last.State, "the order was on disk, as sending, when the request left")

	assert.Equal(t, agent.StatePaid, o.State)
	assert.NotEmpty(t, o.OutID)
	stored, err := r.store.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, stored.State)
	assert.Equal(t, o.OutID, stored.OutID)
	bal, _ := r.simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-1234), bal)
}

func TestPayOutcomes(t *testing.T) {
	ctx := context.Background()
	t.Run("declined", func(t *testing.T) {
		r := newRig(t, nil)
		o, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoLow, Amount: 51})
		require.Error(t, err)
		assert.True(t, onecard.Declined(err))
		assert.Equal(t, agent.StateDeclined, o.State)
		assert.Equal(t, onecard.RetcodeInsufficient, o.Code)
	})
	t.Run("unknown, then settled by the reconciler", func(t *testing.T) {
		r := newRig(t, nil)
		r.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
		o, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 500})
		require.Error(t, err)
		assert.True(t, onecard.OutcomeUnknown(err))
		assert.Equal(t, agent.StateUnknown, o.State)
		tx, charged := r.simulator.Order(o.OrderNo)
		require.True(t, charged, "the platform committed before dropping the reply")

		res, err := r.svc.Query(ctx, []string{o.OrderNo}, "", "")
		require.NoError(t, err)
		require.Len(t, res, 1)
		require.NotNil(t, res[0].Status)
		assert.Equal(t, onecard.StatusPaid, res[0].Status.Status)
		assert.Equal(t, agent.StateUnknown, res[0].Local.State, "a query only reports")

		r.clock.Advance(time.Minute)
		rep, err := r.svc.ReconcileOnce(ctx)
		require.NoError(t, err)
		require.Len(t, rep.Settled, 1)
		assert.Equal(t, agent.StatePaid, rep.Settled[0].To)
		stored, err := r.store.Order(ctx, o.OrderNo)
		require.NoError(t, err)
		assert.Equal(t, agent.StatePaid, stored.State)
		assert.Equal(t, tx.OutID, stored.OutID)
	})
	t.Run("never sent", func(t *testing.T) {
		r := newRig(t, nil)
		r.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropRequest, Method: onecard.MethodPay, Times: 1})
		o, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 500})
		require.Error(t, err)
		// The connection closed after the request was written: the client
		// cannot tell a drop before processing from one after.
		assert.True(t, onecard.OutcomeUnknown(err))
		assert.Equal(t, agent.StateUnknown, o.State)
		_, charged := r.simulator.Order(o.OrderNo)
		assert.False(t, charged)

		// The customer was told "will be confirmed": the reconciler finds
		// the platform never saw it and sends it again, same number.
		r.clock.Advance(time.Minute)
		_, err = r.svc.ReconcileOnce(ctx)
		require.NoError(t, err)
		stored, err := r.store.Order(ctx, o.OrderNo)
		require.NoError(t, err)
		assert.Equal(t, agent.StatePaid, stored.State)
		bal, _ := r.simulator.Balance(sim.DemoNormal)
		assert.Equal(t, money.Fen(100_00-500), bal, "charged exactly once")
	})
	t.Run("invalid input is refused before anything is recorded", func(t *testing.T) {
		r := newRig(t, nil)
		_, err := r.svc.Pay(ctx, agent.PayInput{Account: "12345678901", Amount: 100})
		var re *onecard.RequestError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "account", re.Field)
		orders, err := r.store.Orders(ctx, agent.OrderFilter{})
		require.NoError(t, err)
		assert.Empty(t, orders)
	})
}

func TestTokenIsRenewedOnceAfter40017(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	_, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 100})
	require.NoError(t, err)
	require.Equal(t, 1, r.simulator.Stats().TokenCalls)

	// Another holder of the app key takes a new token, voiding ours.
	r.clock.Advance(3 * time.Minute)
	_, err = r.client.AccessToken(ctx)
	require.NoError(t, err)
	r.clock.Advance(3 * time.Minute)

	o, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 100})
	require.NoError(t, err, "40017 is answered with one fresh token and one retry")
	assert.Equal(t, agent.StatePaid, o.State)
	assert.Equal(t, 3, r.simulator.Stats().TokenCalls)
	bal, _ := r.simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-200), bal, "the retried payment is charged once")
}

func TestTokenCallsStayTwoMinutesApart(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	cardQuery := agent.Identity{Type: "acc", ID: sim.DemoNormal}
	_, err := r.svc.QueryCard(ctx, cardQuery)
	require.NoError(t, err)
	r.clock.Advance(3 * time.Minute)
	_, err = r.client.AccessToken(ctx) // another holder of the app key voids the agent's token
	require.NoError(t, err)
	r.clock.Advance(30 * time.Second)
	calls := r.simulator.Stats().TokenCalls

	// The agent's own last call is 3.5 minutes old, so it tries once; the
	// platform refuses (the other holder called 30 s ago).
	_, err = r.svc.QueryCard(ctx, cardQuery)
	var be *onecard.BusinessError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, onecard.RetcodeIntervalTooShort, be.Retcode)
	assert.Equal(t, calls+1, r.simulator.Stats().TokenCalls)

	// Now the agent itself called less than two minutes ago: it refuses
	// locally and the platform sees nothing.
	_, err = r.svc.QueryCard(ctx, cardQuery)
	assert.ErrorIs(t, err, agent.ErrTokenRateLimited)
	assert.Equal(t, calls+1, r.simulator.Stats().TokenCalls)

	r.clock.Advance(2 * time.Minute)
	_, err = r.svc.QueryCard(ctx, cardQuery)
	require.NoError(t, err)
	assert.Equal(t, calls+2, r.simulator.Stats().TokenCalls)
}

func TestRefunds(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	pay, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1000})
	require.NoError(t, err)

	_, err = r.svc.Refund(ctx, pay.OrderNo, 1001, "")
	var re *onecard.RequestError
	require.ErrorAs(t, err, &re, "more than the original is refused locally")

	first, err := r.svc.Refund(ctx, pay.OrderNo, 600, "")
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, first.State)
	assert.Equal(t, agent.KindRefund, first.Kind)
	assert.Equal(t, pay.OrderNo, first.RefundOf)
	assert.Equal(t, pay.Account, first.Account)

	p, err := r.store.Order(ctx, pay.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, agent.StatePartiallyRefunded, p.State)
	assert.Equal(t, money.Fen(600), p.Refunded)

	_, err = r.svc.Refund(ctx, pay.OrderNo, 401, "")
	require.ErrorAs(t, err, &re, "the sum of refunds stays within the original")

	_, err = r.svc.Refund(ctx, pay.OrderNo, 400, "")
	require.NoError(t, err)
	p, err = r.store.Order(ctx, pay.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, agent.StateRefunded, p.State)
	bal, _ := r.simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal)

	_, err = r.svc.Refund(ctx, "no-such-order", 100, "")
	assert.ErrorIs(t, err, agent.ErrOrderNotFound, "a refund is never sent for an order the terminal does not know")
}

func TestQueryNeverSendsAnEmptyAccount(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	before := r.simulator.Stats()
	res, err := r.svc.Query(ctx, []string{"001720261127000000000099"}, "", "")
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Nil(t, res[0].Local)
	assert.Nil(t, res[0].Status, "not asked")
	assert.Equal(t, before.Requests[onecard.MethodPayQuery], r.simulator.Stats().Requests[onecard.MethodPayQuery])

	res, err = r.svc.Query(ctx, []string{"001720261127000000000099"}, sim.DemoNormal, "")
	require.NoError(t, err)
	require.NotNil(t, res[0].Status)
	assert.Equal(t, onecard.StatusNoOrder, res[0].Status.Status)
}

func TestQueryBatchesOfFifty(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	var nos []string
	for range 51 {
		o, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 1})
		require.NoError(t, err)
		nos = append(nos, o.OrderNo)
	}
	before := r.simulator.Stats().Requests[onecard.MethodPayQuery]
	res, err := r.svc.Query(ctx, nos, "", "")
	require.NoError(t, err)
	require.Len(t, res, 51)
	for _, q := range res {
		require.NotNil(t, q.Status)
		assert.Equal(t, onecard.StatusPaid, q.Status.Status, q.OrderNo)
	}
	assert.Equal(t, before+2, r.simulator.Stats().Requests[onecard.MethodPayQuery])
}

func TestOrderNumbersAreUniqueAndShort(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	seen := map[string]bool{}
	for range 100 {
		no, err := r.svc.NewOrderNo(ctx)
		require.NoError(t, err)
		assert.Len(t, no, 24)
		assert.Equal(t, "0017", no[:4])
		assert.False(t, seen[no], no)
		seen[no] = true
	}
	o, err := r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1, OrderNo: "fixed-1"})
	require.NoError(t, err)
	_, err = r.svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1, OrderNo: o.OrderNo})
	assert.True(t, errors.Is(err, agent.ErrOrderExists), "a reused number is refused locally: %v", err)
}

func TestServiceExposesOptionsLocationAndClockOffset(t *testing.T) {
	r := newRig(t, nil)
	o := r.svc.Options()
	assert.True(t, o.Offline.Enabled)
	assert.Equal(t, money.Fen(30_00), o.Offline.MaxAmount)
	assert.Equal(t, "17", o.Terminal.TermID)
	assert.Equal(t, r.simulator.Location(), r.svc.Location())

	_, _, ok := r.svc.ClockOffset()
	assert.False(t, ok, "no reply yet")
	_, err := r.svc.Platform().Tokens().Info(context.Background())
	require.NoError(t, err)
	_, at, ok := r.svc.ClockOffset()
	require.True(t, ok, "the token reply carried a Date header")
	assert.Equal(t, r.clock.Now(), at)
}
