package status

import (
	"errors"
	"strings"

	"github.com/campuspos/kiosk/agent/onecard"
)

// methods lists the platform methods with their short label: the method
// name after "synjones.onecard." (or "synjones."), as the spec's tables
// name them.
func methods() map[string]string {
	return map[string]string{
		onecard.MethodAccessToken: "authorize.access_token",
		onecard.MethodQueryCard:   "query.card",
		onecard.MethodPay:         "gdccard.pay",
		onecard.MethodRefund:      "gdccard.refund",
		onecard.MethodPayQuery:    "pay.query",
		onecard.MethodDownBill:    "down.bill",
	}
}

// methodOther labels a method the client does not know, so that a bad
// value cannot make series without end.
const methodOther = "other"

// Error kinds, the values of kiosk_platform_errors_total's kind label.
const (
	// kindDeclined: the platform answered and refused (a retcode, or a
	// definite errcode).
	kindDeclined = "declined"
	// kindUnknown: sent, and no trustworthy answer came back
	// (onecard.OutcomeUnknown).
	kindUnknown = "unknown"
	// kindNotSent: refused locally or never reached the platform.
	kindNotSent = "not_sent"
)

func errorKind(err error) string {
	switch {
	case onecard.OutcomeUnknown(err):
		return kindUnknown
	case errors.As(err, new(*onecard.RequestError)), onecard.NotSent(err):
		return kindNotSent
	}
	return kindDeclined
}

// Codes of errors that carry none from the platform, and of codes that are
// not a platform code at all.
const (
	codeNone  = "none"
	codeOther = "other"
)

// maxCodeLen bounds a code label: the spec's codes are at most 5 digits.
const maxCodeLen = 8

// errorCode is the platform's errcode or retcode of err (onecard.ErrorCode),
// codeNone when it carries none, codeOther when what it carries does not
// look like a code: a label takes only a bounded set of values.
func errorCode(err error) string {
	c := onecard.ErrorCode(err)
	switch {
	case c == "":
		return codeNone
	case len(c) > maxCodeLen || strings.Trim(strings.TrimPrefix(c, "-"), "0123456789") != "" || c == "-":
		return codeOther
	}
	return c
}

// stateFrom is kiosk_order_transitions_total's from label for a created
// order.
const stateFrom = "new"
