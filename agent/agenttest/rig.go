// Package agenttest runs a real agent.Service for tests: the platform
// simulator over loopback HTTP, a bbolt journal in a temporary directory
// and one movable clock for both (NewRig), and a network that a test can
// cut (NetSwitch). The agent's tests and the screens' tests share it, so
// that both exercise the same wiring as the kiosk instead of fakes, and
// so that the wiring is written once.
//
// It links the testing package, the simulator and the bbolt journal:
// production code never imports it (docs/ARCHITECTURE.md, import rules).
package agenttest

import (
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
)

// Rig is a real agent.Service for tests: a simulator on loopback, a client
// for it, a bbolt journal, and the Service over them, all on one movable
// clock. Tests reach past the Service to each part: the simulator to
// inject faults and read its ledger, the store to look at or change the
// journal behind the Service's back, the clock to cross intervals without
// waiting. Everything is closed with the test's Cleanup.
type Rig struct {
	// Simulator is the platform.
	Simulator *sim.Server
	// Client talks to Simulator, through the transport wrappers given
	// (WrapTransport).
	Client *onecard.Client
	// Store is the journal and token store; a test that reopens the file
	// (Path) sets it to the new Store.
	Store *offline.Store
	// Service is the agent over Client and Store with the test options
	// (NewService).
	Service *agent.Service
	// Clock is shared by Simulator, Client and Service.
	Clock *onecardtest.Clock
	// Path is Store's file, for tests that copy, restore or reopen it.
	Path string
}

// Option changes how NewRig builds a Rig.
type Option func(*config)

type config struct {
	wraps   []func(http.RoundTripper) http.RoundTripper
	simOpts []func(*sim.Options)
}

// WrapTransport has the client's requests go through wrap, to watch or
// hold a request on its way, or to cut the network (NetSwitch.Wrap). Each
// wrapper given wraps the ones before it.
func WrapTransport(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *config) { c.wraps = append(c.wraps, wrap) }
}

// SimOptions changes the simulator's options before it starts, after the
// rig has set its clock (sim.Options.Now), for a platform that behaves
// otherwise (refunds uncapped, a pay.query that forgets refunds, …).
func SimOptions(opts ...func(*sim.Options)) Option {
	return func(c *config) { c.simOpts = append(c.simOpts, opts...) }
}

// NewRig starts a simulator (onecardtest.NewTestPair), opens a journal in
// t.TempDir() and builds the Service over them (NewService). The clock
// stands at 2026-11-27 12:00 UTC, 20:00 on the platform's day: tests count
// from there to the platform's midnight and to settlement times.
func NewRig(t testing.TB, opts ...Option) *Rig {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	clock := onecardtest.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	var used sim.Options // the simulator's options as it started, for a rebuilt client
	simOpts := append([]func(*sim.Options){func(o *sim.Options) { o.Now = clock.Now }}, c.simOpts...)
	simulator, client := onecardtest.NewTestPair(t, append(simOpts, func(o *sim.Options) { used = *o })...)
	if len(c.wraps) > 0 {
		client = wrappedClient(t, simulator, used, c.wraps)
	}
	path := filepath.Join(t.TempDir(), "kiosk.db")
	store, err := offline.Open(path)
	if err != nil {
		t.Fatalf("agenttest: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	r := &Rig{Simulator: simulator, Client: client, Store: store, Clock: clock, Path: path}
	r.Service = r.NewService(store)
	return r
}

// wrappedClient builds a client like NewTestPair's, for the simulator
// started with o, whose transport goes through wraps: NewTestPair does not
// let its client's transport be changed.
func wrappedClient(t testing.TB, s *sim.Server, o sim.Options, wraps []func(http.RoundTripper) http.RoundTripper) *onecard.Client {
	t.Helper()
	clientPriv, _, _ := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(o.AppSecret)
	if err != nil {
		t.Fatalf("agenttest: app secret: %v", err)
	}
	hc := onecard.NewHTTPClient(10*time.Second, nil)
	t.Cleanup(hc.CloseIdleConnections)
	for _, wrap := range wraps {
		hc.Transport = wrap(hc.Transport)
	}
	cfg := onecard.Config{URL: s.URL(), BillURL: s.BillURL(), AppKey: o.AppKey, Cipher: cipher, PrivateKey: clientPriv,
		Location: s.Location(), HTTPClient: hc, Now: o.Now}
	if o.PlatformKey != nil {
		cfg.PlatformKey = &o.PlatformKey.PublicKey
	}
	client, err := onecard.New(cfg)
	if err != nil {
		t.Fatalf("agenttest: client: %v", err)
	}
	return client
}

// NewService builds a Service over journal j, the rig's client and clock,
// keeping its access token in Store, with the test options: termid 17 and
// mercacc 100000, the offline limits (30.00 a payment, 50.00 and 3
// payments in all, 40.00 a card a day, cards seen within the hour), the
// reconciler every second up to a minute, giving up after a day, the
// simulator's zone, and the jitter fixed at the middle so that schedules
// are the same on every run. Each tune function changes the options
// first. Tests call it for a Service with other options, over a journal
// they wrap or reopened (a test that reopens the file sets Store first).
func (r *Rig) NewService(j agent.Journal, tune ...func(*agent.Options)) *agent.Service {
	opts := agent.Options{
		Terminal: agent.Terminal{TermID: "17", MercAcc: "100000"},
		Offline: agent.OfflinePolicy{Enabled: true, MaxAmount: 30_00, MaxTotal: 50_00, MaxCount: 3,
			MaxPerCardDay: 40_00, CardMaxAge: time.Hour},
		Reconcile: agent.ReconcilePolicy{Interval: time.Second, MaxInterval: time.Minute,
			GiveUpAfter: 24 * time.Hour, RequestTimeout: 2 * time.Second},
		Location: r.Simulator.Location(),
		Clock:    r.Clock,
		Jitter:   func() float64 { return 0.5 },
	}
	for _, f := range tune {
		f(&opts)
	}
	return agent.NewService(agent.NewPlatform(r.Client, r.Store, r.Clock), j, opts)
}

// NetSwitch cuts the terminal's network: while Down is set, every request
// through Wrap fails before a byte is written, like a pulled cable or a
// refused connection, so that the agent knows it was never sent. It is
// safe for concurrent use.
type NetSwitch struct {
	// Down cuts the network while set.
	Down atomic.Bool
}

// Wrap is the switch as a transport wrapper: WrapTransport(sw.Wrap).
func (n *NetSwitch) Wrap(next http.RoundTripper) http.RoundTripper {
	return RoundTripFunc(func(req *http.Request) (*http.Response, error) {
		if n.Down.Load() {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("network is unreachable")}
		}
		return next.RoundTrip(req)
	})
}

// RoundTripFunc is a function as an http.RoundTripper, for the transport
// wrappers tests write (WrapTransport): net/http has no such adapter.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
