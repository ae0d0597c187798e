package agent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
)

func TestShorten(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"short", "short"},
		{"a\n  b\tc", "a b c"},
		{"一二三四五六七八九十", "一二三四…"},
		{"abcdefgh", "abcd…"},
		{"abcde", "abcde"},
	} {
		assert.Equal(t, c.want, agent.Shorten(c.in, 5), "%q", c.in)
	}
}

func TestStateKnown(t *testing.T) {
	for _, s := range agent.States() {
		assert.True(t, s.Known(), s)
	}
	assert.False(t, agent.OrderState("not_found").Known())
	assert.False(t, agent.OrderState("").Known())
}

func TestOffsetTooLarge(t *testing.T) {
	assert.False(t, agent.OffsetTooLarge(agent.ClockOffsetLimit))
	assert.False(t, agent.OffsetTooLarge(-agent.ClockOffsetLimit))
	assert.True(t, agent.OffsetTooLarge(agent.ClockOffsetLimit+time.Second))
	assert.True(t, agent.OffsetTooLarge(-agent.ClockOffsetLimit-time.Second))
}
