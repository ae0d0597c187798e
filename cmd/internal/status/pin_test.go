package status

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
)

// gatherAlone scrapes one collector of single-valued metrics alone (the
// PIN's, the card password's): name → value.
func gatherAlone(t *testing.T, p prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p)
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		got[f.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return got
}

// Wrong PINs and lockouts are counted as they happen; whether diagnostics
// is locked is read from the guard's state when scraped, and left out
// when it cannot be read.
func TestPINMetrics(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	st, stErr := agent.PINState{}, error(nil)
	p := NewPINMetrics(func(context.Context) (agent.PINState, error) { return st, stErr }, func() time.Time { return now })
	p.Observe(agent.PINAttempt{OK: true})
	p.Observe(agent.PINAttempt{TriesLeft: 4})
	p.Observe(agent.PINAttempt{Locked: true, LockedUntil: now.Add(time.Minute)})
	st = agent.PINState{LockedUntil: now.Add(time.Minute)}
	assert.Equal(t, map[string]float64{"kiosk_pin_failures_total": 2, "kiosk_pin_lockouts_total": 1, "kiosk_pin_locked": 1}, gatherAlone(t, p))

	now = now.Add(time.Minute)
	assert.Equal(t, 0.0, gatherAlone(t, p)["kiosk_pin_locked"], "the lock is over")
	stErr = errors.New("journal closed")
	_, present := gatherAlone(t, p)["kiosk_pin_locked"]
	assert.False(t, present, "unknown is absent, not 0")
}
