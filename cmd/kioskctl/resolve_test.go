package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
)

func TestResolveEndsAReview(t *testing.T) {
	e := newEnv(t)
	e.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	code, obj := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", "5")
	require.Equal(t, exitUnknown, code)
	orderNo := obj["order_no"].(string)

	// What the reconciler does after giving up, done by hand.
	s, err := offline.Open(filepath.Join(filepath.Dir(e.config), "kiosk.db"))
	require.NoError(t, err)
	_, err = s.UpdateOrder(context.Background(), orderNo, func(o *agent.Order) error {
		return o.To(agent.StateNeedsReview, time.Now(), "test: gave up")
	})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	code, _, errOut := e.kioskctl(t, "resolve", orderNo, "--as", "paid")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--note is required")

	code, _, errOut = e.kioskctl(t, "resolve", orderNo, "--as", "voided", "--note", "customer says no")
	assert.Equal(t, exitDeclined, code, "the platform contradicts it: nothing changed")
	assert.Contains(t, errOut, "resolve it as paid or orphan_charged")

	code, out, errOut := e.kioskctl(t, "resolve", orderNo, "--as", "paid", "--note", "technician Wang: receipt seen")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "needs_review → paid")

	code, _, errOut = e.kioskctl(t, "resolve", orderNo, "--as", "paid", "--note", "again")
	assert.Equal(t, exitDeclined, code)
	assert.Contains(t, errOut, "not needs_review")
}

func TestHelpFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--help"}, &out, &errOut, func(string) string { return "" })
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errOut.String(), "usage: kioskctl")
}
