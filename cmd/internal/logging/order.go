package logging

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Messages of the records OrderLog writes, for filtering the log by event.
const (
	MsgOrderCreated = "order created"
	MsgOrderState   = "order state changed"
	MsgOrderUpdated = "order updated"
	MsgCall         = "platform call"
)

// OrderLog writes every order's life and every platform call to a log. Its
// methods fit app.Hooks (Order and Call) as they are, or called from a
// function that also feeds the metrics. It is safe for concurrent use.
type OrderLog struct {
	log *slog.Logger
}

// NewOrderLog returns an OrderLog writing to log. The log need not mask:
// OrderLog masks the account itself.
func NewOrderLog(log *slog.Logger) *OrderLog {
	return &OrderLog{log: log}
}

// Order logs one journal write (agent.ObserveJournal): a created order and
// each state change at info — at warn when the order now waits for a
// person (needs_review) or the goods went out unpaid
// (failed_after_offline) — and an update that leaves the state alone (an
// attempt counted, the next attempt moved) at debug. Every record carries
// "order_no", so that the log filtered by it is the order's life.
//
// An update that made several state changes at once gives one record for
// each, with each change's own from, to and note, read from the part of
// the history the update appended; the other attributes (out_id, code,
// reason…) are the order's as written.
func (l *OrderLog) Order(ctx context.Context, c agent.OrderChange) {
	o := &c.After
	switch {
	case c.Created():
		var note string
		if n := len(o.History); n > 0 {
			note = o.History[n-1].Note
		}
		l.state(ctx, MsgOrderCreated, o, "", o.State, note, c)
	case c.StateChanged():
		added := o.History[min(len(c.Before.History), len(o.History)):]
		if len(added) == 0 {
			// The store only appends to the history, so this is an
			// order moved without Order.To; log the move anyway.
			l.state(ctx, MsgOrderState, o, c.Before.State, o.State, "", c)
		}
		for _, t := range added {
			l.state(ctx, MsgOrderState, o, t.From, t.To, t.Note, c)
		}
	default:
		if !l.log.Enabled(ctx, slog.LevelDebug) {
			return
		}
		attrs := appendOrder(make([]slog.Attr, 0, 10), o)
		attrs = append(attrs, slog.String("state", string(o.State)), slog.Int("attempts", o.Attempts))
		if !o.NextAttempt.IsZero() {
			attrs = append(attrs, slog.Time("next_attempt", o.NextAttempt))
		}
		if o.LastError != "" {
			attrs = append(attrs, slog.String("last_error", o.LastError))
		}
		l.log.LogAttrs(ctx, slog.LevelDebug, MsgOrderUpdated, attrs...)
	}
}

// state logs one state change of o (from is "" for a created order) made
// by change c; the change that journalled what the customer was told says
// so ("told").
func (l *OrderLog) state(ctx context.Context, msg string, o *agent.Order, from, to agent.OrderState, note string, c agent.OrderChange) {
	level := slog.LevelInfo
	if to == agent.StateNeedsReview || to == agent.StateFailedAfterOffline {
		level = slog.LevelWarn
	}
	if !l.log.Enabled(ctx, level) {
		return
	}
	attrs := appendOrder(make([]slog.Attr, 0, 14), o)
	if from != "" {
		attrs = append(attrs, slog.String("from", string(from)))
	}
	attrs = append(attrs, slog.String("to", string(to)))
	if note != "" {
		attrs = append(attrs, slog.String("note", note))
	}
	if o.OutID != "" {
		attrs = append(attrs, slog.String("out_id", o.OutID))
	}
	if o.Code != "" {
		attrs = append(attrs, slog.String("code", o.Code))
	}
	if o.Message != "" {
		attrs = append(attrs, slog.String("reason", o.Message))
	}
	if o.LastError != "" && to != agent.StatePaid {
		// The error that made the order unknown or sent it offline; a
		// paid order's last error is history.
		attrs = append(attrs, slog.String("last_error", o.LastError))
	}
	if o.RefundOrderNo != "" {
		attrs = append(attrs, slog.String("refund_order_no", o.RefundOrderNo))
	}
	if told, ok := c.Told(); ok && to == o.State {
		attrs = append(attrs, slog.String("told", string(told.Kind)))
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}

// appendOrder appends what every record of an order starts with.
func appendOrder(attrs []slog.Attr, o *agent.Order) []slog.Attr {
	attrs = append(attrs,
		slog.String("order_no", o.OrderNo),
		slog.String("kind", string(o.Kind)),
		slog.String("amount", o.Amount.Yuan()),
		slog.String("account", agent.MaskAccount(o.Account)))
	if o.RefundOf != "" {
		attrs = append(attrs, slog.String("refund_of", o.RefundOf))
	}
	return attrs
}

// Call logs one platform call (onecard.Config.Observe) at debug, or at warn
// when it failed for a reason other than the platform's business answer or
// a local refusal of the request: an unknown outcome, an unreachable
// platform, a system errcode (signature, token, timestamp). The result is
// "ok", "declined" or "unknown" as onecard.Declined sorts it; errcode is the
// platform's code when it gave one. Nothing of the request or the token is
// logged: CallInfo carries neither.
func (l *OrderLog) Call(ci onecard.CallInfo) {
	ctx := context.Background()
	level, result := slog.LevelDebug, "ok"
	switch {
	case ci.Err == nil:
	case onecard.Declined(ci.Err):
		result = "declined"
		if !routineDecline(ci.Err) {
			level = slog.LevelWarn
		}
	default:
		result, level = "unknown", slog.LevelWarn
	}
	if !l.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs,
		slog.String("method", ci.Method),
		slog.Float64("duration_ms", float64(ci.Duration.Round(time.Microsecond))/float64(time.Millisecond)),
		slog.String("result", result))
	if ci.Err != nil {
		if code := onecard.ErrorCode(ci.Err); code != "" {
			attrs = append(attrs, slog.String("errcode", code))
		}
		attrs = append(attrs, slog.String("err", ci.Err.Error()))
	}
	l.log.LogAttrs(ctx, level, MsgCall, attrs...)
}

// routineDecline reports whether err is a decline that is part of the
// day's business (insufficient balance, a lost card, a malformed scan)
// rather than a sign that the terminal or the network is in trouble.
func routineDecline(err error) bool {
	var (
		be *onecard.BusinessError
		re *onecard.RequestError
	)
	return errors.As(err, &be) || errors.As(err, &re)
}
