package status_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/status"
)

// A day's settlement over real HTTP: two payments and a charge with this
// terminal's prefix that its journal does not have; the day's settlement
// fails for hours (settlement_failed), then goes through and finds the
// charge (settlement_mismatch). /status, /healthz and /metrics say so.
func TestSettlementOnStatusHealthAndMetrics(t *testing.T) {
	// Noon, platform time (UTC+8), of the day to settle.
	clock := onecardtest.NewClock(time.Date(2026, 12, 3, 4, 0, 0, 0, time.UTC))
	r := newRig(t, rigOptions{clock: clock})
	ctx := t.Context()
	svc := r.app.Service
	policy := svc.Options().Settlement
	loc := svc.Location()
	day := clock.Now().In(loc)
	date := day.Format("20060102")

	_, err := svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	for _, amount := range []money.Fen{12_34, 3_00} {
		o, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: amount})
		require.NoError(t, err)
		require.Equal(t, agent.StatePaid, o.State)
	}
	// Charged at the platform under this terminal's prefix, past its
	// journal: a restored backup, a second device with termid 17, or fraud.
	_, err = svc.Platform().Pay(ctx, onecard.PayRequest{OrderNo: "0017NOTINJOURNAL01", Account: sim.DemoRich,
		AccType: onecard.AccTypeCard, MercAcc: "100000", Amount: 50, TermID: "17"})
	require.NoError(t, err)

	// The next day at settlement.at: the platform answers the bill with
	// bare text, then again hours later.
	midnight := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	due := midnight.Add(policy.At)
	clock.Advance(due.Sub(clock.Now()))
	r.simulator.InjectFault(sim.Fault{Kind: sim.FaultText, Method: onecard.MethodDownBill})
	rep, err := svc.Settle(ctx, date)
	require.Error(t, err)
	require.Equal(t, agent.SettlementFailed, rep.State)
	code, h := r.health(t)
	assert.NotContains(t, codes(h), status.ReasonSettlementFailed, "one failed attempt: the bill may not be ready yet")

	clock.Advance(policy.Jitter + status.SettlementFailingAfter)
	rep, err = svc.Settle(ctx, date)
	require.Error(t, err)
	require.Equal(t, 2, rep.Attempts)
	code, h = r.health(t)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, []string{status.ReasonSettlementFailed}, codes(h), "%v", h.Reasons)

	st := r.status(t).Settlement
	assert.Equal(t, policy.Enabled, st.Enabled)
	require.NotNil(t, st.Last)
	assert.Equal(t, date, st.Last.Date)
	assert.Equal(t, agent.SettlementFailed, st.Last.State)
	assert.Equal(t, 2, st.Last.Attempts)
	assert.Contains(t, st.Last.Reason, "answered with text")
	assert.NotContains(t, st.Last.Reason, sim.BusyText, "no text the platform sent")
	assert.Equal(t, date, st.Unsettled[0])
	f := r.scrape(t)
	assert.Equal(t, 0.0, f.value(t, "kiosk_settlement_last_success_timestamp_seconds"), "no day settled")
	assert.Equal(t, 7.0, f.value(t, "kiosk_settlement_days_behind"), "the window, yesterday past its time")
	assert.Nil(t, f.series(t, "kiosk_settlement_mismatches", "kind", "platform_only"), "no settled day to count")

	// The bill comes: the day is done, with the platform-only charge.
	r.simulator.ClearFaults()
	clock.Advance(time.Hour)
	rep, err = svc.Settle(ctx, date)
	require.NoError(t, err)
	require.Equal(t, agent.SettlementDone, rep.State)

	code, h = r.health(t)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, []string{status.ReasonSettlementMismatch}, codes(h), "%v", h.Reasons)
	assert.Contains(t, h.Reasons[0], date)

	st = r.status(t).Settlement
	require.NotNil(t, st.Last)
	last := *st.Last
	assert.Equal(t, date, last.Date)
	assert.Equal(t, agent.SettlementDone, last.State)
	assert.Empty(t, last.Reason)
	assert.Equal(t, 3, last.Attempts)
	assert.Equal(t, 2, last.Matched)
	assert.Equal(t, 1, last.PlatformOnly)
	assert.Zero(t, last.JournalOnly)
	assert.Zero(t, last.Mismatched)
	assert.Equal(t, int64(15_34), last.JournalNetFen)
	assert.Equal(t, "15.34", last.JournalNet)
	assert.Equal(t, int64(15_84), last.BillNetFen)
	assert.Equal(t, "15.84", last.BillNet)
	assert.Equal(t, 3, last.BillCount)
	require.NotNil(t, last.FinishedAt)
	assert.True(t, last.FinishedAt.Equal(clock.Now()), "%s", last.FinishedAt)
	_, offset := last.FinishedAt.Zone()
	assert.Equal(t, 8*3600, offset, "in the platform's zone")

	require.Len(t, st.Days, policy.CatchUpDays)
	assert.Equal(t, last, st.Days[0], "yesterday is the last")
	for i, d := range st.Days[1:] {
		assert.Equal(t, day.AddDate(0, 0, -1-i).Format("20060102"), d.Date)
		assert.Equal(t, agent.SettlementPending, d.State)
		assert.Nil(t, d.FinishedAt)
	}
	assert.Len(t, st.Unsettled, policy.CatchUpDays-1)
	assert.False(t, slices.Contains(st.Unsettled, date))

	f = r.scrape(t)
	assert.Equal(t, float64(clock.Now().Unix()), f.value(t, "kiosk_settlement_last_success_timestamp_seconds"))
	assert.Equal(t, float64(policy.CatchUpDays-1), f.value(t, "kiosk_settlement_days_behind"))
	assert.Equal(t, 1.0, f.value(t, "kiosk_settlement_mismatches", "kind", "platform_only"))
	assert.Equal(t, 0.0, f.value(t, "kiosk_settlement_mismatches", "kind", "journal_only"))
	assert.Equal(t, 0.0, f.value(t, "kiosk_settlement_mismatches", "kind", "mismatched"))
	assert.Equal(t, 15_34.0, f.value(t, "kiosk_settlement_day_total_fen", "source", "journal"))
	assert.Equal(t, 15_84.0, f.value(t, "kiosk_settlement_day_total_fen", "source", "bill"))
	assert.Equal(t, map[bool]float64{true: 1, false: 0}[policy.Enabled], f.value(t, "kiosk_settlement_enabled"))
}

// Yesterday counts as behind only once settlement.at has passed.
func TestSettlementDaysBehindWaitsForSettlementTime(t *testing.T) {
	// 01:00 platform time: yesterday is not due yet.
	clock := onecardtest.NewClock(time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC))
	r := newRig(t, rigOptions{clock: clock})
	days := float64(r.app.Service.Options().Settlement.CatchUpDays)
	assert.Equal(t, days-1, r.scrape(t).value(t, "kiosk_settlement_days_behind"))
	clock.Advance(r.app.Service.Options().Settlement.At)
	assert.Equal(t, days, r.scrape(t).value(t, "kiosk_settlement_days_behind"))
}
