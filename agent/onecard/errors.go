package onecard

import (
	"errors"
	"fmt"
)

// The error types below say which layer of a call failed. A caller that
// moves money must decide between "declined" (the platform certainly did not
// act: tell the customer, nothing to reconcile) and "outcome unknown" (the
// platform may have acted: confirm through pay.query before anything else).
// Declined and OutcomeUnknown make that decision in one place.

// RequestError means the call was refused locally before anything was sent:
// an over-long field, a bad amount, an unknown idtype.
type RequestError struct {
	Method string
	Field  string
	Reason string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("onecard %s: invalid %s: %s (nothing was sent)", shortMethod(e.Method), e.Field, e.Reason)
}

// TransportError means the HTTP exchange failed. Sent reports whether the
// whole request had been written to the network: if so the platform may
// have processed it and the outcome is unknown.
type TransportError struct {
	Method string
	Sent   bool
	// Status is the HTTP status when the platform answered with one other
	// than 200; 0 when no status was received.
	Status int
	Err    error
}

func (e *TransportError) Error() string {
	when := "before the request was sent"
	if e.Sent {
		when = "after the request was sent (outcome unknown)"
	}
	if e.Status != 0 {
		msg := fmt.Sprintf("onecard %s: platform answered HTTP %d %s", shortMethod(e.Method), e.Status, when)
		var te *TextError
		if errors.As(e.Err, &te) {
			msg += fmt.Sprintf(": %q", te.Text)
		}
		return msg
	}
	return fmt.Sprintf("onecard %s: transport failed %s: %v", shortMethod(e.Method), when, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// SystemError is a non-zero errcode of the system layer (spec 1.2.2): the
// platform refused the envelope itself (signature, token, timestamp…).
type SystemError struct {
	Method string
	Code   string
}

func (e *SystemError) Error() string {
	return fmt.Sprintf("onecard %s: platform system error %s: %s", shortMethod(e.Method), e.Code, SystemErrorText(e.Code))
}

// TokenInvalid reports errcode 40017: fetch a new token and retry once.
func (e *SystemError) TokenInvalid() bool { return e.Code == ErrcodeTokenInvalid }

// BusinessError is a non-zero retcode in a verified, decrypted reply: the
// platform processed the call and refused it.
type BusinessError struct {
	Method  string
	Retcode string
	Msg     string
}

func (e *BusinessError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = RetcodeText(e.Retcode)
	}
	return fmt.Sprintf("onecard %s: declined by platform (retcode %s): %s", shortMethod(e.Method), e.Retcode, msg)
}

// TextError is a reply in bare text (sometimes GBK) instead of the envelope,
// as some deployments send for errors. It is never a success.
type TextError struct {
	Method string
	Status int
	Text   string
}

func (e *TextError) Error() string {
	return fmt.Sprintf("onecard %s: platform answered with text: %q", shortMethod(e.Method), e.Text)
}

// SignatureError means the reply's signature did not verify against the
// platform public key: the reply cannot be trusted either way.
type SignatureError struct {
	Method string
	Err    error
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("onecard %s: reply signature invalid: %v", shortMethod(e.Method), e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }

// DecodeError means the reply could not be decoded (envelope, base64,
// decryption, JSON, a field's value).
type DecodeError struct {
	Method string
	What   string
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("onecard %s: undecodable reply: %s: %v", shortMethod(e.Method), e.What, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Declined reports whether err says the platform certainly did not carry out
// the call: it was refused locally, never sent, refused by the system layer
// with a definite code, or declined with a business retcode.
func Declined(err error) bool {
	if err == nil {
		return false
	}
	var (
		re *RequestError
		te *TransportError
		se *SystemError
		be *BusinessError
	)
	switch {
	case errors.As(err, &re), errors.As(err, &be):
		return true
	case errors.As(err, &te):
		return NotSent(err)
	case errors.As(err, &se):
		// -1 busy and -2 internal error may come after the business layer
		// ran; only the 400xx refusals of the envelope are definite.
		return se.Code != ErrcodeBusy && se.Code != ErrcodeInternal
	}
	return false
}

// NotSent reports whether err says the request never left: a transport
// error before anything was sent. It is the one test of "sent or not":
// anything else may have reached the platform.
func NotSent(err error) bool {
	var te *TransportError
	return errors.As(err, &te) && !te.Sent
}

// OutcomeUnknown reports whether err leaves open that the platform carried
// out the call: the order must be confirmed through pay.query.
func OutcomeUnknown(err error) bool { return err != nil && !Declined(err) }

func shortMethod(m string) string {
	if m == "" {
		return "call"
	}
	return m
}

// System errcodes (spec 1.2.2).
const (
	ErrcodeOK           = "0"
	ErrcodeBusy         = "-1"
	ErrcodeInternal     = "-2"
	ErrcodeBadSign      = "40004"
	ErrcodeBadFormat    = "40015"
	ErrcodeTokenInvalid = "40017"
	ErrcodeBadTimestamp = "40018"
)

var systemErrorTexts = map[string]string{
	"0":     "success",
	"-1":    "system busy",
	"-2":    "internal error",
	"40001": "malformed request",
	"40002": "app_key not supported",
	"40003": "signature method not supported",
	"40004": "signature check failed",
	"40005": "system authorisation expired",
	"40006": "API authorisation expired",
	"40007": "client system authorisation expired",
	"40008": "system not authorised",
	"40009": "API not authorised",
	"40010": "client system not authorised",
	"40011": "client system not enabled",
	"40012": "API not supported",
	"40013": "API not enabled",
	"40014": "call limit exceeded",
	"40015": "data format error",
	"40016": "protocol version not supported",
	"40017": "access_token invalid",
	"40018": "timestamp invalid",
}

// SystemErrorText explains a system errcode in English.
func SystemErrorText(code string) string {
	if t, ok := systemErrorTexts[code]; ok {
		return t
	}
	return "unknown system error"
}

// Business retcodes seen in the field (NOTES).
const (
	RetcodeOK               = "0"
	RetcodeAccountNotFound  = "60003"
	RetcodeCardLost         = "60007"
	RetcodeInsufficient     = "60010"
	RetcodeFrozen           = "60013"
	RetcodeRecordNotFound   = "60024"
	RetcodeDuplicateOrder   = "60045"
	RetcodeTokenLimit       = "60048"
	RetcodeIntervalTooShort = "60066"
	// RetcodeOrderExists is a second "order number already exists" code
	// some deployments use beside 60045.
	RetcodeOrderExists = "60070"
	// RetcodeRefundTooLarge is the simulator's code for a refund beyond
	// what is left of the original payment; the spec names none.
	RetcodeRefundTooLarge = "60058"
)

var retcodeTexts = map[string]string{
	"60003": "account not found",
	"60007": "card reported lost",
	"60010": "insufficient balance",
	"60013": "account frozen",
	"60024": "record not found",
	"60045": "duplicate order number",
	"60048": "token call limit reached",
	"60066": "interval too short",
	"60058": "refund exceeds what is left of the payment",
	"60070": "order number already exists",
}

// RetcodeText explains a business retcode in English.
func RetcodeText(code string) string {
	if t, ok := KnownRetcodeText(code); ok {
		return t
	}
	return "business error"
}

// KnownRetcodeText returns the spec's English text of a retcode, and
// whether the spec names the code at all.
func KnownRetcodeText(code string) (string, bool) {
	t, ok := retcodeTexts[code]
	return t, ok
}

// ErrorCode returns the platform's code carried by err: the retcode of a
// BusinessError or the errcode of a SystemError; "" for any other error.
func ErrorCode(err error) string {
	var (
		se *SystemError
		be *BusinessError
	)
	switch {
	case errors.As(err, &be):
		return be.Retcode
	case errors.As(err, &se):
		return se.Code
	}
	return ""
}
