package status

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
)

// Wrong passwords and tries on a locked card count as failures, right ones
// do not; the locked cards are read when scraped, and left out when they
// cannot be read.
func TestCardPasswordMetrics(t *testing.T) {
	n, nErr := 0, error(nil)
	m := NewCardPasswordMetrics(func(context.Context) (int, error) { return n, nErr })
	m.Observe(agent.PasswordCheck{OK: true})
	m.Observe(agent.PasswordCheck{Wrong: true, TriesLeft: 2})
	m.Observe(agent.PasswordCheck{Wrong: true, Locked: true})
	m.Observe(agent.PasswordCheck{Refused: true})
	n = 1
	assert.Equal(t, map[string]float64{"kiosk_card_password_failures_total": 3, "kiosk_card_password_locked": 1},
		gatherAlone(t, m))
	nErr = errors.New("journal closed")
	_, present := gatherAlone(t, m)["kiosk_card_password_locked"]
	assert.False(t, present, "unknown is absent, not 0")
}
