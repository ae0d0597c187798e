package agent_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// The observed journal sees every order's life, from creation through a
// lost reply to the reconciler's settlement, in order.
func TestObserveJournalSeesEveryChange(t *testing.T) {
	r := newRig(t, nil)
	var mu sync.Mutex
	var states []string
	var created int
	j := agent.ObserveJournal(r.store, func(_ context.Context, c agent.OrderChange) {
		mu.Lock()
		defer mu.Unlock()
		if c.Created() {
			created++
		}
		if c.StateChanged() {
			states = append(states, string(c.After.State))
		}
	})
	svc := agent.NewService(agent.NewPlatform(r.client, r.store, r.clock), j, r.svc.Options())
	ctx := context.Background()

	r.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	o, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 500})
	require.True(t, onecard.OutcomeUnknown(err), "%v", err)
	r.clock.Advance(r.svc.Options().Reconcile.RequestTimeout * 2)
	_, err = svc.ReconcileAll(ctx)
	require.NoError(t, err)
	got, err := r.store.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, got.State)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, created)
	assert.Equal(t, []string{string(agent.StateSending), string(agent.StateUnknown), string(agent.StatePaid)}, states)
}
