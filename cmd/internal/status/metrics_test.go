package status_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// A few payments with every outcome a customer can be told, and faults of
// the platform, then one scrape: the counters, the histogram and the
// gauges say what happened, and no label names a card.
func TestMetricsCountPaymentsAndPlatformCalls(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()
	svc := r.app.Service
	pay := func(account string, amount money.Fen) (agent.Order, error) {
		return svc.Pay(ctx, agent.PayInput{Account: account, Amount: amount})
	}

	// The lookup fetches the token and caches the card for offline
	// acceptance.
	_, err := svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	o, err := pay(sim.DemoNormal, 1_00)
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, o.State)
	o, err = pay(sim.DemoLost, 1_00)
	require.True(t, onecard.Declined(err), "%v", err)
	require.Equal(t, agent.StateDeclined, o.State)
	r.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	o, err = pay(sim.DemoNormal, 2_00)
	require.True(t, onecard.OutcomeUnknown(err), "%v", err)
	require.Equal(t, agent.StateUnknown, o.State)
	r.simulator.InjectFault(sim.Fault{Kind: sim.FaultHTTP500, Method: onecard.MethodQueryCard, Times: 1})
	_, err = svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoRich})
	require.True(t, onecard.OutcomeUnknown(err), "%v", err)

	// The platform goes away. The payment that finds out is for a card
	// never seen online: refused, and journalled as such. The next, for
	// the card seen, is accepted offline without a call.
	r.unplug()
	o, err = pay(sim.DemoRich, 1_00)
	var refusal *agent.OfflineRefusal
	require.ErrorAs(t, err, &refusal)
	require.Equal(t, agent.StateVoided, o.State)
	o, err = pay(sim.DemoNormal, 3_00)
	require.NoError(t, err)
	require.Equal(t, agent.StateOfflineAccepted, o.State)
	// Known offline now: a refusal without a call, counted all the same.
	o, err = pay(sim.DemoNormal, 99_00)
	require.ErrorAs(t, err, &refusal)
	require.Equal(t, agent.StateVoided, o.State)

	f := r.scrape(t)

	for outcome, want := range map[string]float64{
		"paid": 1, "declined": 1, "unknown": 1, "refused_offline": 2, "offline_accepted": 1, "voided": 0,
	} {
		assert.Equal(t, want, f.value(t, "kiosk_payments_total", "outcome", outcome), outcome)
	}
	assert.Equal(t, 6.0, f.sum("kiosk_payments_total"))

	assert.Equal(t, 4.0, f.value(t, "kiosk_order_transitions_total", "kind", "pay", "from", "new", "to", "sending"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_order_transitions_total", "kind", "pay", "from", "new", "to", "offline_accepted"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_order_transitions_total", "kind", "pay", "from", "sending", "to", "voided"))

	// Every call is timed, failed or not: one token, two lookups, four
	// payments sent (the offline acceptance sent none).
	for method, want := range map[string]float64{"authorize.access_token": 1, "query.card": 2, "gdccard.pay": 4} {
		assert.Equal(t, want, f.value(t, "kiosk_platform_request_duration_seconds", "method", method), method)
	}
	h := f.series(t, "kiosk_platform_request_duration_seconds", "method", "gdccard.pay").GetHistogram()
	assert.Positive(t, h.GetSampleSum())
	buckets := h.GetBucket()
	require.NotEmpty(t, buckets)
	require.Greater(t, len(buckets), 1)
	assert.Equal(t, 120.0, buckets[len(buckets)-2].GetUpperBound(), "the last finite bucket holds the longest timeout")
	assert.Equal(t, uint64(4), buckets[len(buckets)-2].GetCumulativeCount())
	assert.Equal(t, uint64(4), buckets[len(buckets)-1].GetCumulativeCount(), "+Inf")
	assert.Equal(t, 0.0, f.value(t, "kiosk_platform_request_duration_seconds", "method", "gdccard.refund"))

	assert.Equal(t, 1.0, f.value(t, "kiosk_platform_errors_total", "method", "gdccard.pay", "code", onecard.RetcodeCardLost, "kind", "declined"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_platform_errors_total", "method", "gdccard.pay", "code", "none", "kind", "unknown"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_platform_errors_total", "method", "query.card", "code", "none", "kind", "unknown"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_platform_errors_total", "method", "gdccard.pay", "code", "none", "kind", "not_sent"))
	assert.Equal(t, 4.0, f.sum("kiosk_platform_errors_total"))

	// Gauges read at scrape time.
	assert.Equal(t, 0.0, f.value(t, "kiosk_platform_online"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_unfinished_orders", "state", "unknown"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_unfinished_orders", "state", "offline_accepted"))
	assert.Equal(t, 0.0, f.value(t, "kiosk_unfinished_orders", "state", "sending"))
	assert.Equal(t, 0.0, f.value(t, "kiosk_unfinished_orders", "state", "orphan_charged"))
	assert.Positive(t, f.value(t, "kiosk_oldest_unfinished_order_age_seconds"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_offline_accepted_orders"))
	assert.Equal(t, 300.0, f.value(t, "kiosk_offline_accepted_fen"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_offline_enabled"))
	assert.Equal(t, 50.0, f.value(t, "kiosk_offline_max_orders"))
	assert.Equal(t, 500_00.0, f.value(t, "kiosk_offline_max_total_fen"))
	assert.Equal(t, 30_00.0, f.value(t, "kiosk_offline_max_payment_fen"))
	assert.Equal(t, 60_00.0, f.value(t, "kiosk_offline_max_card_day_fen"))
	assert.Equal(t, 0.0, f.value(t, "kiosk_needs_review_orders"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_journal_readable"))
	assert.Positive(t, f.value(t, "kiosk_journal_size_bytes"))
	expiresIn := f.value(t, "kiosk_token_expires_in_seconds")
	assert.Positive(t, expiresIn)
	assert.LessOrEqual(t, expiresIn, (2 * time.Hour).Seconds())
	offset := f.value(t, "kiosk_platform_clock_offset_seconds")
	assert.Less(t, offset, 5.0, "the simulator shares this machine's clock")
	assert.Greater(t, offset, -5.0, "the simulator shares this machine's clock")
	assert.Equal(t, 1.0, f.value(t, "kiosk_device_connected", "device", "reader"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_device_opens_total", "device", "reader"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_build_info", "version", testVersion, "go_version", runtime.Version()))
	assert.Contains(t, f, "go_goroutines", "the Go collector")
	assert.Contains(t, f, "process_cpu_seconds_total", "the process collector")

	for name, fam := range f {
		assert.NotEmpty(t, fam.GetHelp(), "%s has HELP text", name)
		for _, m := range fam.GetMetric() {
			for _, lp := range m.GetLabel() {
				for _, s := range secrets() {
					assert.NotContains(t, lp.GetValue(), s, "%s{%s}", name, lp.GetName())
				}
			}
		}
	}
}

// An orphan (a payment journalled as sending by a process that died) is
// settled by the reconciler without its customer having been told
// anything: a state change, not a payment outcome. The reconciler's pass
// shows on /status.
func TestOrphanIsNoPaymentOutcome(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()
	svc := r.app.Service
	no, err := svc.NewOrderNo(ctx)
	require.NoError(t, err)
	now := time.Now()
	// Written past the hooks, as the process that crashed wrote it.
	require.NoError(t, r.app.Store.CreateOrder(ctx, agent.Order{
		OrderNo: no, Kind: agent.KindPay, Account: sim.DemoNormal, AccType: onecard.AccTypeCard,
		MercAcc: "100000", TermID: "17", Amount: 5_00, Created: now, Updated: now, State: agent.StateSending,
		Attempts: 1, History: []agent.Transition{{At: now, To: agent.StateSending}},
	}))
	rep, err := svc.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Settled, 1)
	require.Equal(t, agent.StateVoided, rep.Settled[0].To, "the platform never had it")

	f := r.scrape(t)
	assert.Zero(t, f.sum("kiosk_payments_total"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_order_transitions_total", "kind", "pay", "from", "sending", "to", "voided"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_reconcile_last_pass_success"))
	assert.InDelta(t, float64(time.Now().Unix()), f.value(t, "kiosk_reconcile_last_pass_timestamp_seconds"), 60)

	st := r.status(t)
	require.NotNil(t, st.LastReconcile)
	assert.Equal(t, 1, st.LastReconcile.Looked)
	assert.Equal(t, map[agent.OrderState]int{agent.StateVoided: 1}, st.LastReconcile.Settled)
	assert.Zero(t, st.LastReconcile.Unfinished)
	assert.Empty(t, st.LastReconcile.Error)
}
