package ui

import (
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// cardInfo is the card on screen: what a person may see of it, and the
// account a payment names.
type cardInfo struct {
	account string
	name    string // masked
	balance money.Fen
	// cached: the platform was unreachable and this is the terminal's
	// memory of the card, balance as last seen.
	cached bool
	// refusal says why the card cannot pay; "" when it can.
	refusal msg
}

// cardFromLookup is the card to charge from a lookup (agent.CardLookup.Choose
// picks it); with no card at all, account stays "".
func cardFromLookup(l agent.CardLookup, now time.Time) cardInfo {
	c, refusal, ok := l.Choose(now)
	if !ok {
		return cardInfo{refusal: mNotFound}
	}
	return cardInfo{account: c.Account, name: agent.MaskName(c.Name), balance: c.Balance, cached: c.Cached,
		refusal: refusalText(refusal)}
}

// refusalText is the catalogue's words for why a card may not pay.
func refusalText(r agent.CardRefusal) msg {
	switch r {
	case agent.CardLost:
		return mRefusedLost
	case agent.CardFrozen:
		return mRefusedFrozen
	case agent.CardExpired:
		return mRefusedExpiry
	}
	return ""
}
