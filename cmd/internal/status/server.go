package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/device"
)

// Agent is what the server reads of the running agent; *agent.Service
// (app.App.Service) is one.
type Agent interface {
	Journal() agent.Journal
	Online() (bool, time.Time)
	ClockOffset() (offset time.Duration, at time.Time, ok bool)
	Options() agent.Options
	LastReconcile() (agent.ReconcilePass, bool)
	Settlements(ctx context.Context) ([]agent.BillReport, error)
	DayReports(ctx context.Context, from, to string) ([]agent.DayReport, error)
}

var _ Agent = (*agent.Service)(nil)

// TokenReader reads the stored access token; *offline.Store (app.App.Store)
// is one. The server reads only its expiry, and never fetches a token, as
// the token manager's Info would when none is valid: a scrape must not
// call the platform.
type TokenReader interface {
	LoadToken(ctx context.Context) (tok agent.Token, ok bool, err error)
}

// Options is what a Server reads and serves.
type Options struct {
	// Config is the loaded configuration: status (listen, token),
	// terminal (termid, mode) and store (the journal file). Required.
	Config *config.Config
	// Agent is the running agent. Required.
	Agent Agent
	// Tokens reads the stored token's expiry; nil leaves it out.
	Tokens TokenReader
	// Devices returns the scanners' state, e.g. (*app.Devices).Status;
	// nil means none.
	Devices func() []device.Status
	// MissingGlyphs returns the characters the screens show that no
	// loaded font has (ui.Kiosk.MissingGlyphs), "" when none; nil means no
	// screens. It must not block: it is called on every request.
	MissingGlyphs func() string
	// Metrics are the hooks' counters, served on /metrics.
	Metrics *Metrics
	// PIN are the diagnostics PIN's metrics; nil when no PIN is set.
	PIN *PINMetrics
	// CardPassword are the card query password's metrics; nil leaves
	// them out.
	CardPassword *CardPasswordMetrics
	// Version is the kiosk's version, shown on /status and in
	// kiosk_build_info; "" means "dev".
	Version string
	// ReadTimeout bounds the journal reads of one request; default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// Log receives what goes wrong while serving; nil discards it.
	Log *slog.Logger
}

// DefaultReadTimeout bounds one request's reads: well under a scraper's
// usual 10 s timeout, and far above what reading the unfinished index of
// a healthy journal takes.
const DefaultReadTimeout = 3 * time.Second

// shutdownGrace is how long, beyond the read timeout, requests in flight
// may take to finish once Serve's context ends; then their connections
// are closed.
const shutdownGrace = 2 * time.Second

// Server is the local status endpoint: /healthz, /status and /metrics.
// Make one with New, run it with Serve or ListenAndServe, once at a time.
type Server struct {
	cfg         *config.Config
	agent       Agent
	tokens      TokenReader
	devices     func() []device.Status
	glyphs      func() string
	version     string
	timeout     time.Duration
	journalPath string
	log         *slog.Logger
	handler     http.Handler
}

// New builds a Server; it panics when Config or Agent is missing, a
// mistake in the program rather than a condition to handle.
func New(opts Options) *Server {
	if opts.Config == nil || opts.Agent == nil {
		panic("status: Options.Config and Options.Agent are required")
	}
	s := &Server{
		cfg: opts.Config, agent: opts.Agent, tokens: opts.Tokens, devices: opts.Devices, glyphs: opts.MissingGlyphs,
		version: opts.Version, timeout: opts.ReadTimeout, journalPath: opts.Config.Store.Path, log: opts.Log,
	}
	if s.version == "" {
		s.version = "dev"
	}
	if s.timeout <= 0 {
		s.timeout = DefaultReadTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	// A registry of the server's own: nothing registers behind its back
	// (no DefaultRegisterer), and two servers in one test do not meet.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newStateCollector(s))
	if opts.Metrics != nil {
		reg.MustRegister(opts.Metrics)
	}
	if opts.MissingGlyphs != nil {
		reg.MustRegister(newFontCollector(opts.MissingGlyphs))
	}
	if opts.PIN != nil {
		reg.MustRegister(opts.PIN)
	}
	if opts.CardPassword != nil {
		reg.MustRegister(opts.CardPassword)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /status", s.serveStatus)
	mux.HandleFunc("GET /report", s.serveReport)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: promLog{s.log},
		// A collector that fails leaves its metrics out, and says so in
		// the log; the rest is still worth a scrape.
		ErrorHandling: promhttp.ContinueOnError,
		// A kiosk is a small machine: a scraper and a technician's curl
		// at once are plenty; more get 503.
		MaxRequestsInFlight: 2,
	}))
	s.handler = requireToken(opts.Config.Status.Token, mux)
	return s
}

// ListenAndServe listens on Config.Status.Listen and serves until ctx
// ends. With Listen empty (the endpoint is off) it returns nil at once.
func (s *Server) ListenAndServe(ctx context.Context) error {
	addr := s.cfg.Status.Listen
	if addr == "" {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then lets the requests in flight
// finish (their reads are bounded by ReadTimeout) and returns nil once
// every goroutine it started has ended. It closes ln. An error is a
// failure to serve.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Requests run under runCtx, which outlives ctx by the shutdown: a
	// request in flight when the kiosk stops finishes its reads instead
	// of reporting them failed.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		// The reads, then the answer to a slow link: a scraper that
		// stops reading must not hold a handler for ever.
		WriteTimeout: s.timeout + 30*time.Second,
		IdleTimeout:  time.Minute,
		BaseContext:  func(net.Listener) context.Context { return runCtx },
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	served := make(chan error, 1)
	wg.Go(func() { served <- hs.Serve(ln) })
	select {
	case err := <-served:
		return fmt.Errorf("status: %w", err)
	case <-ctx.Done():
	}
	shutCtx, stop := context.WithTimeout(runCtx, s.timeout+shutdownGrace)
	defer stop()
	if err := hs.Shutdown(shutCtx); err != nil {
		s.log.Warn("status: requests cut short at shutdown", "err", err)
		// Close does not wait for handlers: cancel tells them to stop.
		cancel()
		_ = hs.Close() // the error is Shutdown's, just logged
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

// serveHealth answers 200 ready or 503 degraded, with the reasons.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	why := reasons(s.read(r.Context()))
	code := http.StatusOK
	if len(why) > 0 {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, Health{Status: healthStatus(why), Reasons: why})
}

// serveStatus answers the /status document.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.statusOf(s.read(r.Context())))
}

// serveReport answers the day reports of ?from=yyyyMMdd&to=yyyyMMdd
// (agent.DayReport as JSON, oldest first), read from the journal the kiosk
// holds: what `kioskctl report` shows while the kiosk runs.
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request) {
	from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	if to == "" {
		to = from
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	reps, err := s.agent.DayReports(ctx, from, to)
	var re *onecard.RequestError
	switch {
	case errors.As(err, &re):
		http.Error(w, re.Error(), http.StatusBadRequest)
		return
	case err != nil:
		s.log.Warn("status: /report", "err", err)
		http.Error(w, "the journal could not be read", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, reps)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	// The state changes by the second: no cache may answer for it.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // a client gone away is no error of ours
}

// promLog passes promhttp's errors to the log.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Warn("status: /metrics: " + fmt.Sprint(v...)) }
