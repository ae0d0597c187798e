package agent

import (
	"context"
	"fmt"
)

// OfflineRefusedCode is the Code of a voided order that was refused
// offline: the platform was unreachable and the payment fell outside the
// offline limits.
const OfflineRefusedCode = "offline_refused"

// OfflineRefusal says why a payment could not be accepted while the
// platform is unreachable. Code names the limit (one of the Offline*
// constants) so that a screen can say it in the customer's language; Reason
// is the English text with the figures, for logs and kioskctl.
type OfflineRefusal struct {
	Code   string
	Reason string
}

// Offline refusal codes.
const (
	OfflineOff     = "off"
	OfflineAmount  = "amount"
	OfflineStore   = "store"
	OfflineUnseen  = "unseen"
	OfflineStale   = "stale"
	OfflineLost    = "lost"
	OfflineFrozen  = "frozen"
	OfflineCount   = "count"
	OfflineTotal   = "total"
	OfflineCardDay = "card_day"
	OfflineBalance = "balance"
	// OfflinePassword: the amount needs the card's password, which cannot
	// be checked offline (PasswordRequiredError).
	OfflinePassword = "password_required"
)

func (e *OfflineRefusal) Error() string { return "cannot accept offline: " + e.Reason }

// offlineCheck decides whether o may be accepted while the platform is
// unreachable: within every limit, and only for a card seen online
// recently, neither lost nor frozen, with the balance it showed then.
func (s *Service) offlineCheck(ctx context.Context, o Order) *OfflineRefusal {
	p := s.opts.Offline
	if !p.Enabled {
		return &OfflineRefusal{Code: OfflineOff, Reason: "offline payments are off on this terminal"}
	}
	if o.Amount > p.MaxAmount {
		return &OfflineRefusal{Code: OfflineAmount, Reason: fmt.Sprintf("%s is above the offline limit of %s per payment", o.Amount, p.MaxAmount)}
	}
	card, ok, err := s.journal.Card(ctx, "acc", o.Account)
	switch {
	case err != nil:
		return &OfflineRefusal{Code: OfflineStore, Reason: "the card cache cannot be read"}
	case !ok:
		return &OfflineRefusal{Code: OfflineUnseen, Reason: "this card has not been seen online on this terminal"}
	case s.now().Sub(card.SeenAt) > p.CardMaxAge:
		return &OfflineRefusal{Code: OfflineStale, Reason: "this card has not been seen online recently"}
	case card.Lost:
		return &OfflineRefusal{Code: OfflineLost, Reason: "this card is reported lost"}
	case card.Frozen:
		return &OfflineRefusal{Code: OfflineFrozen, Reason: "this account is frozen"}
	}
	day := s.day(s.now())
	exp, err := s.journal.OfflineExposure(ctx, o.Account, day)
	switch {
	case err != nil:
		return &OfflineRefusal{Code: OfflineStore, Reason: "the offline totals cannot be read"}
	case exp.Count+1 > p.MaxCount:
		return &OfflineRefusal{Code: OfflineCount, Reason: fmt.Sprintf("%d payments are already waiting to be sent", exp.Count)}
	case exp.Amount+o.Amount > p.MaxTotal:
		return &OfflineRefusal{Code: OfflineTotal, Reason: fmt.Sprintf("%s is already waiting to be sent (limit %s)", exp.Amount, p.MaxTotal)}
	case exp.CardDay+o.Amount > p.MaxPerCardDay:
		return &OfflineRefusal{Code: OfflineCardDay, Reason: fmt.Sprintf("this card's offline limit of %s a day is reached", p.MaxPerCardDay)}
	case exp.CardDay+o.Amount > card.Balance:
		return &OfflineRefusal{Code: OfflineBalance, Reason: "the balance last seen is too low"}
	}
	return nil
}
