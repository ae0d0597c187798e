package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/cmd/internal/status"
)

// pinGuard is the configured diagnostics PIN behind the journal's lockout,
// or nil when no PIN is set (diagnostics then opens without one; start-up
// warns).
func pinGuard(cfg *config.Config, store agent.PINStore) *agent.PINGuard {
	hash := cfg.UI.PINHash
	if hash == "" {
		return nil
	}
	return agent.NewPINGuard(func(pin string) bool { return config.PINMatches(hash, pin) }, store, agent.SystemClock{}, agent.PINPolicy{})
}

// pinWarning is what start-up says about the configured PIN: none set, or
// one short enough to guess (the demo's short PIN is expected); "" when it
// is fine.
func pinWarning(cfg *config.Config, demo bool) string {
	if cfg.UI.PINHash == "" {
		return "ui.pin_hash is not set: the diagnostics screen opens without a PIN"
	}
	if demo {
		return "" // the demo's PIN is short on purpose: no need to try every short PIN
	}
	if n, short := config.ShortPIN(cfg.UI.PINHash); short {
		return fmt.Sprintf("the diagnostics PIN has %d digits: use %d or more (kiosk --hash-pin); "+
			"the lockout slows a guesser at the screen, it does not stop one for ever", n, config.SafePINLen)
	}
	return ""
}

// pinCheck is the screens' PIN check (ui.Deps.CheckPIN): each attempt goes
// through the guard, which journals a wrong one before answering, and is
// logged and counted. The PIN itself is never logged.
func pinCheck(g *agent.PINGuard, log *slog.Logger, metrics *status.PINMetrics) func(pin string) agent.PINAttempt {
	return func(pin string) agent.PINAttempt {
		a, err := g.Try(context.Background(), pin)
		if err != nil {
			log.Error("diagnostics PIN: the lockout could not be kept in the journal; it holds until the kiosk restarts", "err", err)
		}
		if metrics != nil {
			metrics.Observe(a)
		}
		switch {
		case a.OK:
			log.Info("diagnostics opened with the PIN")
		case a.Locked:
			log.Warn("diagnostics locked after too many wrong PINs: someone may be guessing it",
				"until", a.LockedUntil, "tries", g.Policy().MaxTries)
		case !a.LockedUntil.IsZero():
			log.Warn("diagnostics PIN tried while locked", "until", a.LockedUntil)
		default:
			log.Warn("wrong diagnostics PIN", "tries_left", a.TriesLeft)
		}
		return a
	}
}

// logCardPassword logs one card password check (agent.PasswordCheck): a
// burst of wrong ones is someone trying found cards. It holds neither the
// password nor the card.
func logCardPassword(log *slog.Logger, c agent.PasswordCheck) {
	switch {
	case c.OK:
		log.Info("card password accepted")
	case c.Locked:
		log.Warn("card password: the card is locked on this terminal after too many wrong passwords")
	case c.Refused:
		log.Warn("card password tried for a card locked on this terminal; the platform was not asked")
	case c.Wrong:
		log.Warn("wrong card password", "tries_left", c.TriesLeft)
	}
}
