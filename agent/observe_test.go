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
	r := newRig(t)
	var mu sync.Mutex
	var states []string
	var created int
	j := agent.ObserveJournal(r.Store, func(_ context.Context, c agent.OrderChange) {
		mu.Lock()
		defer mu.Unlock()
		if c.Created() {
			created++
		}
		if c.StateChanged() {
			states = append(states, string(c.After.State))
		}
	})
	svc := r.NewService(j)
	ctx := context.Background()

	r.Simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	o, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 500})
	require.True(t, onecard.OutcomeUnknown(err), "%v", err)
	r.Clock.Advance(r.Service.Options().Reconcile.RequestTimeout * 2)
	_, err = svc.ReconcileAll(ctx)
	require.NoError(t, err)
	got, err := r.Store.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, got.State)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, created)
	assert.Equal(t, []string{string(agent.StateSending), string(agent.StateUnknown), string(agent.StatePaid)}, states)
}

// A payment's outcome is told once, in the write that journalled it;
// nothing else counts (the status metrics and the order log rely on it).
func TestOrderChangeTold(t *testing.T) {
	pay := func(st agent.OrderState, told agent.OutcomeKind) agent.Order {
		return agent.Order{Kind: agent.KindPay, State: st, Outcome: agent.Outcome{Kind: told}}
	}
	sending := pay(agent.StateSending, "")
	unknown := pay(agent.StateUnknown, agent.OutcomeWillConfirm)
	cases := []struct {
		name   string
		change agent.OrderChange
		told   agent.OutcomeKind
	}{
		{"created sending: nothing told yet", agent.OrderChange{After: sending}, ""},
		{"created offline", agent.OrderChange{After: pay(agent.StateOfflineAccepted, agent.OutcomeRecorded)}, agent.OutcomeRecorded},
		{"created refused offline", agent.OrderChange{After: pay(agent.StateVoided, agent.OutcomeRefusedOffline)}, agent.OutcomeRefusedOffline},
		{"paid", agent.OrderChange{Before: &sending, After: pay(agent.StatePaid, agent.OutcomePaid)}, agent.OutcomePaid},
		{"declined", agent.OrderChange{Before: &sending, After: pay(agent.StateDeclined, agent.OutcomeDeclined)}, agent.OutcomeDeclined},
		{"unknown", agent.OrderChange{Before: &sending, After: unknown}, agent.OutcomeWillConfirm},
		{"voided", agent.OrderChange{Before: &sending, After: pay(agent.StateVoided, agent.OutcomeNotCharged)}, agent.OutcomeNotCharged},
		{"orphan voided by the reconciler", agent.OrderChange{Before: &sending, After: pay(agent.StateVoided, "")}, ""},
		{"orphan charged", agent.OrderChange{Before: &sending, After: pay(agent.StateOrphanCharged, "")}, ""},
		{"unknown settled", agent.OrderChange{Before: &unknown, After: pay(agent.StatePaid, agent.OutcomeWillConfirm)}, ""},
		{"refund", agent.OrderChange{After: agent.Order{Kind: agent.KindRefund, State: agent.StateSending}}, ""},
	}
	for _, c := range cases {
		got, ok := c.change.Told()
		assert.Equal(t, c.told != "", ok, c.name)
		assert.Equal(t, c.told, got.Kind, c.name)
	}
}
