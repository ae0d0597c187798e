package status

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
)

func TestErrorLabels(t *testing.T) {
	cases := []struct {
		err        error
		code, kind string
	}{
		{&onecard.BusinessError{Method: onecard.MethodPay, Retcode: onecard.RetcodeInsufficient}, "60010", kindDeclined},
		{&onecard.SystemError{Code: onecard.ErrcodeBadSign}, "40004", kindDeclined},
		{&onecard.SystemError{Code: onecard.ErrcodeBusy}, "-1", kindUnknown},
		{&onecard.TransportError{Sent: true, Status: 500}, codeNone, kindUnknown},
		{&onecard.TransportError{Sent: false, Err: errors.New("connection refused")}, codeNone, kindNotSent},
		{&onecard.RequestError{Field: "tranamt"}, codeNone, kindNotSent},
		{&onecard.SignatureError{Err: errors.New("bad")}, codeNone, kindUnknown},
		{fmt.Errorf("wrapped: %w", &onecard.BusinessError{Retcode: onecard.RetcodeCardLost}), "60007", kindDeclined},
		// A code that is no code (a misbehaving platform) cannot make a
		// label value of its own.
		{&onecard.BusinessError{Retcode: "账户不存在"}, codeOther, kindDeclined},
		{&onecard.BusinessError{Retcode: "123456789"}, codeOther, kindDeclined},
		{&onecard.BusinessError{Retcode: "-"}, codeOther, kindDeclined},
		{&onecard.SystemError{Code: "--1"}, codeOther, kindDeclined},
	}
	for _, c := range cases {
		assert.Equal(t, c.code, errorCode(c.err), "%v", c.err)
		assert.Equal(t, c.kind, errorKind(c.err), "%v", c.err)
	}
}

func TestPaymentOutcome(t *testing.T) {
	pay := func(st agent.OrderState, attempts int, code string) agent.Order {
		return agent.Order{Kind: agent.KindPay, State: st, Attempts: attempts, Code: code}
	}
	sending := pay(agent.StateSending, 1, "")
	cases := []struct {
		name    string
		change  agent.OrderChange
		outcome string
	}{
		{"created sending: nothing told yet", agent.OrderChange{After: sending}, ""},
		{"created offline", agent.OrderChange{After: pay(agent.StateOfflineAccepted, 0, "")}, outcomeOfflineAccepted},
		{"created refused offline", agent.OrderChange{After: pay(agent.StateVoided, 0, agent.OfflineRefusedCode)}, outcomeRefusedOffline},
		{"paid", agent.OrderChange{Before: &sending, After: pay(agent.StatePaid, 1, "")}, outcomePaid},
		{"declined", agent.OrderChange{Before: &sending, After: pay(agent.StateDeclined, 1, "60010")}, outcomeDeclined},
		{"unknown", agent.OrderChange{Before: &sending, After: pay(agent.StateUnknown, 1, "")}, outcomeUnknown},
		{"offline after trying", agent.OrderChange{Before: &sending, After: pay(agent.StateOfflineAccepted, 1, "")}, outcomeOfflineAccepted},
		{"refused offline", agent.OrderChange{Before: &sending, After: pay(agent.StateVoided, 1, agent.OfflineRefusedCode)}, outcomeRefusedOffline},
		{"voided", agent.OrderChange{Before: &sending, After: pay(agent.StateVoided, 1, "")}, outcomeVoided},
		{"orphan voided by the reconciler", agent.OrderChange{Before: &sending, After: pay(agent.StateVoided, 2, "")}, ""},
		{"orphan charged", agent.OrderChange{Before: &sending, After: pay(agent.StateOrphanCharged, 2, "")}, ""},
		{"orphan given up", agent.OrderChange{Before: &sending, After: pay(agent.StateNeedsReview, 1, "")}, ""},
		{"attempt counted", agent.OrderChange{Before: &sending, After: pay(agent.StateSending, 2, "")}, ""},
		{"unknown settled", agent.OrderChange{Before: ptr(pay(agent.StateUnknown, 1, "")), After: pay(agent.StatePaid, 2, "")}, ""},
		{"refund", agent.OrderChange{After: agent.Order{Kind: agent.KindRefund, State: agent.StateSending}}, ""},
	}
	for _, c := range cases {
		got, ok := paymentOutcome(c.change)
		assert.Equal(t, c.outcome != "", ok, c.name)
		if ok {
			assert.Equal(t, c.outcome, got, c.name)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc":    "abc",
		"bearer abc":    "abc",
		"BEARER  abc ":  "abc",
		"Basic abc":     "",
		"Bearer":        "",
		"Bearer ":       "",
		"":              "",
		"Bearerabc":     "",
		"Bearer a b":    "a b",
		"Token abc def": "",
	} {
		got, ok := bearer(header)
		assert.Equal(t, want != "", ok, "%q", header)
		assert.Equal(t, want, got, "%q", header)
	}
}
