package agent_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/offline"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// fetcher is a fake token method: call n returns "tok-n", or fails while
// err is set.
type fetcher struct {
	calls    atomic.Int32
	lifetime time.Duration
	mu       sync.Mutex
	err      error
	// during, if set, runs inside the call (after it was counted).
	during func(ctx context.Context)
}

func (f *fetcher) fetch(ctx context.Context) (string, time.Duration, error) {
	n := f.calls.Add(1)
	f.mu.Lock()
	err, during := f.err, f.during
	f.mu.Unlock()
	if during != nil {
		during(ctx)
	}
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("tok-%d", n), f.lifetime, nil
}

func (f *fetcher) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func openStore(t *testing.T, path string) *offline.Store {
	t.Helper()
	s, err := offline.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type fixture struct {
	path  string
	store *offline.Store
	clock *onecardtest.Clock
	f     *fetcher
}

func newFixture(t *testing.T, lifetime time.Duration) *fixture {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	return &fixture{
		path:  path,
		store: openStore(t, path),
		clock: onecardtest.NewClock(t0),
		f:     &fetcher{lifetime: lifetime},
	}
}

func (x *fixture) manager(store agent.TokenStore) *agent.TokenManager {
	if store == nil {
		store = x.store
	}
	return agent.NewTokenManager(store, x.f.fetch, x.clock, agent.TokenPolicy{})
}

func requireRateLimited(t *testing.T, err error, wait time.Duration) {
	t.Helper()
	require.ErrorIs(t, err, agent.ErrTokenRateLimited)
	var rl *agent.TokenRateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, wait, rl.Wait)
	assert.Contains(t, err.Error(), "next call possible at")
	assert.NotContains(t, err.Error(), "tok-", "errors never carry the token")
}

func TestTokenSharedAcrossManagersAndRestarts(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)

	tok, err := x.manager(nil).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)

	x.clock.Advance(time.Minute)
	tok, err = x.manager(nil).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)

	// A restart: the file is closed and opened again.
	require.NoError(t, x.store.Close())
	store := openStore(t, x.path)
	tok, err = x.manager(store).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
	assert.Equal(t, int32(1), x.f.calls.Load(), "one call for all three managers")
}

func TestTokenRefreshAhead(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour) // refresh window: 10 minutes
	m := x.manager(nil)

	tok, err := m.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "tok-1", tok)

	x.clock.Advance(2*time.Hour - 10*time.Minute - time.Second)
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok, "outside the window")
	assert.Equal(t, int32(1), x.f.calls.Load())

	x.clock.Advance(time.Second)
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok, "inside the window")

	stored, ok, err := x.store.LoadToken(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, agent.Token{Value: "tok-2", Expires: x.clock.Now().Add(2 * time.Hour), LastCall: x.clock.Now()}, stored)
}

func TestRefreshAheadFailureKeepsValidToken(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	m := x.manager(nil)
	_, err := m.Token(ctx)
	require.NoError(t, err)

	x.clock.Advance(2*time.Hour - 5*time.Minute)
	x.f.setErr(errors.New("connection reset"))
	tok, err := m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
	assert.Equal(t, int32(2), x.f.calls.Load())

	// Retried only after MinInterval, and succeeds.
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
	assert.Equal(t, int32(2), x.f.calls.Load())
	x.f.setErr(nil)
	x.clock.Advance(2 * time.Minute)
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-3", tok)
}

func TestMinIntervalRespected(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, time.Minute) // refresh window: 30 seconds
	m := x.manager(nil)
	_, err := m.Token(ctx)
	require.NoError(t, err)

	// Near expiry, but the last call was under 2 minutes ago.
	x.clock.Advance(45 * time.Second)
	tok, err := m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
	assert.Equal(t, int32(1), x.f.calls.Load())

	// Expired and still rate-limited: no token at all, and when.
	x.clock.Advance(15 * time.Second)
	_, err = m.Token(ctx)
	requireRateLimited(t, err, time.Minute)
	_, err = x.manager(nil).Token(ctx)
	requireRateLimited(t, err, time.Minute)
	info, err := m.Info(ctx)
	requireRateLimited(t, err, time.Minute)
	assert.Equal(t, agent.TokenInfo{LastCall: t0}, info)
	assert.Equal(t, int32(1), x.f.calls.Load())

	x.clock.Advance(time.Minute)
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok)
}

func TestInvalidateAdoptsNewerStoredToken(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	m := x.manager(nil)
	tok1, err := m.Token(ctx)
	require.NoError(t, err)

	// Another process replaced the token (voiding tok-1) and saved it.
	x.clock.Advance(5 * time.Minute)
	other := agent.Token{Value: "from-elsewhere", Expires: x.clock.Now().Add(2 * time.Hour), LastCall: x.clock.Now()}
	require.NoError(t, x.store.SaveToken(ctx, other))

	tok, err := m.Invalidate(ctx, tok1)
	require.NoError(t, err)
	assert.Equal(t, "from-elsewhere", tok)
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "from-elsewhere", tok)
	assert.Equal(t, int32(1), x.f.calls.Load())
}

func TestInvalidateFetchesOnce(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	m := x.manager(nil)
	tok1, err := m.Token(ctx)
	require.NoError(t, err)

	x.clock.Advance(3 * time.Minute)
	tok, err := m.Invalidate(ctx, tok1)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok)

	// A second caller that got 40017 for tok-1 too just gets tok-2.
	tok, err = m.Invalidate(ctx, tok1)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok)
	assert.Equal(t, int32(2), x.f.calls.Load())

	// tok-2 refused as well, within MinInterval: nothing to hand out, and
	// the refused token is not handed out again.
	_, err = m.Invalidate(ctx, tok)
	requireRateLimited(t, err, 2*time.Minute)
	_, err = m.Token(ctx)
	requireRateLimited(t, err, 2*time.Minute)
	assert.Equal(t, int32(2), x.f.calls.Load())

	x.clock.Advance(2 * time.Minute)
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-3", tok)
}

func TestCallRecordedBeforeFetchAndAfterFailure(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	var seen agent.Token
	x.f.during = func(ctx context.Context) {
		var err error
		seen, _, err = x.store.LoadToken(ctx)
		assert.NoError(t, err)
	}
	errDown := errors.New("platform unreachable")
	x.f.setErr(errDown)

	_, err := x.manager(nil).Token(ctx)
	require.ErrorIs(t, err, errDown)
	assert.Equal(t, agent.Token{LastCall: t0}, seen, "the call was on disk before it was made")

	stored, ok, err := x.store.LoadToken(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, t0, stored.LastCall)

	// The failed call counts, for this manager and for a later process.
	x.f.setErr(nil)
	x.clock.Advance(time.Minute)
	_, err = x.manager(nil).Token(ctx)
	requireRateLimited(t, err, time.Minute)
	assert.Equal(t, int32(1), x.f.calls.Load())
}

func TestRecordFailurePreventsCall(t *testing.T) {
	x := newFixture(t, 2*time.Hour)
	fs := &flakyStore{TokenStore: x.store}
	fs.failSaves.Store(1)
	_, err := x.manager(fs).Token(t.Context())
	require.ErrorIs(t, err, errDisk)
	assert.Zero(t, x.f.calls.Load(), "an unrecorded call is never made")
}

var errDisk = errors.New("disk full")

// flakyStore fails the next failSaves saves.
type flakyStore struct {
	agent.TokenStore
	failSaves atomic.Int32
}

func (s *flakyStore) SaveToken(ctx context.Context, tok agent.Token) error {
	if s.failSaves.Add(-1) >= 0 {
		return errDisk
	}
	return s.TokenStore.SaveToken(ctx, tok)
}

func TestUnsavedTokenIsKeptAndSavedLater(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	fs := &flakyStore{TokenStore: x.store}
	m := x.manager(fs)
	_, err := m.Token(ctx)
	require.NoError(t, err)

	// Recording the call works, saving the new token fails: tok-1 on
	// disk is void now, tok-2 is good but only this process has it.
	x.clock.Advance(3 * time.Minute)
	x.f.during = func(context.Context) { fs.failSaves.Store(1) }
	info, err := m.Refresh(ctx)
	require.ErrorIs(t, err, errDisk)
	assert.True(t, info.Fresh)
	x.f.during = nil

	tok, err := m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok, "cached, not fetched again")
	assert.Equal(t, int32(2), x.f.calls.Load())

	// At the next call, the stale stored tok-1 does not displace tok-2,
	// and tok-2 reaches the disk with the call record.
	x.clock.Advance(2 * time.Minute)
	x.f.setErr(errors.New("timeout"))
	_, err = m.Refresh(ctx)
	require.Error(t, err)
	stored, _, err := x.store.LoadToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", stored.Value)
	tok, err = m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok)
}

func TestConcurrentTokenCallsFetchOnce(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	m := x.manager(nil)

	const n = 16
	var ready atomic.Int32
	x.f.during = func(context.Context) {
		// Hold the call open until every goroutine is on its way in.
		for ready.Load() < n {
			runtime.Gosched()
		}
	}
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range n {
		wg.Go(func() {
			ready.Add(1)
			tok, err := m.Token(ctx)
			assert.NoError(t, err)
			got[i] = tok
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), x.f.calls.Load())
	for _, tok := range got {
		assert.Equal(t, "tok-1", tok)
	}
}

func TestRefreshAheadDoesNotBlockOtherCallers(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	m := x.manager(nil)
	_, err := m.Token(ctx)
	require.NoError(t, err)
	x.clock.Advance(2*time.Hour - time.Minute)

	entered, gate := make(chan struct{}), make(chan struct{})
	x.f.during = func(context.Context) {
		close(entered)
		<-gate
	}
	const n = 8
	results := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			tok, err := m.Token(ctx)
			assert.NoError(t, err)
			results <- tok
		})
	}
	<-entered
	// While one goroutine is inside the token call, all others return.
	for range n - 1 {
		assert.Equal(t, "tok-1", <-results)
	}
	close(gate)
	wg.Wait()
	assert.Equal(t, "tok-2", <-results)
	assert.Equal(t, int32(2), x.f.calls.Load())
}

func TestInfoAndRefresh(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	m := x.manager(nil)

	info, err := m.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.TokenInfo{Expires: t0.Add(2 * time.Hour), LastCall: t0, Fresh: true}, info)
	assert.NotContains(t, fmt.Sprintf("%+v %#v", info, info), "tok-")

	// Info never replaces a valid token, even inside the refresh window.
	x.clock.Advance(2*time.Hour - time.Minute)
	info, err = x.manager(nil).Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.TokenInfo{Expires: t0.Add(2 * time.Hour), LastCall: t0}, info)
	assert.Equal(t, int32(1), x.f.calls.Load())

	now := x.clock.Now()
	info, err = m.Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.TokenInfo{Expires: now.Add(2 * time.Hour), LastCall: now, Fresh: true}, info)
	tok, err := m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok)

	x.clock.Advance(time.Minute)
	info, err = m.Refresh(ctx)
	requireRateLimited(t, err, time.Minute)
	assert.Equal(t, agent.TokenInfo{Expires: now.Add(2 * time.Hour), LastCall: now}, info)
	assert.Equal(t, int32(2), x.f.calls.Load())
}

func TestLastCallInTheFutureBlocksOnlyMinInterval(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	// Recorded while the clock was a year ahead, since corrected.
	require.NoError(t, x.store.SaveToken(ctx, agent.Token{LastCall: t0.AddDate(1, 0, 0)}))
	m := x.manager(nil)

	_, err := m.Token(ctx)
	requireRateLimited(t, err, 2*time.Minute)
	x.clock.Advance(time.Minute)
	_, err = m.Token(ctx)
	requireRateLimited(t, err, time.Minute)
	x.clock.Advance(time.Minute)
	tok, err := m.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
}

func TestExpiredStoredTokenIsNeverReturned(t *testing.T) {
	ctx := t.Context()
	x := newFixture(t, 2*time.Hour)
	require.NoError(t, x.store.SaveToken(ctx, agent.Token{
		Value: "old", Expires: t0, LastCall: t0.Add(-2 * time.Hour),
	}))
	tok, err := x.manager(nil).Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
}

func TestCancelledWhileWaiting(t *testing.T) {
	x := newFixture(t, 2*time.Hour)
	m := x.manager(nil)
	entered, gate := make(chan struct{}), make(chan struct{})
	x.f.during = func(context.Context) {
		close(entered)
		<-gate
	}
	done := make(chan error)
	go func() {
		_, err := m.Token(t.Context())
		done <- err
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := m.Token(ctx)
	assert.ErrorIs(t, err, context.Canceled, "a waiter gives up with its context")
	close(gate)
	require.NoError(t, <-done)
}
