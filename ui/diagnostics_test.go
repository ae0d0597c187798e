package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// label returns the first label whose text contains s, nil if none is
// shown.
func (h *harness) label(s string) *widget.Label {
	if ls := h.labels(s); len(ls) > 0 {
		return ls[0]
	}
	return nil
}

// labels returns the labels whose text contains s.
func (h *harness) labels(s string) []*widget.Label {
	var out []*widget.Label
	for _, o := range h.objects() {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, s) {
			out = append(out, l)
		}
	}
	return out
}

func TestDiagnosticsShowsTokenClockJournalLimitsVersionAndLog(t *testing.T) {
	var logs []string
	for i := range 15 {
		logs = append(logs, fmt.Sprintf("level=INFO msg=line%02d", i+1))
	}
	h := newHarness(t, func(o *Options, d *Deps) {
		o.Version = "v1.2.3"
		o.ConfigSummary = []string{"platform http://127.0.0.1/tsm", "termid 17", "mode kiosk"}
		d.LogLines = func() []string { return logs }
	})
	ctx := context.Background()
	paid, err := h.r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 12_34})
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, paid.State)

	h.tap("Service")
	h.keys(testPIN)
	h.tap("OK")
	require.Equal(t, ScreenDiagnostics, h.k.State().Screen)
	assert.True(t, h.shows("Counting orders…"), "progress while the journal is counted")

	h.waitFor("the journal counts", func() bool { return h.shows("Orders by state: paid 1") })
	h.waitFor("the token", func() bool { return h.shows("Token: expires ") })
	tokenLine := h.label("Token: expires ")
	require.NotNil(t, tokenLine)
	before := tokenLine.Text
	assert.Contains(t, before, " left", "time left shown")
	// The time left counts down with the clock, without a redraw (a step
	// well inside the idle timeout).
	h.r.Clock.Advance(2 * time.Second)
	h.waitFor("the time left to count down", func() bool { return tokenLine.Text != before })
	assert.Same(t, tokenLine, h.label("Token: expires "), "updated in place, not redrawn")
	tok, err := h.r.Service.Platform().Tokens().Token(ctx)
	require.NoError(t, err)
	for _, s := range h.texts() {
		assert.NotContains(t, s, tok, "the token itself is never shown")
	}

	off, _, ok := h.r.Service.ClockOffset()
	require.True(t, ok, "the replies carried a Date header")
	clock := h.label("Clock offset to the platform's web server: ")
	require.NotNil(t, clock, "screen shows %q", h.texts())
	assert.Contains(t, clock.Text, signedDuration(off))
	if agent.OffsetTooLarge(off) {
		assert.Equal(t, widget.DangerImportance, clock.Importance)
		assert.True(t, h.shows("more than 3 minutes off"))
	} else {
		assert.Equal(t, widget.SuccessImportance, clock.Importance)
	}

	assert.True(t, h.shows("Offline payments: on; ¥30.00 a payment, ¥50.00 in all, 3 orders, ¥40.00 a card a day, card seen within 1h0m0s"))
	assert.True(t, h.shows("Accepted offline, not yet confirmed: 0 orders, ¥0.00"))
	assert.True(t, h.shows("Version: v1.2.3"))
	assert.True(t, h.shows("termid 17"))
	assert.True(t, h.shows("Last log lines"))
	assert.True(t, h.shows("msg=line15"))
	assert.True(t, h.shows("msg=line06"))
	assert.False(t, h.shows("msg=line05"), "only the last ten lines")

	// Refresh counts again.
	_, err = h.r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00})
	require.NoError(t, err)
	h.tap("Refresh")
	h.waitFor("the new count", func() bool { return h.shows("Orders by state: paid 2") })

	h.tap("中文")
	h.waitFor("Chinese", func() bool { return h.shows("各状态订单：已支付2") })
	assert.True(t, h.shows("版本：v1.2.3"))
}

// settleWeek gives r's terminal a week of settlement to show, before a
// kiosk starts on it, and returns the days shown, newest first: a payment of
// 12.00 on the first day, which the clock then leaves, settled against the
// simulator's bill (yesterday); the day before failed on its third attempt
// and the one before that settled with the nets apart (both saved: the
// simulator's bill agrees with the journal, and a real failure's reason
// names the simulator's port); the other four pending.
func settleWeek(t testing.TB, r *rig) []string {
	t.Helper()
	ctx := context.Background()
	paid, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 12_00})
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, paid.State)
	r.Clock.Advance(24 * time.Hour)
	var days []string
	for i := 1; i <= 7; i++ {
		days = append(days, r.Clock.Now().In(r.Service.Location()).AddDate(0, 0, -i).Format("20060102"))
	}
	rep, err := r.Service.Settle(ctx, days[0])
	require.NoError(t, err)
	require.Equal(t, agent.SettlementDone, rep.State)
	require.NoError(t, r.Store.SaveBillReport(ctx, agent.BillReport{Date: days[1], Created: r.Clock.Now(),
		State: agent.SettlementFailed, Attempts: 3,
		Reason: "downloading the bill: the platform did not answer within 10s; it is tried again in 4 minutes"}))
	require.NoError(t, r.Store.SaveBillReport(ctx, agent.BillReport{Date: days[2], Created: r.Clock.Now(),
		State: agent.SettlementDone, Attempts: 1, JournalNet: 45_50, BillNet: 42_00, BillCount: 5, BillTotal: 42_00,
		Counts: map[agent.BillMatch]int{agent.BillMatched: 3, agent.BillJournalOnly: 1, agent.BillAmountMismatch: 1},
		Lines:  []agent.BillLine{{OrderNo: "x", Match: agent.BillJournalOnly}, {OrderNo: "y", Match: agent.BillAmountMismatch}}}))
	return days
}

// payToday gives r's terminal a day of trade so far, before a kiosk starts
// on it, and returns the day: 6.00 accepted offline (the card seen online
// first, then the network down; a look-up after it brings the terminal
// back online), 8.50 and 3.50 paid, 1.50 of the 3.50 refunded and 5.00
// declined (the card holds 0.50). Today so far:
// charged 2 orders ¥12.00, refunds 1 ¥1.50, unconfirmed 1 ¥6.00, declined
// 1 ¥5.00, needs review none, net ¥10.50.
func payToday(t testing.TB, r *rig) string {
	t.Helper()
	ctx := context.Background()
	pay := func(account string, amount money.Fen, want agent.OrderState) agent.Order {
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: account, Amount: amount})
		require.Equal(t, want, o.State, "paying %s: %v", amount, err)
		return o
	}
	lookup := func() {
		_, err := r.Service.LookupCard(ctx, agent.Identity{Type: "cardid", ID: cardNormal})
		require.NoError(t, err)
	}
	lookup()
	r.net.Down.Store(true)
	pay(sim.DemoNormal, 6_00, agent.StateOfflineAccepted)
	r.net.Down.Store(false)
	lookup()
	pay(sim.DemoNormal, 8_50, agent.StatePaid)
	part := pay(sim.DemoNormal, 3_50, agent.StatePaid)
	refund, err := r.Service.Refund(ctx, part.OrderNo, 1_50, "")
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, refund.State)
	pay(sim.DemoLow, 5_00, agent.StateDeclined)
	return r.Clock.Now().In(r.Service.Location()).Format("20060102")
}

// dashed writes a yyyyMMdd date as diagnostics does: 2026-11-27.
func dashed(date string) string { return date[:4] + "-" + date[4:6] + "-" + date[6:] }

func TestDiagnosticsShowsTheWeeksSettlement(t *testing.T) {
	r := newRig(t)
	days := settleWeek(t, r)
	today := payToday(t, r)
	h := startKiosk(t, test.NewTempApp(t), r, nil)
	t.Cleanup(h.stop)
	h.tap("Service")
	h.keys(testPIN)
	h.tap("OK")
	h.waitFor("the settlements", func() bool { return h.shows("Daily settlement, last 7 days") })

	settled := h.label(dashed(days[0]) + ": settled; matched 1, only on the platform 0, only in the journal 0, mismatched 0; net: journal ¥12.00, bill ¥12.00")
	require.NotNil(t, settled, "screen shows %q", h.texts())
	assert.Equal(t, widget.SuccessImportance, settled.Importance, "all matched, nets equal")

	failed := h.label(dashed(days[1]) + ": failed (attempt 3): downloading the bill: the platform did not answer within 10…")
	require.NotNil(t, failed, "the reason shortened; screen shows %q", h.texts())
	assert.Equal(t, widget.DangerImportance, failed.Importance)

	apart := h.label(dashed(days[2]) + ": settled; matched 3, only on the platform 0, only in the journal 1, mismatched 1; net: journal ¥45.50, bill ¥42.00")
	require.NotNil(t, apart, "screen shows %q", h.texts())
	assert.Equal(t, widget.WarningImportance, apart.Importance)
	diff := h.label("Difference, journal less bill: ¥3.50")
	require.NotNil(t, diff, "the difference, only where there is one")
	assert.Equal(t, widget.DangerImportance, diff.Importance)
	assert.Len(t, h.labels("Difference"), 1)

	for _, d := range days[3:] {
		pending := h.label(dashed(d) + ": pending")
		require.NotNil(t, pending, "%s pending; screen shows %q", d, h.texts())
		assert.Equal(t, widget.MediumImportance, pending.Importance)
	}

	// Today's payments, not yesterday's settled 12.00.
	todayLines := []struct{ en, zh string }{
		{"Today so far (" + dashed(today) + ")", "今日累计（" + dashed(today) + "）"},
		{"Charged: 2 orders, ¥12.00", "已收款：2 笔，¥12.00"},
		{"Refunds paid out: 1 orders, ¥1.50", "已退款：1 笔，¥1.50"},
		{"Still unconfirmed: 1 orders, ¥6.00 (the terminal confirms them itself)", "待确认：1 笔，¥6.00（本机会自动确认）"},
		{"Declined: 1 orders, ¥5.00", "已拒绝：1 笔，¥5.00"},
		{"Needs review: 0 orders, ¥0.00", "需人工核查：0 笔，¥0.00"},
		{"Net taken: ¥10.50", "净收款：¥10.50"},
	}
	for _, line := range todayLines {
		l := h.label(line.en)
		require.NotNil(t, l, "screen shows %q", h.texts())
		assert.Equal(t, widget.MediumImportance, l.Importance, line.en)
	}

	h.tap("中文")
	h.waitFor("Chinese", func() bool { return h.shows("日结（最近 7 天）") })
	assert.True(t, h.shows(dashed(days[0])+"：已结算；一致1，仅平台有0，仅本机有0，不符0；净额：本机 ¥12.00，账单 ¥12.00"), "screen shows %q", h.texts())
	assert.True(t, h.shows(dashed(days[1])+"：失败（第 3 次）：downloading the bill"))
	assert.True(t, h.shows("差额（本机减账单）：¥3.50"))
	assert.True(t, h.shows(dashed(days[6])+"：待结算"))
	for _, line := range todayLines {
		assert.True(t, h.shows(line.zh), "%q; screen shows %q", line.zh, h.texts())
	}
}

func TestDiagnosticsAsStartingModeReadsInRun(t *testing.T) {
	h := newHarness(t, func(o *Options, d *Deps) {
		o.Mode, d.CheckPIN = ModeDiagnostics, nil
	})
	require.Equal(t, ScreenDiagnostics, h.k.State().Screen)
	h.waitFor("the journal counts", func() bool { return h.shows("Orders by state: none") })
	assert.True(t, h.shows("Version: dev"))
	assert.False(t, h.shows("Last log lines"), "no log source, no log section")
}

func TestSignedDuration(t *testing.T) {
	assert.Equal(t, "+5m0s", signedDuration(5*time.Minute))
	assert.Equal(t, "-12s", signedDuration(-12*time.Second-300*time.Millisecond))
	assert.Equal(t, "+0s", signedDuration(0))
}
