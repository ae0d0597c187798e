package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
)

// label returns the label whose text contains s, nil if none is shown.
func (h *harness) label(s string) *widget.Label {
	for _, o := range h.objects() {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, s) {
			return l
		}
	}
	return nil
}

func TestDiagnosticsShowsTokenClockJournalBillsLimitsVersionAndLog(t *testing.T) {
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
	paid, err := h.r.svc.Pay(ctx, agent.PayInput{Account: onecardtest.DemoNormal, Amount: 12_34})
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, paid.State)
	loc := h.r.svc.Location()
	today := h.r.clock.Now().In(loc)
	yesterday := today.AddDate(0, 0, -1).Format("20060102")
	require.NoError(t, h.r.store.SaveBillReport(ctx, agent.BillReport{Date: yesterday, Created: today,
		Counts: map[agent.BillMatch]int{agent.BillMatched: 4, agent.BillPlatformOnly: 1}, BillCount: 5, BillTotal: 42_00,
		Lines: []agent.BillLine{{OrderNo: "x", Match: agent.BillPlatformOnly}}}))

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
	h.r.clock.Advance(2 * time.Second)
	h.waitFor("the time left to count down", func() bool { return tokenLine.Text != before })
	assert.Same(t, tokenLine, h.label("Token: expires "), "updated in place, not redrawn")
	tok, err := h.r.svc.Platform().Tokens().Token(ctx)
	require.NoError(t, err)
	for _, s := range h.texts() {
		assert.NotContains(t, s, tok, "the token itself is never shown")
	}

	off, _, ok := h.r.svc.ClockOffset()
	require.True(t, ok, "the replies carried a Date header")
	clock := h.label("Clock offset to the platform's web server: ")
	require.NotNil(t, clock, "screen shows %q", h.texts())
	assert.Contains(t, clock.Text, signedDuration(off))
	if off > clockOffsetWarn || off < -clockOffsetWarn {
		assert.Equal(t, widget.DangerImportance, clock.Importance)
		assert.True(t, h.shows("more than 3 minutes off"))
	} else {
		assert.Equal(t, widget.SuccessImportance, clock.Importance)
	}

	assert.True(t, h.shows("Bill "+today.Format("20060102")+": not reconciled"))
	assert.True(t, h.shows("Bill "+yesterday+": matched 4, only on the platform 1 (bill: 5 orders, ¥42.00)"))
	assert.True(t, h.shows("Offline payments: on; ¥30.00 a payment, ¥50.00 in all, 3 orders, ¥40.00 a card a day, card seen within 1h0m0s"))
	assert.True(t, h.shows("Accepted offline, not yet confirmed: 0 orders, ¥0.00"))
	assert.True(t, h.shows("Version: v1.2.3"))
	assert.True(t, h.shows("termid 17"))
	assert.True(t, h.shows("Last log lines"))
	assert.True(t, h.shows("msg=line15"))
	assert.True(t, h.shows("msg=line06"))
	assert.False(t, h.shows("msg=line05"), "only the last ten lines")

	// Refresh counts again.
	_, err = h.r.svc.Pay(ctx, agent.PayInput{Account: onecardtest.DemoNormal, Amount: 1_00})
	require.NoError(t, err)
	h.tap("Refresh")
	h.waitFor("the new count", func() bool { return h.shows("Orders by state: paid 2") })

	h.tap("中文")
	h.waitFor("Chinese", func() bool { return h.shows("各状态订单：已支付 2") })
	assert.True(t, h.shows("版本：v1.2.3"))
	assert.True(t, h.shows("对账单 "+yesterday+"：一致 4, 仅平台有 1（账单 5 笔，¥42.00）"))
}

func TestDiagnosticsAsStartingModeReadsInRun(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *Deps) {
		o.Mode, o.PINHash = ModeDiagnostics, ""
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
