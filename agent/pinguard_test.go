package agent_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/offline"
)

const rightPIN = "246813"

func isRight(pin string) bool { return pin == rightPIN }

// tryWrong tries n wrong PINs and returns the last attempt.
func tryWrong(t *testing.T, g *agent.PINGuard, n int) agent.PINAttempt {
	t.Helper()
	var a agent.PINAttempt
	for range n {
		var err error
		a, err = g.Try(t.Context(), "000000")
		require.NoError(t, err)
		require.False(t, a.OK)
	}
	return a
}

// Five wrong PINs lock diagnostics for a minute; each further lockout
// doubles, up to an hour; the right PIN starts afresh.
func TestPINGuardLocksAndDoubles(t *testing.T) {
	clock := onecardtest.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	store, err := offline.Open(filepath.Join(t.TempDir(), "kiosk.db"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	g := agent.NewPINGuard(isRight, store, clock, agent.PINPolicy{})

	a := tryWrong(t, g, 4)
	assert.Equal(t, 1, a.TriesLeft)
	a = tryWrong(t, g, 1)
	require.True(t, a.Locked)
	assert.Equal(t, clock.Now().Add(time.Minute), a.LockedUntil)

	a, err = g.Try(t.Context(), rightPIN)
	require.NoError(t, err)
	assert.False(t, a.OK, "locked: not even the right PIN is checked")

	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour} {
		clock.Advance(a.LockedUntil.Sub(clock.Now()))
		a = tryWrong(t, g, 5)
		require.True(t, a.Locked)
		assert.Equal(t, want, a.LockedUntil.Sub(clock.Now()))
	}

	clock.Advance(time.Hour)
	a, err = g.Try(t.Context(), rightPIN)
	require.NoError(t, err)
	assert.True(t, a.OK)
	st, err := g.State(t.Context())
	require.NoError(t, err)
	assert.Zero(t, st, "the right PIN forgets the wrong ones")
	a = tryWrong(t, g, 5)
	assert.Equal(t, time.Minute, a.LockedUntil.Sub(clock.Now()), "and the lockouts")
}

// A restart keeps the lockout and the count: pulling the plug after four
// wrong PINs gives no fresh five.
func TestPINGuardSurvivesRestart(t *testing.T) {
	clock := onecardtest.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "kiosk.db")
	open := func() (*offline.Store, *agent.PINGuard) {
		store, err := offline.Open(path)
		require.NoError(t, err)
		return store, agent.NewPINGuard(isRight, store, clock, agent.PINPolicy{})
	}
	store, g := open()
	tryWrong(t, g, 4)
	require.NoError(t, store.Close())

	store, g = open()
	a := tryWrong(t, g, 1)
	assert.True(t, a.Locked, "the fifth wrong PIN, across a restart")
	require.NoError(t, store.Close())

	store, g = open()
	defer store.Close()
	a, err := g.Try(t.Context(), rightPIN)
	require.NoError(t, err)
	assert.False(t, a.OK)
	assert.Equal(t, clock.Now().Add(time.Minute), a.LockedUntil, "still locked after the restart")
}

// A journal that fails neither opens diagnostics to a guesser nor shuts a
// technician out: the count is kept in the process, and the error said.
func TestPINGuardWithoutJournal(t *testing.T) {
	clock := onecardtest.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	// A real journal, closed under the guard: every read and write fails.
	store, err := offline.Open(filepath.Join(t.TempDir(), "kiosk.db"))
	require.NoError(t, err)
	require.NoError(t, store.Close())
	g := agent.NewPINGuard(isRight, store, clock, agent.PINPolicy{MaxTries: 2})
	a, err := g.Try(t.Context(), "1")
	assert.ErrorContains(t, err, "PIN lockout")
	assert.Equal(t, 1, a.TriesLeft)
	a, _ = g.Try(t.Context(), "1")
	assert.True(t, a.Locked)
	a, _ = g.Try(t.Context(), rightPIN)
	assert.False(t, a.OK, "locked in the process")
	clock.Advance(time.Minute)
	a, err = g.Try(t.Context(), rightPIN)
	assert.True(t, a.OK)
	assert.Error(t, err)
}
