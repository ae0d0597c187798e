package status

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/campuspos/kiosk/agent"
)

// PINMetrics are the diagnostics PIN's metrics: wrong PINs and lockouts
// counted as they happen (Observe, called by the program's PIN check),
// and whether diagnostics is locked now, read from the lockout guard at
// scrape time. A guessing burst at a public kiosk shows as lockouts; the
// alert rule KioskPINGuessing fires on them.
type PINMetrics struct {
	failures, lockouts prometheus.Counter
	locked             *prometheus.Desc
	state              func(context.Context) (agent.PINState, error)
	now                func() time.Time
}

// NewPINMetrics counts from zero; state reads the lockout (e.g.
// (*agent.PINGuard).State), now is the clock it is compared with.
func NewPINMetrics(state func(context.Context) (agent.PINState, error), now func() time.Time) *PINMetrics {
	return &PINMetrics{
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_pin_failures_total",
			Help: "Wrong diagnostics PINs, and PINs tried while diagnostics was locked.",
		}),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_pin_lockouts_total",
			Help: "Times diagnostics was locked after too many wrong PINs.",
		}),
		locked: prometheus.NewDesc("kiosk_pin_locked",
			"1 while diagnostics is locked after too many wrong PINs, 0 otherwise; absent when the lockout cannot be read.", nil, nil),
		state: state,
		now:   now,
	}
}

// Observe counts one PIN attempt.
func (p *PINMetrics) Observe(a agent.PINAttempt) {
	if a.OK {
		return
	}
	p.failures.Inc()
	if a.Locked {
		p.lockouts.Inc()
	}
}

// Describe sends the descriptors (prometheus.Collector).
func (p *PINMetrics) Describe(ch chan<- *prometheus.Desc) {
	p.failures.Describe(ch)
	p.lockouts.Describe(ch)
	ch <- p.locked
}

// Collect sends the counts and reads the lockout (prometheus.Collector).
func (p *PINMetrics) Collect(ch chan<- prometheus.Metric) {
	p.failures.Collect(ch)
	p.lockouts.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultReadTimeout)
	defer cancel()
	st, err := p.state(ctx)
	if err != nil {
		return
	}
	locked := 0.0
	if p.now().Before(st.LockedUntil) {
		locked = 1
	}
	ch <- prometheus.MustNewConstMetric(p.locked, prometheus.GaugeValue, locked)
}
