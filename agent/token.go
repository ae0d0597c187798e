package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// FetchTokenFunc calls the platform's token method once.
type FetchTokenFunc func(ctx context.Context) (value string, expiresIn time.Duration, err error)

// DefaultTokenMinInterval is the platform's floor between two calls of the
// token method for one app_key.
const DefaultTokenMinInterval = 2 * time.Minute

// TokenPolicy tunes a TokenManager; the zero value is the platform's rules.
type TokenPolicy struct {
	// MinInterval is the least time between two calls of the token method
	// by anyone sharing the store; <= 0 means DefaultTokenMinInterval.
	MinInterval time.Duration
	// RefreshAhead says how long before expiry a token of the given
	// lifetime is replaced; nil means DefaultRefreshAhead.
	RefreshAhead func(lifetime time.Duration) time.Duration
}

// DefaultRefreshAhead replaces a token when a tenth of its lifetime is left,
// but no earlier than 10 minutes and no later than 30 seconds before expiry:
// late enough not to waste tokens, early enough that a failed call can be
// retried (after MinInterval) while the old token still works.
func DefaultRefreshAhead(lifetime time.Duration) time.Duration {
	return min(max(lifetime/10, 30*time.Second), 10*time.Minute)
}

// ErrTokenRateLimited is wrapped when no valid token is at hand and the
// token method may not be called yet.
var ErrTokenRateLimited = errors.New("no valid access token, and the token method may not be called again yet")

// TokenRateLimitError says when the token method may be called again. It
// wraps ErrTokenRateLimited.
type TokenRateLimitError struct {
	// NextCall is the earliest time a call is allowed.
	NextCall time.Time
	// Wait is NextCall minus the time the error was made.
	Wait time.Duration
}

// Error says when the next call is possible; it never names a token.
func (e *TokenRateLimitError) Error() string {
	return fmt.Sprintf("access token: %v: next call possible at %s (in %s)",
		ErrTokenRateLimited, e.NextCall.Format("2006-01-02 15:04:05 MST"), e.Wait.Round(time.Second))
}

// Unwrap lets errors.Is find ErrTokenRateLimited.
func (e *TokenRateLimitError) Unwrap() error { return ErrTokenRateLimited }

// TokenInfo describes the current token without its secret value.
type TokenInfo struct {
	// Expires is when the token stops being accepted; zero if there is
	// no valid token.
	Expires time.Time
	// LastCall is the latest known call of the token method.
	LastCall time.Time
	// Fresh is true when the token was fetched during this call.
	Fresh bool
}

// TokenManager hands out the platform access token under the platform's
// rules: a new token voids the previous one, and the token method may be
// called at most once per MinInterval per app_key. It shares the token with
// later (or, given a suitable store, concurrent) processes through its
// TokenStore, and records every call there before making it.
//
// Within one process, use one TokenManager per store: it serializes its own
// fetches, but two managers cannot see each other's call in progress.
type TokenManager struct {
	store        TokenStore
	fetch        FetchTokenFunc
	clock        Clock
	minInterval  time.Duration
	refreshAhead func(time.Duration) time.Duration

	// sem admits one goroutine at a time to load, fetch and save; unlike a
	// mutex it can be given up when ctx ends, and tried without waiting.
	sem chan struct{}

	mu       sync.Mutex // guards the fields below; never held across I/O
	cur      Token      // the newest token known; Value may be empty
	lifetime time.Duration
	lastCall time.Time // latest call known, by this process or the store
	// unsaved is set while cur was fetched but could not be saved, so
	// that the stale stored token does not replace it.
	unsaved bool
	// rejected holds values the platform answered 40017 to since the last
	// fetch; they are never handed out again even though unexpired.
	rejected map[string]bool
	// A LastCall in the future (clock set back, or recorded under a wrong
	// clock) would block the token method until that time; instead it is
	// counted from when it was first seen.
	futureCall, futureSeen time.Time
}

// NewTokenManager returns a manager that keeps the token in store and gets
// new ones with fetch.
func NewTokenManager(store TokenStore, fetch FetchTokenFunc, clock Clock, policy TokenPolicy) *TokenManager {
	m := &TokenManager{
		store:        store,
		fetch:        fetch,
		clock:        clock,
		minInterval:  policy.MinInterval,
		refreshAhead: policy.RefreshAhead,
		sem:          make(chan struct{}, 1),
		rejected:     map[string]bool{},
	}
	if m.minInterval <= 0 {
		m.minInterval = DefaultTokenMinInterval
	}
	if m.refreshAhead == nil {
		m.refreshAhead = DefaultRefreshAhead
	}
	return m
}

// Token returns a token the platform should accept: the cached one, else the
// stored one, else a fetched one. Within RefreshAhead of expiry one caller
// fetches a replacement if MinInterval allows, while the others (and that
// caller, if the fetch fails) keep using the still-valid token. If a new
// token was obtained but could not be saved, that error is returned once
// and the token is handed out from memory afterwards.
func (m *TokenManager) Token(ctx context.Context) (string, error) {
	tok, _, err := m.get(ctx, true)
	if err != nil {
		return "", err
	}
	return tok.Value, nil
}

// Info reports the current token's expiry and the last call of the token
// method, without the secret. It loads the stored token if needed and
// fetches only when there is no valid token. On ErrTokenRateLimited the info
// still carries LastCall.
func (m *TokenManager) Info(ctx context.Context) (TokenInfo, error) {
	tok, fresh, err := m.get(ctx, false)
	m.mu.Lock()
	info := TokenInfo{LastCall: m.lastCall, Fresh: fresh}
	m.mu.Unlock()
	if err != nil {
		return info, err
	}
	info.Expires = tok.Expires
	return info, nil
}

// Invalidate is called after the platform answered 40017 (token invalid) to
// tok. It reloads the store, where another process may have saved a newer
// token, and returns that if it differs; otherwise it fetches a new token if
// MinInterval allows, else fails with ErrTokenRateLimited saying when a call
// becomes possible. tok is not handed out again either way.
func (m *TokenManager) Invalidate(ctx context.Context, tok string) (string, error) {
	if err := m.acquire(ctx); err != nil {
		return "", err
	}
	defer m.release()
	if tok != "" {
		m.mu.Lock()
		m.rejected[tok] = true
		m.mu.Unlock()
	}
	got, _, err := m.obtain(ctx, false)
	if err != nil {
		return "", err
	}
	return got.Value, nil
}

// Refresh fetches a new token now, voiding the current one, unless the token
// method was called less than MinInterval ago (ErrTokenRateLimited).
func (m *TokenManager) Refresh(ctx context.Context) (TokenInfo, error) {
	if err := m.acquire(ctx); err != nil {
		return TokenInfo{}, err
	}
	defer m.release()
	if err := m.reload(ctx); err != nil {
		return TokenInfo{}, err
	}
	now := m.clock.Now()
	m.mu.Lock()
	next := m.nextCallLocked(now)
	info := TokenInfo{LastCall: m.lastCall}
	if m.usableLocked(m.cur, now) {
		info.Expires = m.cur.Expires
	}
	m.mu.Unlock()
	if now.Before(next) {
		return info, &TokenRateLimitError{NextCall: next, Wait: next.Sub(now)}
	}
	tok, err := m.fetchAndSave(ctx, now)
	if tok.Value == "" {
		return TokenInfo{LastCall: now}, err
	}
	return TokenInfo{Expires: tok.Expires, LastCall: now, Fresh: true}, err
}

// get is Token and Info; refreshAhead says whether a token near expiry is
// replaced or merely used.
func (m *TokenManager) get(ctx context.Context, refreshAhead bool) (Token, bool, error) {
	now := m.clock.Now()
	m.mu.Lock()
	cur := m.cur
	valid := m.usableLocked(cur, now)
	due := valid && refreshAhead && m.dueLocked(now)
	canCall := !now.Before(m.nextCallLocked(now))
	m.mu.Unlock()

	switch {
	case valid && !due:
		return cur, false, nil
	case valid:
		// Due for replacement, but the current token works: never wait
		// for another goroutine's fetch, and skip the store while the
		// rate limit (which the store can only make later) forbids one.
		if !canCall || !m.tryAcquire() {
			return cur, false, nil
		}
	default:
		if err := m.acquire(ctx); err != nil {
			return Token{}, false, err
		}
	}
	defer m.release()
	return m.obtain(ctx, refreshAhead)
}

// obtain is the slow path, run by the holder of sem: use the cache or the
// store if they have a good token, else fetch one if allowed.
func (m *TokenManager) obtain(ctx context.Context, refreshAhead bool) (Token, bool, error) {
	// Another holder of sem may have just fetched.
	now := m.clock.Now()
	m.mu.Lock()
	cur := m.cur
	done := m.usableLocked(cur, now) && !(refreshAhead && m.dueLocked(now))
	m.mu.Unlock()
	if done {
		return cur, false, nil
	}

	if err := m.reload(ctx); err != nil {
		return Token{}, false, err
	}
	now = m.clock.Now()
	m.mu.Lock()
	cur = m.cur
	valid := m.usableLocked(cur, now)
	due := valid && refreshAhead && m.dueLocked(now)
	next := m.nextCallLocked(now)
	m.mu.Unlock()

	if valid && !due {
		return cur, false, nil
	}
	if now.Before(next) {
		if valid {
			return cur, false, nil
		}
		return Token{}, false, &TokenRateLimitError{NextCall: next, Wait: next.Sub(now)}
	}
	tok, err := m.fetchAndSave(ctx, now)
	if tok.Value != "" {
		return tok, true, err
	}
	if valid && m.usable(cur, m.clock.Now()) {
		// The refresh failed; the old token has not expired and will be
		// replaced after MinInterval.
		return cur, false, nil
	}
	return Token{}, false, err
}

// reload merges the stored token into the cache.
func (m *TokenManager) reload(ctx context.Context) error {
	stored, ok, err := m.store.LoadToken(ctx)
	if err != nil {
		return fmt.Errorf("access token: load: %w", err)
	}
	if !ok {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if stored.LastCall.After(m.lastCall) {
		m.lastCall = stored.LastCall
	}
	switch {
	case stored.Value == "":
		// Only a call was recorded (one that failed, or is in progress
		// elsewhere); a cached token is still the best known.
	case stored.Value == m.cur.Value:
		m.cur = stored
	case m.cur.Value == "" || !m.unsaved || stored.LastCall.After(m.cur.LastCall):
		m.cur = stored
		m.unsaved = false
		// The lifetime as first seen sets the refresh window. A later
		// failed call moves LastCall and would shrink it.
		m.lifetime = max(stored.Expires.Sub(stored.LastCall), 0)
		if stored.LastCall.IsZero() {
			m.lifetime = 0
		}
	}
	return nil
}

// fetchAndSave calls the token method, recording the call in the store
// first: a call whose reply is lost may still have issued a token (voiding
// the old one) and counts against the rate limit either way. A returned
// token with a non-nil error was obtained but could not be saved; it is
// cached and used, and saving is retried at the next fetch.
func (m *TokenManager) fetchAndSave(ctx context.Context, now time.Time) (Token, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, err
	}
	m.mu.Lock()
	rec := m.cur
	m.mu.Unlock()
	rec.LastCall = now
	if err := m.store.SaveToken(ctx, rec); err != nil {
		return Token{}, fmt.Errorf("access token: record the call before making it: %w", err)
	}
	m.mu.Lock()
	m.cur.LastCall, m.lastCall, m.unsaved = now, now, false
	m.futureCall, m.futureSeen = time.Time{}, time.Time{}
	m.mu.Unlock()

	value, expiresIn, err := m.fetch(ctx)
	switch {
	case err != nil:
		return Token{}, fmt.Errorf("access token: fetch: %w", err)
	case value == "":
		return Token{}, errors.New("access token: the platform returned an empty token")
	case expiresIn <= 0:
		return Token{}, fmt.Errorf("access token: the platform returned a lifetime of %s", expiresIn)
	}
	// Counted from before the call, so never later than the platform's.
	tok := Token{Value: value, Expires: now.Add(expiresIn), LastCall: now}
	m.mu.Lock()
	m.cur, m.lifetime, m.unsaved = tok, expiresIn, true
	clear(m.rejected)
	m.mu.Unlock()

	// The old token is void now: save even if the caller gave up meanwhile.
	if err := m.store.SaveToken(context.WithoutCancel(ctx), tok); err != nil {
		return tok, fmt.Errorf("access token: obtained but not saved, other processes will use the voided one: %w", err)
	}
	m.mu.Lock()
	m.unsaved = false
	m.mu.Unlock()
	return tok, nil
}

func (m *TokenManager) usable(tok Token, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usableLocked(tok, now)
}

// usableLocked: a token past its expiry, or one the platform rejected, is
// never handed out.
func (m *TokenManager) usableLocked(tok Token, now time.Time) bool {
	return tok.Value != "" && now.Before(tok.Expires) && !m.rejected[tok.Value]
}

// dueLocked reports whether the cached token is within its refresh window.
func (m *TokenManager) dueLocked(now time.Time) bool {
	ahead := max(m.refreshAhead(m.lifetime), 0)
	return !now.Before(m.cur.Expires.Add(-ahead))
}

// nextCallLocked returns the earliest time the token method may be called.
func (m *TokenManager) nextCallLocked(now time.Time) time.Time {
	last := m.lastCall
	if last.IsZero() {
		return now
	}
	if last.After(now) {
		if !m.futureCall.Equal(last) {
			m.futureCall, m.futureSeen = last, now
		}
		last = m.futureSeen
	}
	return last.Add(m.minInterval)
}

func (m *TokenManager) acquire(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *TokenManager) tryAcquire() bool {
	select {
	case m.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (m *TokenManager) release() { <-m.sem }
