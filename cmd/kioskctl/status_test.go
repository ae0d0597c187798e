package main

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
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
	e.config = onecardtest.WriteKioskConfig(t, t.TempDir(), e.sim, "1s", extra)
	cfg, err := config.Load(e.config)
	require.NoError(t, err)
	a, err := app.Open(cfg, agent.SystemClock{})
	require.NoError(t, err)
	_, err = a.Service.Pay(context.Background(), agent.PayInput{Account: onecardtest.DemoNormal, Amount: 1_00})
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
	e.config = onecardtest.WriteKioskConfig(t, t.TempDir(), e.sim, "1s", "status:\n  listen: \""+addr+"\"\n")
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
