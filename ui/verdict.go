package ui

import (
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// verdict is what a scan, a lookup or a payment came to, kept as facts
// rather than words: the Kiosk words it (Kiosk.word) each time it is
// drawn, so that a language switch rewords a result on screen.
type verdict struct {
	kind verdictKind
	// err is why the lookup failed (verdictLookupFailed), or what Pay
	// returned (verdictPayment).
	err error
	// card is the card refused (verdictRefused) or charged
	// (verdictPayment).
	card   cardInfo
	order  agent.Order // verdictPayment: the order as Pay returned it
	amount money.Fen   // verdictPayment: the amount asked
	// named: a canteen result, which names the cardholder so that the
	// cashier can tell whose card it was.
	named bool
	// until is when the card may pay here again (verdictPasswordLocked).
	until time.Time
}

// verdictKind is what happened, which decides the result shown.
type verdictKind int

// Verdicts.
const (
	// verdictNone: nothing to report; of a lookup, the card may pay.
	verdictNone verdictKind = iota
	// verdictUnmapped: the scan names nothing the terminal can look up.
	verdictUnmapped
	// verdictLookupFailed: the lookup returned an error.
	verdictLookupFailed
	// verdictNotFound: the lookup found no card.
	verdictNotFound
	// verdictRefused: the card is lost, frozen or expired.
	verdictRefused
	// verdictPayment: a payment was answered, whatever the answer.
	verdictPayment
	// verdictPasswordLocked: too many wrong passwords for the card: it
	// cannot pay amounts that need its password on this terminal until
	// verdict.until. Nothing was charged.
	verdictPasswordLocked
)

// judgeLookup says what a lookup's answer means for a purchase: the card
// to charge, and the verdict that stops the purchase (verdictNone when
// the card may pay). The self-service lookup and the canteen's charge
// both go by it.
func judgeLookup(l agent.CardLookup, err error, now time.Time) (cardInfo, verdict) {
	if err != nil {
		return cardInfo{}, verdict{kind: verdictLookupFailed, err: err}
	}
	c := cardFromLookup(l, now)
	switch {
	case c.account == "":
		return c, verdict{kind: verdictNotFound}
	case c.refusal != "":
		return c, verdict{kind: verdictRefused, card: c}
	}
	return c, verdict{}
}
