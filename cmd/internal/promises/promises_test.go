package promises_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/promises"
)

var at = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

// pay is a journal payment whose history went through states, the first
// of them what its payment told the customer (agent.OutcomeFromHistory).
func pay(no string, amount money.Fen, states ...agent.OrderState) agent.Order {
	o := agent.Order{OrderNo: no, Kind: agent.KindPay, Account: "1", Amount: amount, State: agent.StateSending}
	for _, s := range states {
		o.History = append(o.History, agent.Transition{At: at, From: o.State, To: s})
		o.State = s
	}
	o.Outcome = agent.OutcomeFromHistory(o)
	return o
}

func charge(no string, amount money.Fen, status onecard.OrderStatus) sim.Transaction {
	return sim.Transaction{Kind: sim.KindPay, OrderNo: no, Account: "1", Amount: amount, Status: status}
}

func refund(no, of string, amount money.Fen) sim.Transaction {
	return sim.Transaction{Kind: sim.KindRefund, OrderNo: no, RefundOf: of, Account: "1", Amount: amount,
		Status: onecard.StatusPaid}
}

// Each invariant catches the breach it is named after, and a journal that
// agrees with the ledger breaks none.
func TestCheckNamesEachBrokenPromise(t *testing.T) {
	refunded := pay("R", 10_00, agent.StatePaid, agent.StatePartiallyRefunded)
	refunded.Refunded = 4_00
	refundOrder := agent.Order{OrderNo: "R-R1", Kind: agent.KindRefund, RefundOf: "R", Account: "1", Amount: 4_00, State: agent.StatePaid}
	good := promises.Input{
		Orders: []agent.Order{pay("A", 5_00, agent.StatePaid), pay("V", 3_00, agent.StateVoided), refunded, refundOrder},
		Ledger: []sim.Transaction{charge("A", 5_00, onecard.StatusPaid), charge("R", 10_00, onecard.StatusPaid),
			refund("R-R1", "R", 4_00)},
	}
	rep := promises.Check(good)
	assert.True(t, rep.OK(), rep.String())
	assert.Equal(t, 2, rep.Told)
	assert.Equal(t, 1, rep.Untold)

	for _, c := range []struct {
		name string
		in   promises.Input
		want promises.Invariant
	}{
		{"told, never charged", promises.Input{Orders: []agent.Order{pay("A", 5_00, agent.StatePaid)}},
			promises.ToldChargedOnce},
		{"never told, charged", promises.Input{Orders: []agent.Order{pay("V", 3_00, agent.StateVoided)},
			Ledger: []sim.Transaction{charge("V", 3_00, onecard.StatusPaid)}}, promises.UntoldNetsZero},
		{"refunded more than the journal says", promises.Input{Orders: []agent.Order{pay("A", 5_00, agent.StatePaid)},
			Ledger: []sim.Transaction{charge("A", 5_00, onecard.StatusPaid), refund("A-R1", "A", 1_00)}}, promises.RefundsMatch},
		{"refunded beyond the payment", promises.Input{Orders: []agent.Order{pay("A", 5_00, agent.StatePaid)},
			Ledger: []sim.Transaction{charge("A", 5_00, onecard.StatusPaid), refund("A-R1", "A", 6_00)}}, promises.RefundsMatch},
		{"declined while charged", promises.Input{Orders: []agent.Order{pay("D", 2_00, agent.StateDeclined)},
			Ledger: []sim.Transaction{charge("D", 2_00, onecard.StatusPaid)}}, promises.NeverDeniedWhileHeld},
		{"one number, two purchases", promises.Input{Orders: []agent.Order{pay("A", 5_00, agent.StatePaid)},
			Told: []promises.Told{{Purchase: 1, OrderNo: "A", Account: "1", Amount: 5_00, State: agent.StatePaid},
				{Purchase: 2, OrderNo: "A", Account: "1", Amount: 7_00, State: agent.StatePaid}},
			Ledger: []sim.Transaction{charge("A", 5_00, onecard.StatusPaid)}}, promises.OneNumberOnePurchase},
		{"a charge with no order", promises.Input{Ledger: []sim.Transaction{charge("X", 1_00, onecard.StatusPaid)}},
			promises.NoStrayTransactions},
	} {
		rep := promises.Check(c.in)
		assert.NotEmpty(t, rep.Violations[c.want], "%s: %s", c.name, rep)
	}

	// After a restore, a charge the journal forgot is the platform's alone,
	// and an offline acceptance it forgot before sending is the canteen's
	// loss; neither is a broken promise.
	rep = promises.Check(promises.Input{Restored: true,
		Told:   []promises.Told{{Purchase: 1, OrderNo: "F", Account: "1", Amount: 2_00, State: agent.StateOfflineAccepted}},
		Ledger: []sim.Transaction{charge("X", 1_00, onecard.StatusPaid)}})
	assert.True(t, rep.OK(), rep.String())
	assert.Equal(t, 1, rep.Lost)
	assert.Equal(t, 1, rep.Forgotten)
}
