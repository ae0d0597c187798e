package logging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/cmd/internal/logging"
)

var at = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// sent is a payment just journalled, about to be sent.
func sent() agent.Order {
	return agent.Order{
		OrderNo: "2026112712000017000001", Kind: agent.KindPay, Account: "100001", AccType: "1", MercAcc: "100000",
		TermID: "17", Amount: 1234, Created: at, Updated: at, State: agent.StateSending, Attempts: 1,
		History: []agent.Transition{{At: at, To: agent.StateSending}},
	}
}

// change is the write that turned before into after by fn.
func change(t *testing.T, before agent.Order, fn func(o *agent.Order)) agent.OrderChange {
	t.Helper()
	after := before
	after.History = append([]agent.Transition(nil), before.History...)
	fn(&after)
	return agent.OrderChange{Before: &before, After: after}
}

func orderLog(t *testing.T, level string) (*logging.OrderLog, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	log, err := logging.New(&buf, config.Log{Format: config.LogJSON, Level: level})
	require.NoError(t, err)
	return logging.NewOrderLog(log), &buf
}

func TestOrderCreatedAndStateChanges(t *testing.T) {
	l, buf := orderLog(t, "debug")
	ctx := context.Background()
	o := sent()
	l.Order(ctx, agent.OrderChange{After: o})
	c := change(t, o, func(o *agent.Order) {
		o.LastError = "onecard pay: transport failed after the request was sent (outcome unknown): EOF"
		require.NoError(t, o.To(agent.StateUnknown, at, "no answer: will be confirmed"))
	})
	l.Order(ctx, c)
	c = change(t, c.After, func(o *agent.Order) { o.Attempts, o.NextAttempt = 2, at.Add(time.Minute) })
	l.Order(ctx, c)
	c = change(t, c.After, func(o *agent.Order) {
		o.OutID, o.LastError = "9000000001", ""
		require.NoError(t, o.To(agent.StatePaid, at, "confirmed by pay.query"))
	})
	l.Order(ctx, c)

	recs := records(t, buf.String())
	require.Len(t, recs, 4)
	common := map[string]any{"order_no": "2026112712000017000001", "kind": "pay", "amount": "12.34", "account": "**0001"}
	for i, want := range []map[string]any{
		{"level": "INFO", "msg": logging.MsgOrderCreated, "to": "sending"},
		{"level": "INFO", "msg": logging.MsgOrderState, "from": "sending", "to": "unknown", "note": "no answer: will be confirmed",
			"last_error": "onecard pay: transport failed after the request was sent (outcome unknown): EOF"},
		{"level": "DEBUG", "msg": logging.MsgOrderUpdated, "state": "unknown", "attempts": float64(2),
			"next_attempt": "2026-11-27T12:01:00Z", "last_error": "onecard pay: transport failed after the request was sent (outcome unknown): EOF"},
		{"level": "INFO", "msg": logging.MsgOrderState, "from": "unknown", "to": "paid", "note": "confirmed by pay.query", "out_id": "9000000001"},
	} {
		delete(recs[i], "time")
		for k, v := range common {
			want[k] = v
		}
		assert.Equal(t, want, recs[i], "record %d", i)
	}
}

func TestOrderDeclineAndReview(t *testing.T) {
	l, buf := orderLog(t, "info")
	ctx := context.Background()
	declined := change(t, sent(), func(o *agent.Order) {
		o.Code, o.Message = onecard.RetcodeInsufficient, "onecard pay: declined by platform (retcode 60010): insufficient balance"
		require.NoError(t, o.To(agent.StateDeclined, at, "declined by the platform"))
	})
	l.Order(ctx, declined)
	// One write that made two changes gives two records, each with its
	// own note.
	twice := change(t, sent(), func(o *agent.Order) {
		require.NoError(t, o.To(agent.StateUnknown, at, "no answer"))
		require.NoError(t, o.To(agent.StateNeedsReview, at, "gave up after 24h"))
	})
	l.Order(ctx, twice)
	l.Order(ctx, change(t, twice.After, func(o *agent.Order) { o.Attempts++ }))

	recs := records(t, buf.String())
	require.Len(t, recs, 3, "the update that changed no state is at debug")
	assert.Equal(t, "INFO", recs[0]["level"])
	assert.Equal(t, "60010", recs[0]["code"])
	assert.Equal(t, declined.After.Message, recs[0]["reason"])
	assert.Equal(t, []any{"sending", "unknown", "no answer"}, []any{recs[1]["from"], recs[1]["to"], recs[1]["note"]})
	assert.Equal(t, "INFO", recs[1]["level"])
	assert.Equal(t, []any{"unknown", "needs_review", "gave up after 24h"}, []any{recs[2]["from"], recs[2]["to"], recs[2]["note"]})
	assert.Equal(t, "WARN", recs[2]["level"], "a person must look")
}

func TestOrderRefund(t *testing.T) {
	l, buf := orderLog(t, "info")
	r := sent()
	r.OrderNo, r.Kind, r.RefundOf, r.Amount = "2026112712000017000002", agent.KindRefund, "2026112712000017000001", 500
	l.Order(context.Background(), agent.OrderChange{After: r})
	rec := one(t, buf)
	assert.Equal(t, "refund", rec["kind"])
	assert.Equal(t, "5.00", rec["amount"])
	assert.Equal(t, "2026112712000017000001", rec["refund_of"])
}

func TestCall(t *testing.T) {
	l, buf := orderLog(t, "debug")
	l.Call(onecard.CallInfo{Method: onecard.MethodPay, Duration: 12345 * time.Microsecond})
	l.Call(onecard.CallInfo{Method: onecard.MethodPay, Duration: time.Millisecond,
		Err: &onecard.BusinessError{Method: onecard.MethodPay, Retcode: onecard.RetcodeInsufficient}})
	l.Call(onecard.CallInfo{Method: onecard.MethodPay, Duration: time.Second,
		Err: &onecard.TransportError{Method: onecard.MethodPay, Sent: true, Err: errors.New("EOF")}})
	l.Call(onecard.CallInfo{Method: onecard.MethodPay, Duration: time.Millisecond,
		Err: fmt.Errorf("wrapped: %w", &onecard.SystemError{Method: onecard.MethodPay, Code: onecard.ErrcodeBadSign})})

	recs := records(t, buf.String())
	require.Len(t, recs, 4)
	for _, r := range recs {
		assert.Equal(t, logging.MsgCall, r["msg"])
		assert.Equal(t, onecard.MethodPay, r["method"])
	}
	assert.Equal(t, []any{"DEBUG", "ok", 12.345}, []any{recs[0]["level"], recs[0]["result"], recs[0]["duration_ms"]})
	assert.NotContains(t, recs[0], "err")
	assert.Equal(t, []any{"DEBUG", "declined", "60010"}, []any{recs[1]["level"], recs[1]["result"], recs[1]["errcode"]},
		"a business decline is the day's business")
	assert.Equal(t, []any{"WARN", "unknown", nil}, []any{recs[2]["level"], recs[2]["result"], recs[2]["errcode"]})
	assert.Contains(t, recs[2]["err"], "outcome unknown")
	assert.Equal(t, []any{"WARN", "declined", "40004"}, []any{recs[3]["level"], recs[3]["result"], recs[3]["errcode"]},
		"a refused signature is definite, and trouble")

	buf.Reset()
	l, buf = orderLog(t, "info")
	l.Call(onecard.CallInfo{Method: onecard.MethodPay})
	assert.Empty(t, buf.String())
}
