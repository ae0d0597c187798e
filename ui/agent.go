package ui

import (
	"context"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// Agent is what the screens need of the terminal's agent (an
// *agent.Service satisfies it): look a card up, pay, follow its events,
// and what diagnostics shows. The screens see the agent's vocabulary only,
// never the wire protocol or the journal.
type Agent interface {
	LookupCard(ctx context.Context, id agent.Identity) (agent.CardLookup, error)
	Pay(ctx context.Context, in agent.PayInput) (agent.Order, error)
	Subscribe(ctx context.Context) <-chan agent.Event
	Online() (online bool, since time.Time)
	UnfinishedCount(ctx context.Context) (int, error)
	ReconcileAll(ctx context.Context) (agent.ReconcileReport, error)

	// The card's password (issue 15): whether an amount needs it, and
	// checking it (VerifyCardPassword zeroes pwd).
	PasswordRequired(amount money.Fen) bool
	VerifyCardPassword(ctx context.Context, account string, pwd []byte) (agent.PasswordProof, error)
	// CardPasswordLocks counts the cards locked on this terminal now.
	CardPasswordLocks(ctx context.Context) (int, error)

	// Diagnostics.
	ClockOffset() (offset time.Duration, at time.Time, ok bool)
	TokenInfo(ctx context.Context) (agent.TokenInfo, error)
	StateCounts(ctx context.Context) (map[agent.OrderState]int, error)
	OfflineExposure(ctx context.Context, account string) (agent.OfflineExposure, error)
	Today() string
	DayReport(ctx context.Context, date string) (agent.DayReport, error)
	Settlements(ctx context.Context) ([]agent.BillReport, error)
	Options() agent.Options
}
