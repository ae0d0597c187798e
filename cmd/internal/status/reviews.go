package status

import (
	"context"
	"sync"
	"time"

	"github.com/campuspos/kiosk/agent"
)

// Counting needs_review orders walks the whole journal: needs_review is a
// finished state, outside the unfinished index, and a year of a busy
// canteen is hundreds of thousands of orders. So the count is kept and
// made again only when Metrics saw an order enter or leave needs_review,
// when the last count failed, or after reviewRecount.

// reviewRecount bounds how stale the count gets when no hook reported a
// change: writes the hooks did not see (a Server without Metrics, or
// Metrics.ObserveOrder not wired into app.Hooks).
const reviewRecount = time.Hour

// reviewCountTimeout bounds one count: a walk of the whole journal takes
// seconds for a million orders.
const reviewCountTimeout = 2 * time.Minute

// reviewCount is one count of the needs_review orders.
type reviewCount struct {
	n   int
	err error
	// at is when the count finished; zero before the first.
	at time.Time
	// gen is Metrics.reviewChanges when the count started.
	gen uint64
}

// reviewCounter counts needs_review orders in a goroutine of its own, so
// that a request waits for a count only as long as its own deadline and a
// slow count still finishes for the next one.
type reviewCounter struct {
	journal agent.Journal
	changes func() uint64

	mu  sync.Mutex
	cur reviewCount
	// running is closed when the count in flight ends; nil when none is.
	running chan struct{}
	// base is the serving Server's context, which counts run under; nil
	// while the Server is not serving, when no count starts.
	base context.Context //nolint:containedctx // the lifetime of Serve, handed to counts started by requests
	wg   sync.WaitGroup
}

// start lets counts run under ctx (Serve's) and starts the first.
func (r *reviewCounter) start(ctx context.Context) {
	r.mu.Lock()
	r.base = ctx
	r.kickLocked()
	r.mu.Unlock()
}

// stop ends counting and waits for the count in flight (whose context,
// Serve's, has ended).
func (r *reviewCounter) stop() {
	r.mu.Lock()
	r.base = nil
	r.mu.Unlock()
	r.wg.Wait()
}

// get returns the latest count, after waiting, until ctx ends, for a
// recount when the count is stale.
func (r *reviewCounter) get(ctx context.Context) reviewCount {
	r.mu.Lock()
	running := r.kickLocked()
	c := r.cur
	r.mu.Unlock()
	if running == nil {
		return c
	}
	select {
	case <-running:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// kickLocked starts a count when the last one is stale and none is
// running, and returns the running count's channel (nil when none runs).
func (r *reviewCounter) kickLocked() chan struct{} {
	c, gen := r.cur, r.changes()
	stale := c.at.IsZero() || c.err != nil || c.gen != gen || time.Since(c.at) > reviewRecount
	if r.running == nil && r.base != nil && stale {
		r.running = make(chan struct{})
		r.wg.Add(1)
		go r.count(r.base, gen, r.running)
	}
	return r.running
}

func (r *reviewCounter) count(base context.Context, gen uint64, done chan struct{}) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(base, reviewCountTimeout)
	defer cancel()
	orders, err := r.journal.Orders(ctx, agent.OrderFilter{State: agent.StateNeedsReview})
	r.mu.Lock()
	r.cur = reviewCount{n: len(orders), err: err, at: time.Now(), gen: gen}
	r.running = nil
	r.mu.Unlock()
	close(done)
}
