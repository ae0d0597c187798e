package agent

import (
	"errors"
	"fmt"

	"github.com/campuspos/kiosk/agent/onecard"
)

// The agent's errors say what a caller must decide on, in the kiosk's
// words; each wraps the protocol error it came from, for logs and
// technicians. The agent's answers (LookupCard, QueryCard, Pay) return
// them; the wire types stay behind Platform.
var (
	// ErrCardNotFound: the platform knows no card of the identity looked
	// up.
	ErrCardNotFound = errors.New("no card of this identity")
	// ErrPlatformUnreachable: the request never reached the platform, so
	// nothing of it was carried out.
	ErrPlatformUnreachable = errors.New("platform unreachable")
	// ErrOutcomeUnknown: the request was sent and no trustworthy answer
	// came back; the platform may have carried it out (a payment is
	// confirmed later through pay.query).
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// Declined is the platform's refusal: it answered and certainly did not
// carry out the request.
type Declined struct {
	// Code is the platform's retcode, or its errcode when System.
	Code string
	// Message is the platform's own text (often Chinese); "" when it gave
	// none.
	Message string
	// Text is the spec's English text of Code; "" when the spec has none
	// for it.
	Text string
	// System: refused by the platform's system layer (the envelope, the
	// token, the signature) rather than by the business.
	System bool
	err    error
}

func (e *Declined) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("declined by the platform: %s %s", e.Code, e.Message)
}

// Unwrap returns the protocol error.
func (e *Declined) Unwrap() error { return e.err }

// InvalidRequest is a request refused before it was sent: it breaks the
// protocol's rules (a field too long, an amount out of range).
type InvalidRequest struct {
	Reason string
	err    error
}

func (e *InvalidRequest) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return "invalid request: " + e.Reason
}

// Unwrap returns the protocol error.
func (e *InvalidRequest) Unwrap() error { return e.err }

// domainError says what a platform call's error means for the caller, in
// the agent's errors; nil stays nil, and an error that is none of them
// (a journal failure) is returned as it is.
func domainError(err error) error {
	var (
		re *onecard.RequestError
		te *onecard.TransportError
		se *onecard.SystemError
		be *onecard.BusinessError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*Declined)), errors.As(err, new(*InvalidRequest)),
		errors.Is(err, ErrPlatformUnreachable), errors.Is(err, ErrOutcomeUnknown), errors.Is(err, ErrCardNotFound):
		return err
	case errors.As(err, &re):
		return &InvalidRequest{Reason: re.Reason, err: err}
	case isNotSent(err):
		return fmt.Errorf("%w: %w", ErrPlatformUnreachable, err)
	case errors.As(err, &be):
		text, _ := onecard.KnownRetcodeText(be.Retcode)
		return &Declined{Code: be.Retcode, Message: be.Msg, Text: text, err: err}
	case errors.As(err, &se) && onecard.Declined(err):
		return &Declined{Code: se.Code, Text: onecard.SystemErrorText(se.Code), System: true, err: err}
	case errors.As(err, &se), errors.As(err, &te), isProtocolError(err):
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	return err
}

// lookupError is domainError for a card lookup, where the platform's
// "account not found" means there is no such card.
func lookupError(err error) error {
	var be *onecard.BusinessError
	if errors.As(err, &be) && be.Retcode == onecard.RetcodeAccountNotFound {
		return fmt.Errorf("%w: %w", ErrCardNotFound, err)
	}
	return domainError(err)
}

// isProtocolError reports whether err came from the protocol client (a
// reply it could not decode or trust, or a bare-text page instead of a
// reply) rather than from the terminal.
func isProtocolError(err error) bool {
	return errors.As(err, new(*onecard.DecodeError)) || errors.As(err, new(*onecard.SignatureError)) ||
		errors.As(err, new(*onecard.TextError))
}

// isNotSent reports whether a platform call's request never left
// (onecard.NotSent).
func isNotSent(err error) bool { return onecard.NotSent(err) }
