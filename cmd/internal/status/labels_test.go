package status

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

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
