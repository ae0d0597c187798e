package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// queued returns the queue's JSON object of one order.
func (e *env) queued(t *testing.T, orderNo string) map[string]any {
	t.Helper()
	code, q := e.jsonRun(t, "queue")
	require.Equal(t, exitOK, code)
	for _, o := range q["orders"].([]any) {
		if o := o.(map[string]any); o["order_no"] == orderNo {
			return o
		}
	}
	t.Fatalf("order %s is not in the queue: %v", orderNo, q)
	return nil
}

// queueLine returns the line of `kioskctl queue` showing orderNo.
func (e *env) queueLine(t *testing.T, orderNo string) string {
	t.Helper()
	code, out, errOut := e.kioskctl(t, "queue")
	require.Equal(t, exitOK, code, errOut)
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 2 && f[2] == orderNo {
			return line
		}
	}
	t.Fatalf("order %s is not in the queue:\n%s", orderNo, out)
	return ""
}

// payThenLoseRefund pays 10.00 and refunds 5.00 of it with the refund's
// reply dropped: the refund's outcome is unknown (exit 3). It returns the
// payment's number.
func (e *env) payThenLoseRefund(t *testing.T) string {
	t.Helper()
	code, pay := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", "10.00")
	require.Equal(t, exitOK, code)
	payment := pay["order_no"].(string)
	e.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodRefund, Times: 1})
	code, refund := e.jsonRun(t, "refund", "--order-no", payment, "--amount", "5.00")
	require.Equal(t, exitUnknown, code)
	require.Equal(t, agent.RefundNo(agent.Order{OrderNo: payment}), refund["order_no"])
	return payment
}

// reconcileUntilSettled runs kioskctl reconcile until it settles an order
// (the reconciler waits out the request's timeout, 1s, first).
func (e *env) reconcileUntilSettled(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		code, rec := e.jsonRun(t, "reconcile")
		return code == exitOK && len(rec["settled"].([]any)) > 0
	}, 10*time.Second, 100*time.Millisecond)
}

func TestRefundRefusedWhileOneIsUnconfirmed(t *testing.T) {
	e := newEnv(t)
	payment := e.payThenLoseRefund(t)
	first := payment + "R1"

	sent, ledger := e.simulator.Stats(), len(e.simulator.Transactions())
	code, out, errOut := e.kioskctl(t, "refund", "--order-no", payment, "--amount", "5.00")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, first+" (unknown, 5.00)")
	assert.Contains(t, errOut, "kioskctl reconcile")
	assert.Contains(t, errOut, "kioskctl query "+first)
	assert.NotContains(t, errOut, "kioskctl resolve", "the refund is not under review")
	assert.NotContains(t, errOut, "kioskctl bill", "the platform has not said it has the refund")
	assert.NotContains(t, errOut, "outcome is unknown", "nothing was sent: nothing is unknown")
	assert.Equal(t, sent, e.simulator.Stats(), "nothing more was sent to the platform")
	assert.Len(t, e.simulator.Transactions(), ledger)

	line := e.queueLine(t, payment)
	assert.Contains(t, line, "pending "+first)
	assert.NotContains(t, line, "refunded")
	assert.Contains(t, e.queueLine(t, first), "refund of "+payment)

	e.reconcileUntilSettled(t)
	line = e.queueLine(t, payment)
	assert.Contains(t, line, "partially_refunded")
	assert.Contains(t, line, "refunded 5.00")
	assert.NotContains(t, line, "pending")

	code, out, errOut = e.kioskctl(t, "refund", "--order-no", payment, "--amount", "5.00")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "order "+payment+"R2: paid")
	bal, _ := e.simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal, "charged 10.00, refunded 5.00 twice")
	assert.Contains(t, e.queueLine(t, payment), "refunded 10.00")
}

// The JSON variant, with a platform whose pay.query does not know refund
// numbers: the refund is resent, the platform answers "duplicate order
// number", and only the day's bill settles it.
func TestRefundRefusedJSONAndTheBillSettles(t *testing.T) {
	e := newEnv(t, func(o *sim.Options) { o.QueryForgetsRefunds = true })
	payment := e.payThenLoseRefund(t)
	first := payment + "R1"

	require.Eventually(t, func() bool {
		code, _ := e.jsonRun(t, "reconcile")
		return code == exitOK && e.queued(t, first)["platform_has"] == true
	}, 10*time.Second, 100*time.Millisecond)
	refund := e.queued(t, first)
	assert.Equal(t, "unknown", refund["state"])
	created, err := time.Parse(time.RFC3339, refund["created"].(string))
	require.NoError(t, err)
	day := created.Format(onecard.BillDateLayout)

	p := e.queued(t, payment)
	assert.Equal(t, []any{first}, p["pending_refunds"])
	assert.Equal(t, "0.00", p["refunded"])
	assert.EqualValues(t, 0, p["refunded_fen"])
	assert.EqualValues(t, 1, p["refunds_started"])
	assert.Equal(t, false, p["platform_has"])
	assert.Contains(t, e.queueLine(t, first), "platform has it")

	sent := e.simulator.Stats()
	code, obj := e.jsonRun(t, "refund", "--order-no", payment, "--amount", "5.00")
	assert.Equal(t, exitUsage, code)
	assert.EqualValues(t, exitUsage, obj["exit"])
	assert.Equal(t, "blocked", obj["outcome"])
	assert.Contains(t, obj["error"], first)
	assert.Equal(t, payment, obj["order_no"])
	assert.Equal(t, []any{map[string]any{
		"order_no": first, "state": "unknown", "amount": "5.00", "amount_fen": 500.0, "platform_has": true,
	}}, obj["pending_refunds"])
	assert.Equal(t, []any{"kioskctl reconcile", "kioskctl query " + first, "kioskctl bill --date " + day + " --reconcile"}, obj["next_steps"])
	assert.Equal(t, sent, e.simulator.Stats(), "nothing more was sent to the platform")

	code, _, errOut := e.kioskctl(t, "refund", "--order-no", payment, "--amount", "5.00")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "pay.query may not know refund numbers")

	code, rep := e.jsonRun(t, "bill", "--date", day, "--reconcile")
	require.Equal(t, exitOK, code, "%v", rep)
	p = e.queued(t, payment)
	assert.Equal(t, "partially_refunded", p["state"])
	assert.Equal(t, "5.00", p["refunded"])
	assert.Equal(t, []any{}, p["pending_refunds"])

	code, obj = e.jsonRun(t, "refund", "--order-no", payment, "--amount", "5.00")
	require.Equal(t, exitOK, code, "%v", obj)
	assert.Equal(t, payment+"R2", obj["order_no"])
	assert.Equal(t, "10.00", e.queued(t, payment)["refunded"])
}

// A refund under review is ended by a person: the refusal says how, and
// names each bill to read once.
func TestBlockedRefundSteps(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	created := time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC) // 01:30 on the 5th in Shanghai
	res := blockedRefund(&agent.RefundBlockedError{OrderNo: "P", Pending: []agent.Order{
		{OrderNo: "PR1", State: agent.StateNeedsReview, Amount: 1_00, PlatformHas: true, Created: created},
		{OrderNo: "PR2", State: agent.StateUnknown, Amount: 2_00, PlatformHas: true, Created: created},
	}}, loc)
	assert.Equal(t, []string{
		"kioskctl reconcile",
		"kioskctl query PR1",
		"kioskctl resolve PR1 --as paid|declined --note ...",
		"kioskctl bill --date 20261205 --reconcile",
		"kioskctl query PR2",
	}, res.obj.(map[string]any)["next_steps"])
	assert.Contains(t, res.advice, "PR1  needs_review  1.00")
	assert.Contains(t, res.advice, "PR1 needs review")
	assert.Empty(t, res.text)
}
