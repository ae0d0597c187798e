package offline

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
)

// The PIN lockout outlives the process: saved, closed, opened again.
func TestPINStateSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	require.NoError(t, err)
	st, err := s.PINState(ctx)
	require.NoError(t, err)
	assert.Zero(t, st, "none saved yet")
	want := agent.PINState{Failures: 2, Lockouts: 1, LockedUntil: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	require.NoError(t, s.SavePINState(ctx, want))
	require.NoError(t, s.Close())

	s, err = Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	st, err = s.PINState(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, st)
	assert.ErrorContains(t, s.SavePINState(ctx, agent.PINState{Failures: -1}), "negative")
}

func FuzzDecodePINState(f *testing.F) {
	f.Add([]byte(`{"failures":3,"lockouts":1,"locked_until":"2026-12-04T12:00:00Z"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"failures":-1}`))
	f.Add([]byte(`{"failures":1,"pin":"0000"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := decodePINState(raw)
		if err != nil {
			assert.ErrorIs(t, err, ErrBadRecord)
			return
		}
		again, err := encodePINState(st)
		require.NoError(t, err)
		back, err := decodePINState(again)
		require.NoError(t, err)
		assert.Equal(t, st, back)
	})
}
