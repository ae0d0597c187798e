package status

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/campuspos/kiosk/agent"
)

// CardPasswordMetrics are the card query password's metrics: failed
// passwords counted as they happen (Observe, the agent's
// Options.OnPasswordCheck), and how many cards are locked on this terminal
// now, read from the agent at scrape time. Someone trying passwords on a
// found card shows as a burst of failures; the alert rule
// KioskCardPasswordGuessing fires on it. Neither the password nor the
// card is ever a label.
type CardPasswordMetrics struct {
	failures prometheus.Counter
	locked   *prometheus.Desc
	count    func(context.Context) (int, error)
}

// NewCardPasswordMetrics counts from zero; locked counts the cards locked
// now (e.g. (*agent.Service).CardPasswordLocks).
func NewCardPasswordMetrics(locked func(context.Context) (int, error)) *CardPasswordMetrics {
	return &CardPasswordMetrics{
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_card_password_failures_total",
			Help: "Wrong card query passwords, and passwords tried for a card locked on this terminal.",
		}),
		locked: prometheus.NewDesc("kiosk_card_password_locked",
			"Cards locked on this terminal after too many wrong query passwords; absent when the lockouts cannot be read.", nil, nil),
		count: locked,
	}
}

// Observe counts one password check.
func (m *CardPasswordMetrics) Observe(c agent.PasswordCheck) {
	if c.Failure() {
		m.failures.Inc()
	}
}

// Describe sends the descriptors (prometheus.Collector).
func (m *CardPasswordMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.failures.Describe(ch)
	ch <- m.locked
}

// Collect sends the count and reads the lockouts (prometheus.Collector).
func (m *CardPasswordMetrics) Collect(ch chan<- prometheus.Metric) {
	m.failures.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultReadTimeout)
	defer cancel()
	n, err := m.count(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(m.locked, prometheus.GaugeValue, float64(n))
}
