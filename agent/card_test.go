package agent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
)

// Card.Refusal is the one rule of which card may pay.
func TestCardRefusal(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		card agent.Card
		want agent.CardRefusal
	}{
		{"good", agent.Card{}, ""},
		{"lost", agent.Card{Lost: true}, agent.CardLost},
		{"frozen", agent.Card{Frozen: true}, agent.CardFrozen},
		{"lost and frozen: lost first", agent.Card{Lost: true, Frozen: true}, agent.CardLost},
		{"expired yesterday", agent.Card{Expires: "20261126"}, agent.CardExpired},
		{"valid through its last day", agent.Card{Expires: "20261127"}, ""},
		{"malformed expiry left to the platform", agent.Card{Expires: "2026-11-01"}, ""},
	} {
		assert.Equal(t, c.want, c.card.Refusal(now), c.name)
	}
}

// Choose takes the first card that may pay, else the first with its reason.
func TestCardLookupChoose(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	lost := agent.Card{Account: "1", Lost: true}
	good := agent.Card{Account: "2"}
	c, r, ok := agent.CardLookup{Cards: []agent.Card{lost, good}}.Choose(now)
	assert.True(t, ok)
	assert.Equal(t, "2", c.Account)
	assert.Empty(t, r)
	c, r, ok = agent.CardLookup{Cards: []agent.Card{lost}}.Choose(now)
	assert.True(t, ok)
	assert.Equal(t, "1", c.Account)
	assert.Equal(t, agent.CardLost, r)
	_, _, ok = agent.CardLookup{}.Choose(now)
	assert.False(t, ok)
}
