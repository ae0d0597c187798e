package status_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/status"
	"github.com/campuspos/kiosk/device"
)

// rig is a running agent on the in-process simulator, wired with
// app.OpenWith to Metrics' hooks, and its status Server serving on a
// loopback port.
type rig struct {
	simulator *sim.Server
	// unplug makes the platform unreachable, as a pulled cable: every
	// request after it fails before it is sent.
	unplug  func()
	app     *app.App
	metrics *status.Metrics
	url     string
	client  *http.Client
	// stop ends Serve and returns what it returned.
	stop func() error

	mu      sync.Mutex
	devices []device.Status
	// devicesHook, when set, runs inside every read of the devices.
	devicesHook func()
	// glyphs are what the screens' MissingGlyphs says (setGlyphs).
	glyphs string
}

// rigOptions vary a rig.
type rigOptions struct {
	// token is status.token; "" for none.
	token string
	// extra is YAML appended to the kiosk configuration.
	extra string
	// clock, when set, is the agent's and the simulator's clock; else both
	// read the machine's.
	clock *onecardtest.Clock
}

// testVersion is the Version a rig's server is given.
const testVersion = "test-1.2.3"

func newRig(tb testing.TB, o rigOptions) *rig {
	tb.Helper()
	var clock agent.Clock = agent.SystemClock{}
	now := time.Now
	if o.clock != nil {
		clock, now = o.clock, o.clock.Now
	}
	simulator, unplug := startSimulator(tb, now)
	extra := o.extra
	if o.token != "" {
		extra += "status:\n  listen: 127.0.0.1:0\n  token: " + o.token + "\n"
	}
	cfg, err := config.Load(onecardtest.WriteKioskConfig(tb, tb.TempDir(), simulator, "5s", extra))
	require.NoError(tb, err)
	m := status.NewMetrics()
	a, err := app.OpenWith(cfg, clock, app.Hooks{Call: m.ObserveCall, Order: m.ObserveOrder})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = a.Close() }) // a test may have closed it already

	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	r := &rig{simulator: simulator, unplug: unplug, app: a, metrics: m, client: &http.Client{Transport: tr},
		devices: []device.Status{{Name: "reader", Spec: "serial:/dev/ttyUSB0", Connected: true, Opens: 1}}}
	srv := status.New(status.Options{Config: cfg, Agent: a.Service, Tokens: a.Store, Devices: r.deviceStatus,
		MissingGlyphs: r.missingGlyphs, Metrics: m, Version: testVersion})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	r.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	r.stop = sync.OnceValue(func() error {
		cancel()
		return <-served
	})
	tb.Cleanup(func() { _ = r.stop() })
	return r
}

// startSimulator serves a simulator with the TEST-ONLY keys on a loopback
// port of its own, with keep-alives off: each exchange has a connection of
// its own, so that a request after unplug meets a refused dial (never
// sent), as with a pulled cable, and never a kept-alive connection closed
// under it (sent, outcome unknown). now is the simulator's clock.
func startSimulator(tb testing.TB, now func() time.Time) (simulator *sim.Server, unplug func()) {
	tb.Helper()
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	simulator, err = sim.NewHandler(sim.Options{
		AppKey: onecardtest.TestAppKey, AppSecret: secret, ClientKey: &clientPriv.PublicKey, PlatformKey: platformPriv,
		BaseURL: "http://" + ln.Addr().String(), Now: now,
	})
	require.NoError(tb, err)
	hs := &http.Server{Handler: simulator, ReadHeaderTimeout: 10 * time.Second}
	hs.SetKeepAlivesEnabled(false)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(ln) // ErrServerClosed once unplugged
	}()
	unplug = sync.OnceFunc(func() {
		_ = hs.Close() // nothing to report: the listener goes, as meant
		<-served
	})
	tb.Cleanup(func() {
		unplug()
		simulator.Close()
	})
	return simulator, unplug
}

func (r *rig) deviceStatus() []device.Status {
	r.mu.Lock()
	hook, ds := r.devicesHook, append([]device.Status(nil), r.devices...)
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ds
}

func (r *rig) setDevices(ds ...device.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.devices = ds
}

// get fetches path, with the bearer token when one is given.
func (r *rig) get(tb testing.TB, path, token string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url+path, nil)
	require.NoError(tb, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.client.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp, body
}

// scrape fetches /metrics and parses it as a Prometheus scraper would.
func (r *rig) scrape(tb testing.TB) families {
	tb.Helper()
	resp, body := r.get(tb, "/metrics", "")
	require.Equal(tb, http.StatusOK, resp.StatusCode, "%s", body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(tb, err)
	return fams
}

// health fetches /healthz.
func (r *rig) health(tb testing.TB) (int, status.Health) {
	tb.Helper()
	resp, body := r.get(tb, "/healthz", "")
	var h status.Health
	require.NoError(tb, json.Unmarshal(body, &h), "%s", body)
	return resp.StatusCode, h
}

// codes are the reason codes of /healthz reasons.
func codes(h status.Health) []string {
	var out []string
	for _, r := range h.Reasons {
		code, _, _ := strings.Cut(r, ":")
		out = append(out, code)
	}
	return out
}

// families are parsed metric families by name.
type families map[string]*dto.MetricFamily

// value returns the value of the one series of name with exactly the given
// labels: a counter's or gauge's value, a histogram's sample count.
func (f families) value(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	m := f.series(tb, name, labels...)
	require.NotNil(tb, m, "%s%v not found", name, labels)
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	tb.Fatalf("%s: no value", name)
	return 0
}

// series finds the series of name whose labels are exactly labels (name,
// value pairs); nil when there is none.
func (f families) series(tb testing.TB, name string, labels ...string) *dto.Metric {
	tb.Helper()
	require.Zero(tb, len(labels)%2, "labels come in pairs")
	fam, ok := f[name]
	if !ok {
		return nil
	}
	want := map[string]string{}
	for i := 0; i < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) == len(want) {
			match := true
			for k, v := range want {
				match = match && got[k] == v
			}
			if match {
				return m
			}
		}
	}
	return nil
}

// sum adds up every series of a counter family.
func (f families) sum(name string) float64 {
	total := 0.0
	for _, m := range f[name].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	return total
}

// secrets are the strings no status answer may hold: the demo cards'
// account and card numbers, other identities and holders' names.
func secrets() []string {
	var out []string
	for _, c := range sim.DemoCards() {
		for _, s := range []string{c.Account, c.CardID, c.SNo, c.Phone, c.Cert, c.Barcode, c.Name} {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
