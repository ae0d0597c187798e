package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// settling is a rig whose service settles each day at 02:30 platform time,
// with the catch-up window before the rig's first day already settled (a
// new terminal settles the days of its window, empty ones included, on its
// first start).
func settling(t *testing.T) *rig {
	t.Helper()
	r := newRig(t)
	r.Service = r.NewService(r.Store, func(o *agent.Options) {
		o.Settlement = agent.SettlementPolicy{Enabled: true, At: 2*time.Hour + 30*time.Minute, CatchUpDays: 7,
			Retry: time.Minute, MaxRetry: time.Hour}
	})
	tried, _, err := r.Service.SettleDue(context.Background())
	require.NoError(t, err)
	require.Len(t, tried, 7, "the whole window before the rig's first day")
	for _, rep := range tried {
		require.Equal(t, agent.SettlementDone, rep.State)
		require.Zero(t, rep.BillCount, "nothing on the days before the first")
	}
	return r
}

// platformDay is the rig's platform-local date, days from now.
func (r *rig) platformDay(days int) string {
	return r.Clock.Now().In(r.Simulator.Location()).AddDate(0, 0, days).Format(onecard.BillDateLayout)
}

// until moves the clock to the next platform-local hh:mm.
func (r *rig) until(t *testing.T, hh, mm int) {
	t.Helper()
	now := r.Clock.Now().In(r.Simulator.Location())
	at := time.Date(now.Year(), now.Month(), now.Day(), hh, mm, 0, 0, now.Location())
	if !at.After(now) {
		at = at.AddDate(0, 0, 1)
	}
	r.Clock.Advance(at.Sub(now))
}

func (r *rig) bills() int { return r.Simulator.Stats().Requests[onecard.MethodDownBill] }

// A kiosk that runs for three platform days settles each day once, at its
// time, with one bill download a day; one that was stopped over a day
// catches up.
func TestSettlementEveryDayOnce(t *testing.T) {
	ctx := context.Background()
	r := settling(t)
	settled := map[string]int{}
	for day := range 3 {
		_, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: money.Fen(100 * (day + 1))})
		require.NoError(t, err)
		yesterday := r.platformDay(0)

		r.until(t, 2, 0) // past midnight, before 02:30: not yet
		tried, next, err := r.Service.SettleDue(ctx)
		require.NoError(t, err)
		assert.Empty(t, tried, "day %d: too early", day)
		assert.Equal(t, "02:30", next.In(r.Simulator.Location()).Format("15:04"))

		r.until(t, 2, 31)
		before := r.bills()
		for range 3 { // the loop may come round again: a done day is not redone
			tried, _, err := r.Service.SettleDue(ctx)
			require.NoError(t, err)
			for _, rep := range tried {
				settled[rep.Date]++
			}
		}
		assert.Equal(t, 1, r.bills()-before, "day %d: one download", day)
		assert.Equal(t, 1, settled[yesterday], "day %d: settled once", day)
		rep, ok, err := r.Store.BillReport(ctx, yesterday)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, agent.SettlementDone, rep.State)
		assert.Equal(t, money.Fen(100*(day+1)), rep.JournalNet)
		assert.Equal(t, rep.JournalNet, rep.BillNet, "the campus agrees")
		r.until(t, 12, 0)
	}

	// Stopped from noon for two and a half days: the three days it missed
	// are settled when it comes back.
	missed := []string{r.platformDay(0), r.platformDay(1), r.platformDay(2)}
	r.Clock.Advance(48 * time.Hour)
	r.until(t, 3, 0)
	tried, _, err := r.Service.SettleDue(ctx)
	require.NoError(t, err)
	require.Len(t, tried, 3)
	assert.Equal(t, missed, []string{tried[0].Date, tried[1].Date, tried[2].Date}, "oldest first")

	days, err := r.Service.Settlements(ctx)
	require.NoError(t, err)
	require.Len(t, days, 7)
	done := 0
	for _, d := range days {
		if d.State == agent.SettlementDone {
			done++
		}
	}
	assert.Equal(t, 7, done)
}

// A bill that cannot be had is retried with back-off, never more often,
// until it is; the failure is kept with its reason meanwhile.
func TestSettlementRetriesAFailedDay(t *testing.T) {
	ctx := context.Background()
	r := settling(t)
	_, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00})
	require.NoError(t, err)
	day := r.platformDay(0)
	r.until(t, 2, 31)
	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultHTTP500, Method: onecard.MethodDownBill, Times: 2})

	tried, next, err := r.Service.SettleDue(ctx)
	require.NoError(t, err)
	require.Len(t, tried, 1)
	assert.Equal(t, agent.SettlementFailed, tried[0].State)
	assert.Contains(t, tried[0].Reason, "500")
	assert.Equal(t, time.Minute, next.Sub(r.Clock.Now()).Round(time.Second), "first retry after a minute")

	tried, _, err = r.Service.SettleDue(ctx)
	require.NoError(t, err)
	assert.Empty(t, tried, "not before its retry time")

	r.Clock.Advance(time.Minute)
	tried, next, err = r.Service.SettleDue(ctx)
	require.NoError(t, err)
	require.Len(t, tried, 1)
	assert.Equal(t, 2, tried[0].Attempts)
	assert.Equal(t, 2*time.Minute, next.Sub(r.Clock.Now()).Round(time.Second), "then two")

	r.Clock.Advance(2 * time.Minute)
	tried, _, err = r.Service.SettleDue(ctx)
	require.NoError(t, err)
	require.Len(t, tried, 1)
	assert.Equal(t, agent.SettlementDone, tried[0].State)
	assert.Equal(t, 3, tried[0].Attempts)
	assert.Equal(t, day, tried[0].Date)
}

// Each kind of row is acted on by the money rules: a platform-only charge
// is kept for a person with the bill's row and never refunded; a late
// charge of a voided order is refunded; an amount mismatch is needs_review.
func TestSettlementActsOnEachKindOfRow(t *testing.T) {
	ctx := context.Background()
	r := settling(t)
	paid, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00})
	require.NoError(t, err)
	// A charge under this terminal's prefix that the journal never had.
	r.charge(t, "0017FOREIGN000001", sim.DemoRich, 6_66)
	// An orphan whose request the platform held: the query overtakes it and
	// it is voided, then the platform processes it late.
	late := r.orphan(t, sim.DemoNormal, 2_00, false)
	r.payHeld(t, late.OrderNo, sim.DemoNormal, 2_00)
	r.Clock.Advance(2 * time.Minute)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, agent.StateVoided, r.state(t, late.OrderNo).State)
	require.Equal(t, 1, r.Simulator.ReleaseHeld())
	// The platform has an unconfirmed payment's number for another amount.
	other := r.orphan(t, sim.DemoNormal, 3_00, false)
	r.charge(t, other.OrderNo, sim.DemoNormal, 4_00)
	_, err = r.Store.UpdateOrder(ctx, other.OrderNo, func(o *agent.Order) error {
		return o.To(agent.StateUnknown, r.Clock.Now(), "test: told it would be confirmed")
	})
	require.NoError(t, err)
	day := r.platformDay(0)

	r.until(t, 2, 31)
	tried, _, err := r.Service.SettleDue(ctx)
	require.NoError(t, err)
	require.Len(t, tried, 1)
	rep := tried[0]
	assert.Equal(t, agent.SettlementDone, rep.State)
	assert.Equal(t, 1, rep.Counts[agent.BillPlatformOnly])
	var foreign agent.BillLine
	for _, l := range rep.Lines {
		if l.OrderNo == "0017FOREIGN000001" {
			foreign = l
		}
	}
	assert.Equal(t, sim.DemoRich, foreign.Account, "the bill's row is kept for a person")
	assert.Equal(t, money.Fen(6_66), foreign.BillAmount)
	assert.False(t, foreign.BillTime.IsZero())
	assert.Equal(t, 1, r.Simulator.Stats().Refunds, "only the late charge was refunded, never the platform-only one")

	assert.Equal(t, agent.StatePaid, r.state(t, paid.OrderNo).State)
	assert.Equal(t, agent.StateOrphanRefunded, r.state(t, late.OrderNo).State)
	assert.Equal(t, agent.StateNeedsReview, r.state(t, other.OrderNo).State)
	saved, ok, err := r.Store.BillReport(ctx, day)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, rep.Counts, saved.Counts)
}

// A paid order the bill does not show and the platform does not know goes
// to a person: the journal says money moved, the platform says it did not.
func TestSettlementReviewsAPaymentThePlatformForgot(t *testing.T) {
	ctx := context.Background()
	r := settling(t)
	o := r.orphan(t, sim.DemoNormal, 5_00, false)
	_, err := r.Store.UpdateOrder(ctx, o.OrderNo, func(p *agent.Order) error {
		return p.To(agent.StatePaid, r.Clock.Now(), "test: a journal that says paid")
	})
	require.NoError(t, err)
	r.until(t, 2, 31)
	_, _, err = r.Service.SettleDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.StateNeedsReview, r.state(t, o.OrderNo).State)
}

// Terminals of a fleet settle a day at different times within the jitter,
// each always at the same one.
func TestSettlementJitterSpreadsAFleet(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	at := map[string]bool{}
	for _, termid := range []string{"17", "18", "19", "20", "21"} {
		svc := r.NewService(r.Store, func(o *agent.Options) {
			o.Terminal.TermID = termid
			o.Settlement = agent.SettlementPolicy{Enabled: true, At: 2 * time.Hour, Jitter: 30 * time.Minute}
		})
		_, next, err := svc.SettleDue(ctx)
		require.NoError(t, err)
		local := next.In(r.Simulator.Location())
		assert.Equal(t, 2, local.Hour(), "termid %s", termid)
		assert.Less(t, local.Minute(), 30, "termid %s", termid)
		_, again, err := svc.SettleDue(ctx)
		require.NoError(t, err)
		assert.Equal(t, next, again, "stable for termid %s", termid)
		at[local.Format("15:04:05")] = true
	}
	assert.Greater(t, len(at), 1, "spread")
}

// A settled payment the bill contradicts (another amount) goes to a
// person; nothing is refunded or charged to make them agree.
func TestSettlementReviewsWhatTheBillContradicts(t *testing.T) {
	ctx := context.Background()
	r := settling(t)
	o := r.orphan(t, sim.DemoNormal, 5_00, false)
	r.charge(t, o.OrderNo, sim.DemoNormal, 6_00)
	_, err := r.Store.UpdateOrder(ctx, o.OrderNo, func(p *agent.Order) error {
		return p.To(agent.StatePaid, r.Clock.Now(), "test: a journal that says paid for 5.00")
	})
	require.NoError(t, err)
	r.until(t, 2, 31)
	tried, _, err := r.Service.SettleDue(ctx)
	require.NoError(t, err)
	require.Len(t, tried, 1)
	assert.Equal(t, 1, tried[0].Counts[agent.BillAmountMismatch])
	got := r.state(t, o.OrderNo)
	assert.Equal(t, agent.StateNeedsReview, got.State)
	assert.Contains(t, got.History[len(got.History)-1].Note, "amounts differ")
	assert.Zero(t, r.Simulator.Stats().Refunds)
}
