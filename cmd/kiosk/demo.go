package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/demo"
	"github.com/campuspos/kiosk/offline"
	"github.com/campuspos/kiosk/ui"
)

// demoPlatform is the simulated platform of kiosk --demo, served from
// inside the kiosk on a loopback port, with a network cable that the
// diagnostics screen can pull.
type demoPlatform struct {
	simulator *sim.Server
	// addr is where the platform listens, kept while the cable is pulled
	// so that plugging it back restores the address in kiosk.yaml.
	addr string
	log  *slog.Logger

	mu     sync.Mutex
	srv    *http.Server // nil while the cable is pulled
	closed bool
	// serving counts the Serve goroutines.
	serving sync.WaitGroup
}

// startDemo prepares dir (keys on the first run), starts the simulated
// platform and writes dir/kiosk.yaml for it; it returns the platform and
// the configuration's path.
func startDemo(dir string, log *slog.Logger) (*demoPlatform, string, error) {
	d, err := demo.Prepare(dir, func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) })
	if err != nil {
		return nil, "", err
	}
	st, err := demo.LoadSimSettings(d.SimYAML)
	if err != nil {
		return nil, "", err
	}
	opts, err := st.Options()
	if err != nil {
		return nil, "", err
	}
	if err := freshStore(d.Path(demo.Store)); err != nil {
		return nil, "", err
	}
	// A port of its own, not sim.yaml's listen: that one is onecard-sim's,
	// which may be running beside the kiosk.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("demo platform: %w", err)
	}
	opts.BaseURL = "http://" + ln.Addr().String()
	simulator, err := sim.NewHandler(opts)
	if err != nil {
		ln.Close()
		return nil, "", &demo.Error{Err: fmt.Errorf("%s: %w", d.SimYAML, err)}
	}
	p := &demoPlatform{simulator: simulator, addr: ln.Addr().String(), log: log}
	p.serve(ln)
	if err := d.WriteKioskYAML(simulator.URL(), opts.AppKey, opts.AppSecret, opts.Location.String()); err != nil {
		p.Close()
		return nil, "", err
	}
	// The card numbers stay out of the log (they are in the README and in
	// sim.yaml): the log of a kiosk is shared more widely than either.
	log.Info("demo platform started", "url", simulator.URL(), "admin", opts.BaseURL+sim.AdminPrefix,
		"cards", d.SimYAML, "diagnostics_pin", demo.PIN)
	return p, d.KioskYAML, nil
}

// freshStore removes the journal of an earlier demo run: the simulator
// keeps its ledger in memory, so the old orders and token belong to a
// platform that is gone. A kiosk still running on the directory holds the
// file; it is left alone and this one refuses to start.
func freshStore(path string) error {
	s, err := offline.Open(path, offline.WithLockTimeout(0))
	switch {
	case errors.Is(err, offline.ErrLocked):
		return fmt.Errorf("%s: %w", path, app.ErrInUse)
	case err == nil:
		if err := s.Close(); err != nil {
			return fmt.Errorf("demo store: %w", err)
		}
	}
	// Any other error (a damaged file) is one more reason to start afresh.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("demo store: %w", err)
	}
	return nil
}

// serve serves the platform on ln until the cable is pulled or the
// platform closes. The caller holds mu or owns p alone.
func (p *demoPlatform) serve(ln net.Listener) {
	srv := &http.Server{
		Handler:           p.simulator,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	// One connection per request: with a kept-alive connection, the first
	// request after a pull could be written into a socket whose close the
	// kiosk has not noticed yet, and count as sent (outcome unknown)
	// instead of unreachable. The demo must show offline acceptance every
	// time; a loopback connect costs nothing.
	srv.SetKeepAlivesEnabled(false)
	p.srv = srv
	p.serving.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("demo platform stopped serving", "err", err)
		}
	})
}

// toggleNetwork pulls the cable, or plugs it back. Pulled, the platform's
// port refuses connections, as an unreachable platform does: the kiosk
// sees that its requests could not leave and accepts payments offline
// within the limits. (A fault that swallows requests would not show that:
// a request that left might have been charged, so its outcome is unknown,
// not offline.)
func (p *demoPlatform) toggleNetwork() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return "", errors.New("the demo platform has stopped")
	}
	if p.srv != nil {
		// Close, not Shutdown: a pulled cable waits for nobody, and
		// connections kept alive must break too.
		err := p.srv.Close()
		p.srv = nil
		if err != nil {
			return "", fmt.Errorf("pulling the network: %w", err)
		}
		p.log.Info("demo: network pulled")
		return "Network pulled: the platform is unreachable. Payments within the offline limits are recorded offline; " +
			"press again to plug it back and watch them settle.", nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return "", fmt.Errorf("plugging the network back in: %w", err)
	}
	p.serve(ln)
	p.log.Info("demo: network plugged back in")
	return "Network back: the reconciler sends the recorded payments within seconds (or press reconcile now).", nil
}

// toggleDrops makes the platform drop every request after reading it, or
// stops that. The kiosk cannot tell whether such a payment was charged:
// it tells the customer it will be confirmed, and the reconciler finds out
// once the platform answers again.
func (p *demoPlatform) toggleDrops() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return "", errors.New("the demo platform has stopped")
	}
	if len(p.simulator.Faults()) > 0 {
		p.simulator.ClearFaults()
		p.log.Info("demo: the platform answers again")
		return "The platform answers again: the reconciler confirms the payments left unknown.", nil
	}
	p.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropRequest})
	p.log.Info("demo: the platform drops every request")
	return "The platform now drops every request: payments end \"will be confirmed\"; press again to stop.", nil
}

// actions are the demo's buttons on the diagnostics screen.
func (p *demoPlatform) actions() []ui.DiagnosticAction {
	return []ui.DiagnosticAction{
		{Label: "Demo: pull / plug back the network", Do: func(context.Context) (string, error) { return p.toggleNetwork() }},
		{Label: "Demo: platform drops every request / answers again", Do: func(context.Context) (string, error) { return p.toggleDrops() }},
	}
}

// Close stops serving and the simulator; it waits for the Serve
// goroutines.
func (p *demoPlatform) Close() {
	p.mu.Lock()
	p.closed = true
	if p.srv != nil {
		if err := p.srv.Close(); err != nil {
			p.log.Warn("closing the demo platform", "err", err)
		}
		p.srv = nil
	}
	p.mu.Unlock()
	p.simulator.Close()
	p.serving.Wait()
}
