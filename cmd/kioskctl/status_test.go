package main

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/status"
)

// runningKiosk holds the journal and serves the status endpoint, as the
// kiosk process does, with token when it is not empty.
func runningKiosk(t *testing.T, token string) *env {
	t.Helper()
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	extra := "status:\n  listen: \"" + ln.Addr().String() + "\"\n"
	if token != "" {
		extra += "  token: " + token + "\n"
	}
	e.config = onecardtest.WriteKioskConfig(t, t.TempDir(), e.simulator, "1s", extra)
	cfg, err := config.Load(e.config)
	require.NoError(t, err)
	a, err := app.Open(cfg, agent.SystemClock{})
	require.NoError(t, err)
	_, err = a.Service.Pay(context.Background(), agent.PayInput{Account: sim.DemoNormal, Amount: 1_00})
	require.NoError(t, err)
	srv := status.New(status.Options{Config: cfg, Agent: a.Service, Tokens: a.Store, Version: "v9"})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ctx, ln) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = a.Close()
	})
	return e
}

func TestStatusAsksTheRunningKiosk(t *testing.T) {
	e := runningKiosk(t, "")
	code, out, errOut := e.kioskctl(t, "status")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "terminal 17 (canteen)")
	assert.Contains(t, out, "version v9: ready")
	assert.Contains(t, out, "platform: online")
	assert.Contains(t, out, "unfinished orders: none")
	assert.Contains(t, out, "unsettled days: ", "no day settled by a new kiosk")

	code, obj := e.jsonRun(t, "status")
	require.Equal(t, exitOK, code)
	assert.Equal(t, "ready", obj["status"])

	// The journal is the kiosk's: journal commands say where to look.
	code, _, errOut = e.kioskctl(t, "queue")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "kioskctl status")
}

func TestStatusWithToken(t *testing.T) {
	const token = "a-status-token-for-tests"
	e := runningKiosk(t, token)
	code, _, errOut := e.kioskctl(t, "status")
	require.Equal(t, exitOK, code, "the token comes from the same config: %s", errOut)
}

func TestStatusWithoutEndpoint(t *testing.T) {
	e := newEnv(t)
	code, _, errOut := e.kioskctl(t, "status")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "status.listen is not set")

	// Configured, but no kiosk listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	e.config = onecardtest.WriteKioskConfig(t, t.TempDir(), e.simulator, "1s", "status:\n  listen: \""+addr+"\"\n")
	code, _, errOut = e.kioskctl(t, "status")
	assert.Equal(t, exitDeclined, code)
	assert.Contains(t, errOut, "no kiosk answers on "+addr)
}

func TestDialAddr(t *testing.T) {
	assert.Equal(t, "127.0.0.1:9108", dialAddr(":9108"))
	assert.Equal(t, "127.0.0.1:9108", dialAddr("0.0.0.0:9108"))
	assert.Equal(t, "[::1]:9108", dialAddr("[::1]:9108"))
	assert.Equal(t, "10.0.0.7:9108", dialAddr("10.0.0.7:9108"))
}

func TestStatusTextShowsSettlement(t *testing.T) {
	at := time.Date(2026, 12, 4, 2, 41, 0, 0, time.FixedZone("CST", 8*3600))
	done := status.SettlementDay{Date: "20261203", State: agent.SettlementDone, Attempts: 1, Matched: 2, PlatformOnly: 1,
		JournalNetFen: 15_34, JournalNet: "15.34", BillNetFen: 15_84, BillNet: "15.84", BillCount: 3, FinishedAt: &at}
	out := statusText(status.Document{Settlement: status.Settlement{Enabled: true, Last: &done,
		Days: []status.SettlementDay{done, {Date: "20261202", State: agent.SettlementPending}}, Unsettled: []string{"20261202"}}})
	assert.Contains(t, out, "settlement: on; last 20261203 done at 2026-12-04T02:41:00+08:00: 2 matched, 1 platform_only, 0 journal_only, 0 mismatched; bill 3 rows (all terminals)\n")
	assert.Contains(t, out, "  net: journal 15.34, bill 15.84, difference (bill - journal) +0.50\n")
	assert.Contains(t, out, "unsettled days: 20261202\n")

	failed := status.SettlementDay{Date: "20261203", State: agent.SettlementFailed, Attempts: 4, Reason: "onecard down.bill: platform answered with text", FinishedAt: &at}
	out = statusText(status.Document{Settlement: status.Settlement{Last: &failed, Days: []status.SettlementDay{failed},
		Unsettled: []string{"20261203"}}})
	assert.Contains(t, out, "settlement: off; last 20261203 FAILED after 4 attempts, the last at 2026-12-04T02:41:00+08:00: onecard down.bill: platform answered with text\n")
	assert.Contains(t, out, "unsettled days: 20261203\n")

	out = statusText(status.Document{Settlement: status.Settlement{Enabled: true, Days: []status.SettlementDay{}, Unsettled: []string{}}})
	assert.Contains(t, out, "settlement: on, no day of the catch-up window settled\nunsettled days: none\n")
	assert.Contains(t, statusText(status.Document{}), "settlement: off, not read\n")
}
