package status

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Metrics counts what the agent's hooks report: payments by outcome, order
// state changes, platform calls' latency and errors. Its two Observe
// methods are meant for app.Hooks (Call and Order); they never block and
// are safe for concurrent use. It is a prometheus.Collector: a Server
// given it in Options serves it on /metrics.
type Metrics struct {
	payments    map[agent.OutcomeKind]prometheus.Counter // by outcome; read-only after NewMetrics
	paymentsVec *prometheus.CounterVec
	transitions *prometheus.CounterVec
	latency     map[string]prometheus.Observer // by full method name; read-only
	latencyVec  *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	methods     map[string]string
}

// latencyBuckets cover a loopback simulator (milliseconds) up to the
// longest platform timeout config allows (2m).
func latencyBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
}

// NewMetrics returns zeroed counters.
func NewMetrics() *Metrics {
	m := &Metrics{
		paymentsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_payments_total",
			Help: "Payments by what the customer was told, as journalled: paid, declined, unknown (will be confirmed), " +
				"offline_accepted (recorded), refused_offline (platform unreachable, outside the offline limits), " +
				"voided (platform unreachable, offline acceptance off).",
		}, []string{"outcome"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_order_transitions_total",
			Help: "Journalled order state changes by order kind (pay, refund); from is \"new\" for a created order.",
		}, []string{"kind", "from", "to"}),
		latencyVec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiosk_platform_request_duration_seconds",
			Help:    "Platform calls by method, successful or not: from the call's start to its return.",
			Buckets: latencyBuckets(),
		}, []string{"method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_platform_errors_total",
			Help: "Failed platform calls by method, platform code (errcode or retcode; none when there is none) and kind: " +
				"declined (the platform refused), unknown (sent, no trustworthy answer), not_sent (never reached the platform).",
		}, []string{"method", "code", "kind"}),
		payments: map[agent.OutcomeKind]prometheus.Counter{},
		latency:  map[string]prometheus.Observer{},
		methods:  methods(),
	}
	for _, o := range agent.Outcomes() {
		m.payments[o] = m.paymentsVec.WithLabelValues(string(o))
	}
	for full, short := range m.methods {
		m.latency[full] = m.latencyVec.WithLabelValues(short)
	}
	return m
}

// ObserveCall counts one finished platform call (app.Hooks.Call).
func (m *Metrics) ObserveCall(ci onecard.CallInfo) {
	if h, ok := m.latency[ci.Method]; ok {
		h.Observe(ci.Duration.Seconds())
	} else {
		m.latencyVec.WithLabelValues(methodOther).Observe(ci.Duration.Seconds())
	}
	if ci.Err != nil {
		m.errors.WithLabelValues(m.methodLabel(ci.Method), errorCode(ci.Err), errorKind(ci.Err)).Inc()
	}
}

func (m *Metrics) methodLabel(method string) string {
	if short, ok := m.methods[method]; ok {
		return short
	}
	return methodOther
}

// ObserveOrder counts one journalled order write (app.Hooks.Order).
func (m *Metrics) ObserveOrder(_ context.Context, c agent.OrderChange) {
	if !c.StateChanged() {
		return
	}
	from := stateFrom
	if c.Before != nil {
		from = string(c.Before.State)
	}
	m.transitions.WithLabelValues(string(c.After.Kind), from, string(c.After.State)).Inc()
	if told, ok := c.Told(); ok {
		m.payments[told.Kind].Inc()
	}
}

// Describe sends the descriptors of every metric Metrics counts
// (prometheus.Collector).
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.paymentsVec.Describe(ch)
	m.transitions.Describe(ch)
	m.latencyVec.Describe(ch)
	m.errors.Describe(ch)
}

// Collect sends the current counts (prometheus.Collector).
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.paymentsVec.Collect(ch)
	m.transitions.Collect(ch)
	m.latencyVec.Collect(ch)
	m.errors.Collect(ch)
}
