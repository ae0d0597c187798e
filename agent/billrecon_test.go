package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReconcileBillActsOnWhatItFinds(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	day := r.Clock.Now().In(r.Simulator.Location()).Format(onecard.BillDateLayout)

	paid, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00})
	require.NoError(t, err)

	// An orphan that found nothing on the platform was voided; its request
	// arrived after all (held up somewhere) and was charged.
	late := r.orphan(t, sim.DemoNormal, 2_00, false)
	r.Clock.Advance(2 * time.Minute)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, agent.StateVoided, r.state(t, late.OrderNo).State)
	r.charge(t, late.OrderNo, sim.DemoNormal, 2_00)

	// Another terminal's payment on the shared bill, and one with this
	// terminal's prefix that its journal does not have.
	for _, no := range []string{"0018OTHERTERMINAL01", "0017NOTINJOURNAL01"} {
		_, err = r.Service.Platform().Pay(ctx, onecard.PayRequest{OrderNo: no, Account: sim.DemoRich,
			AccType: "###", MercAcc: "100000", Amount: 50, TermID: "18"})
		require.NoError(t, err)
	}

	rep, err := r.Service.ReconcileBill(ctx, day)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Counts[agent.BillPlatformOnly], "another terminal's order is not this one's to report")
	assert.Equal(t, 1, rep.Counts[agent.BillStatusMismatch])
	assert.GreaterOrEqual(t, rep.Counts[agent.BillMatched], 1)
	assert.Equal(t, agent.StatePaid, r.state(t, paid.OrderNo).State)

	// The late charge was refunded: the customer was never told of it.
	got := r.state(t, late.OrderNo)
	assert.Equal(t, agent.StateOrphanRefunded, got.State)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-1_00), bal)

	saved, ok, err := r.Store.BillReport(ctx, day)
	require.NoError(t, err)
	require.True(t, ok, "the report is kept")
	assert.Equal(t, rep.Counts, saved.Counts)
}
