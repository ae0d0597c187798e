package agent

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// PINPolicy bounds guessing the diagnostics PIN at a public kiosk:
// diagnostics can switch the terminal to canteen mode, where an armed
// amount charges any card tapped.
type PINPolicy struct {
	// MaxTries wrong PINs in a row lock diagnostics (default 5).
	MaxTries int
	// FirstLock is the first lockout (default 1 minute); each further
	// lockout without a right PIN in between lasts twice the one before,
	// up to MaxLock (default 1 hour).
	FirstLock, MaxLock time.Duration
}

func (p *PINPolicy) defaults() {
	if p.MaxTries <= 0 {
		p.MaxTries = 5
	}
	if p.FirstLock <= 0 {
		p.FirstLock = time.Minute
	}
	if p.MaxLock < p.FirstLock {
		p.MaxLock = max(time.Hour, p.FirstLock)
	}
}

// PINState is what the terminal keeps of wrong PINs, in the journal, so
// that turning the kiosk off and on does not reset a lockout.
type PINState struct {
	// Failures counts wrong PINs since the last right one or the last
	// lockout.
	Failures int
	// Lockouts counts lockouts since the last right PIN: the next lasts
	// FirstLock doubled that many times.
	Lockouts int
	// LockedUntil is when the current lockout ends; zero for none.
	LockedUntil time.Time
}

// PINStore keeps the PINState (the journal implements it).
type PINStore interface {
	PINState(ctx context.Context) (PINState, error)
	SavePINState(ctx context.Context, st PINState) error
}

// PINAttempt is what one try of the PIN came to.
type PINAttempt struct {
	// OK: the PIN was right; diagnostics opens.
	OK bool
	// LockedUntil is set while diagnostics is locked: the PIN was not
	// even checked, or this try started the lockout (Locked).
	LockedUntil time.Time
	// Locked: this wrong PIN started a lockout.
	Locked bool
	// TriesLeft is how many wrong PINs remain before a lockout.
	TriesLeft int
}

// PINGuard checks the diagnostics PIN and locks diagnostics after too many
// wrong ones. It is safe for concurrent use.
type PINGuard struct {
	check  func(pin string) bool
	store  PINStore
	clock  Clock
	policy PINPolicy

	mu sync.Mutex
	// st is the state as last read or written: when the journal cannot
	// be written, the lockout still holds for as long as the process runs.
	st     PINState
	loaded bool
}

// NewPINGuard guards check (the configured PIN's test) with policy; the
// state is kept in store.
func NewPINGuard(check func(pin string) bool, store PINStore, clock Clock, policy PINPolicy) *PINGuard {
	policy.defaults()
	if clock == nil {
		clock = SystemClock{}
	}
	return &PINGuard{check: check, store: store, clock: clock, policy: policy}
}

// Policy returns the guard's policy, defaults applied.
func (g *PINGuard) Policy() PINPolicy { return g.policy }

// state returns the current state, read from the store once. A store that
// cannot be read leaves the state the process has: a broken journal must
// not lock a technician out of the screen that shows it.
func (g *PINGuard) state(ctx context.Context) (PINState, error) {
	if g.loaded {
		return g.st, nil
	}
	st, err := g.store.PINState(ctx)
	if err != nil {
		return g.st, fmt.Errorf("reading the PIN lockout: %w", err)
	}
	g.st, g.loaded = st, true
	return st, nil
}

// State returns the lockout state, for diagnostics and metrics.
func (g *PINGuard) State(ctx context.Context) (PINState, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state(ctx)
}

// Try checks pin, unless diagnostics is locked. A wrong PIN is journalled
// before the answer is returned, so that pulling the plug after a wrong
// try does not give the guesser a fresh count. err reports a journal that
// could not be read or written; the attempt is decided all the same, on
// the state the process holds.
func (g *PINGuard) Try(ctx context.Context, pin string) (PINAttempt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, err := g.state(ctx)
	now := g.clock.Now()
	if now.Before(st.LockedUntil) {
		return PINAttempt{LockedUntil: st.LockedUntil}, err
	}
	if g.check(pin) {
		if st != (PINState{}) {
			err = g.save(ctx, PINState{}, err)
		}
		return PINAttempt{OK: true}, err
	}
	st.Failures++
	a := PINAttempt{TriesLeft: g.policy.MaxTries - st.Failures}
	if st.Failures >= g.policy.MaxTries {
		st.LockedUntil = now.Add(g.lockFor(st.Lockouts))
		st.Failures, st.Lockouts = 0, st.Lockouts+1
		a = PINAttempt{Locked: true, LockedUntil: st.LockedUntil}
	}
	return a, g.save(ctx, st, err)
}

// lockFor is the length of the lockout that follows n earlier ones.
func (g *PINGuard) lockFor(n int) time.Duration {
	return backoff(g.policy.FirstLock, g.policy.MaxLock, n)
}

// save keeps st in the process, and in the journal when it can; prior is
// an earlier error of the same attempt, kept.
func (g *PINGuard) save(ctx context.Context, st PINState, prior error) error {
	g.st = st
	if err := g.store.SavePINState(ctx, st); err != nil {
		return fmt.Errorf("keeping the PIN lockout: %w", err)
	}
	g.loaded = true
	return prior
}
