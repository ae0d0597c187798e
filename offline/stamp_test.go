package offline_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/offline"
)

// stamp takes the next order stamp at now.
func stamp(t *testing.T, s *offline.Store, now time.Time) agent.OrderStamp {
	t.Helper()
	st, err := s.NextOrderStamp(t.Context(), now)
	require.NoError(t, err)
	return st
}

// reopen closes s and opens the file at path again.
func reopen(t *testing.T, s *offline.Store, path string) *offline.Store {
	t.Helper()
	require.NoError(t, s.Close())
	return openStore(t, path)
}

// guardLine is the reservation line of the guard file of the database at
// path.
func guardLine(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(offline.GuardPath(path))
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if len(line) > 0 && line[0] != '#' {
			return line
		}
	}
	return ""
}

func TestNextOrderStampNeverGoesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s := openStore(t, path)
	var last agent.OrderStamp
	for i, c := range []struct {
		now, want time.Time
	}{
		{t0, t0.Truncate(time.Second)},
		{t0.Add(2 * time.Second), t0.Add(2 * time.Second).Truncate(time.Second)},
		{t0, t0.Add(2 * time.Second).Truncate(time.Second)}, // the clock set back
		{t0.Add(-time.Hour), t0.Add(2 * time.Second).Truncate(time.Second)},
		{time.Time{}, t0.Add(2 * time.Second).Truncate(time.Second)}, // before 1970
		{t0.Add(3 * time.Second), t0.Add(3 * time.Second).Truncate(time.Second)},
		{t0.Truncate(time.Second).Add(3*time.Second + 999*time.Millisecond), t0.Add(3 * time.Second).Truncate(time.Second)},
	} {
		st := stamp(t, s, c.now)
		assert.True(t, st.At.Equal(c.want), "%d: at %s, want %s", i, st.At, c.want)
		assert.Greater(t, st.Seq, last.Seq, "%d", i)
		last = st
	}

	// The latest second is kept across a restart; the sequence goes on
	// past the guard's reservation.
	s = reopen(t, s, path)
	st := stamp(t, s, t0)
	assert.True(t, st.At.Equal(last.At), "at %s, want %s", st.At, last.At)
	assert.Greater(t, st.Seq, last.Seq)
}

func TestNextOrderStampConcurrent(t *testing.T) {
	s := newJournal(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[uint64]bool{}
	)
	for range 8 {
		wg.Go(func() {
			for range 10 {
				st, err := s.NextOrderStamp(t.Context(), t0)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				assert.False(t, seen[st.Seq], "sequence %d returned twice", st.Seq)
				seen[st.Seq] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, 80)
}

func TestOrderStampGuard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s := openStore(t, path)
	_, err := os.Stat(offline.GuardPath(path))
	require.ErrorIs(t, err, os.ErrNotExist, "a fresh install has no guard until the first number")
	_, restored := s.Restored()
	assert.False(t, restored)

	first := stamp(t, s, t0)
	assert.Equal(t, uint64(1), first.Seq)
	assert.Equal(t, "reserved-sequence 1000", guardLine(t, path), "a block reserved ahead")
	stamp(t, s, t0)
	assert.Equal(t, "reserved-sequence 1000", guardLine(t, path))

	// A restart skips the rest of the block; the next number passes the
	// reservation and renews it.
	s = reopen(t, s, path)
	_, restored = s.Restored()
	assert.False(t, restored, "a reopen is not a restore")
	assert.Equal(t, uint64(1001), stamp(t, s, t0).Seq)
	assert.Equal(t, "reserved-sequence 2000", guardLine(t, path))
}

// stampedFile returns the path and content of a closed database that has
// handed out one order number.
func stampedFile(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := offline.Open(path)
	require.NoError(t, err)
	stamp(t, s, t0)
	require.NoError(t, s.Close())
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	return path, content
}

func TestOpenFindsRestoredFile(t *testing.T) {
	path, backup := stampedFile(t)

	// More numbers, across a restart (which renews the guard), after the
	// backup was taken.
	s := openStore(t, path)
	var highest uint64
	for range 2 {
		highest = stamp(t, s, t0).Seq
		s = reopen(t, s, path)
		_, restored := s.Restored()
		require.False(t, restored)
	}
	require.NoError(t, s.Close())
	require.Equal(t, "reserved-sequence 3000", guardLine(t, path))

	require.NoError(t, os.WriteFile(path, backup, 0o600))
	s = openStore(t, path)
	r, restored := s.Restored()
	require.True(t, restored)
	assert.Equal(t, offline.Restore{Reserved: 1000, Guard: 3000}, r)
	next := stamp(t, s, t0)
	assert.Greater(t, next.Seq, highest, "past every number handed out since the backup")
	assert.Greater(t, next.Seq, r.Guard)

	// Once found, the restore is the journal's own record: the next start
	// is an ordinary one.
	s = reopen(t, s, path)
	_, restored = s.Restored()
	assert.False(t, restored)
	assert.Greater(t, stamp(t, s, t0).Seq, next.Seq)
}

func TestOpenRefusesBadGuard(t *testing.T) {
	path, db := stampedFile(t)

	for name, content := range map[string]string{
		"empty":            "",
		"comments only":    "# kiosk order-number guard\n",
		"no number":        "reserved-sequence \n",
		"not a number":     "reserved-sequence many\n",
		"negative":         "reserved-sequence -5\n",
		"zero":             "reserved-sequence 0\n",
		"out of range":     "reserved-sequence 18446744073709551616\n",
		"another spelling": "reserved_sequence 5000\n",
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(offline.GuardPath(path), []byte(content), 0o600))
			s, err := offline.Open(path)
			if s != nil {
				_ = s.Close()
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, offline.GuardPath(path))
			assert.ErrorContains(t, err, `"reserved-sequence N"`)
			after, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, db, after, "the database is left as it was")
		})
	}

	// A line with spaces around the number is read; a guard removed (or a
	// fresh install) is no error.
	require.NoError(t, os.WriteFile(offline.GuardPath(path), []byte("# guard\nreserved-sequence  5000 \n"), 0o600))
	s := openStore(t, path)
	assert.Equal(t, uint64(5001), stamp(t, s, t0).Seq)
	require.NoError(t, s.Close())
	require.NoError(t, os.Remove(offline.GuardPath(path)))
	s = openStore(t, path)
	_, restored := s.Restored()
	assert.False(t, restored)
}
