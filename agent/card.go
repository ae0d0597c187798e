package agent

import (
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// Identity is what a card is looked up by: an identity type (sno, id,
// phone, acc, cardid, barcode: query.card's idtype) and the value a scan
// or a person gave.
type Identity struct {
	Type string
	ID   string
}

// Card is one campus card as the terminal knows it: from the platform, or
// from the terminal's memory of it while the platform is unreachable
// (Cached).
type Card struct {
	Account string
	// Name is the holder's name as the platform gave it (masked already
	// when Cached); show MaskName(Name) to the public.
	Name      string
	Balance   money.Fen
	Unsettled money.Fen
	// Lost and Frozen are true for any flag value but "0": a value the
	// terminal does not know must not let a payment through.
	Lost   bool
	Frozen bool
	// Expires is the last valid day, yyyyMMdd; "" when the platform did
	// not say.
	Expires        string
	CardType       string
	CardName       string
	BarcodeEnabled bool
	// SNo, Phone and Cert identify the holder, for technicians; never
	// shown to the public.
	SNo, Phone, Cert string
	// Cached: the platform was unreachable and this is the terminal's
	// memory of the card, with the balance and flags last seen at SeenAt.
	Cached bool
	SeenAt time.Time
}

// CardRefusal says why a card may not pay; "" when it may.
type CardRefusal string

// Why a card may not pay.
const (
	CardLost    CardRefusal = "lost"
	CardFrozen  CardRefusal = "frozen"
	CardExpired CardRefusal = "expired"
)

// Refusal is the one rule of which card may pay at now: not lost, not
// frozen, not past its expiry day (in now's zone). A missing or
// malformed expiry date is left to the platform to judge.
func (c Card) Refusal(now time.Time) CardRefusal {
	switch {
	case c.Lost:
		return CardLost
	case c.Frozen:
		return CardFrozen
	case c.expired(now):
		return CardExpired
	}
	return ""
}

func (c Card) expired(now time.Time) bool {
	d, err := time.ParseInLocation("20060102", c.Expires, now.Location())
	return err == nil && now.After(d.AddDate(0, 0, 1))
}

// CardLookup is the answer to a card lookup: an identity's cards, online,
// or the one card the terminal remembers (Cards[0].Cached) when the
// platform is unreachable.
type CardLookup struct {
	Cards []Card
}

// Choose picks the card to charge: of several (an identity with an old
// lost card and a new one) the first that may pay, else the first, with
// why it may not. ok is false when there is no card at all.
func (l CardLookup) Choose(now time.Time) (c Card, refusal CardRefusal, ok bool) {
	for _, c := range l.Cards {
		if r := c.Refusal(now); r == "" {
			return c, "", true
		}
	}
	if len(l.Cards) == 0 {
		return Card{}, "", false
	}
	return l.Cards[0], l.Cards[0].Refusal(now), true
}

// MaskName keeps a name's first character: enough for a student to
// recognise their card on the screen, not enough to read it off.
func MaskName(name string) string {
	r := []rune(name)
	if len(r) <= 1 {
		return name
	}
	out := string(r[0])
	for range r[1:] {
		out += "*"
	}
	return out
}
