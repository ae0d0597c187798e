package offline

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
)

var created0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// filledStore returns the path of a closed store holding n orders.
func filledStore(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, s.CreateOrder(t.Context(), agent.Order{
			OrderNo: fmt.Sprintf("K%06d", i), Kind: agent.KindPay, Amount: 100,
			Created: created0.Add(time.Duration(i) * time.Second), State: agent.StatePaid,
		}))
	}
	require.NoError(t, s.Close())
	return path
}

// requireRefusedUnchanged opens content as a store and expects ErrNotStore
// (or want) with the file byte-for-byte unchanged.
func requireRefusedUnchanged(t *testing.T, content []byte, want error, opts ...Option) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	require.NoError(t, os.WriteFile(path, content, 0o600))
	s, err := Open(path, opts...)
	if s != nil {
		_ = s.Close()
	}
	require.ErrorIs(t, err, want)
	t.Log(err)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, content, after, "file must be left exactly as it was")
}

func TestTruncatedBelowHighWaterMark(t *testing.T) {
	whole, err := os.ReadFile(filledStore(t, 300))
	require.NoError(t, err)

	m0, err := parseBoltMeta(whole)
	require.NoError(t, err)
	m1, err := parseBoltMeta(whole[m0.pageSize:])
	require.NoError(t, err)
	need := int(max(m0.pgid, m1.pgid)) * int(m0.pageSize)
	require.LessOrEqual(t, need, len(whole))
	require.Greater(t, need, 4*int(m0.pageSize), "enough orders to span several pages")

	requireRefusedUnchanged(t, whole[:need-1], ErrNotStore)
	requireRefusedUnchanged(t, whole[:need-int(m0.pageSize)], ErrNotStore)

	// Exactly the high-water mark is a complete file (bbolt preallocates
	// beyond it; that slack is not needed).
	path := filepath.Join(t.TempDir(), "exact.db")
	require.NoError(t, os.WriteFile(path, whole[:need], 0o600))
	s, err := Open(path)
	require.NoError(t, err)
	o, err := s.Order(t.Context(), "K000299")
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, o.State)
	require.NoError(t, s.Close())
}

func TestOneTornMetaPageIsTolerated(t *testing.T) {
	whole, err := os.ReadFile(filledStore(t, 10))
	require.NoError(t, err)
	m0, err := parseBoltMeta(whole)
	require.NoError(t, err)

	// A crash mid-commit leaves one meta page bad; bbolt falls back to the
	// other, and so must the pre-check.
	for _, off := range []int{0, int(m0.pageSize)} {
		torn := append([]byte(nil), whole...)
		torn[off+boltPageHeaderSize+60] ^= 0xff // checksum byte
		path := filepath.Join(t.TempDir(), "torn.db")
		require.NoError(t, os.WriteFile(path, torn, 0o600))
		s, err := Open(path)
		require.NoError(t, err, "meta page at offset %d torn", off)
		require.NoError(t, s.Close())
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filledStore(t, 1)
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], SchemaVersion+1)
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchemaVersion), v[:])
	}))
	require.NoError(t, db.Close())
	content, err := os.ReadFile(path)
	require.NoError(t, err)

	requireRefusedUnchanged(t, content, ErrSchemaTooNew)
}

// pageOf returns the root page id of a top-level bucket.
func pageOf(t *testing.T, path, bucket string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var id uint64
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		id = uint64(tx.Bucket([]byte(bucket)).RootPage())
		return nil
	}))
	require.NotZero(t, id, "bucket %s is not inline", bucket)
	return id
}

func TestDamagedPagesAreRefusedNotCrashed(t *testing.T) {
	path := filledStore(t, 300)
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	m0, err := parseBoltMeta(whole)
	require.NoError(t, err)
	m1, err := parseBoltMeta(whole[m0.pageSize:])
	require.NoError(t, err)
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	ps := int(m.pageSize)

	smash := func(page uint64) []byte {
		b := append([]byte(nil), whole...)
		for i := range ps {
			b[int(page)*ps+i] = byte(i*131 + 7)
		}
		return b
	}

	t.Run("freelist", func(t *testing.T) {
		// bbolt panics on a bad freelist page while opening.
		requireRefusedUnchanged(t, smash(m.freelist), ErrNotStore)
	})
	t.Run("root", func(t *testing.T) {
		requireRefusedUnchanged(t, smash(m.root), ErrNotStore)
	})
	t.Run("orders page: found by the check", func(t *testing.T) {
		damaged := smash(pageOf(t, path, bucketOrders))
		requireRefusedUnchanged(t, damaged, ErrNotStore)

		// Without the check the damage goes unnoticed at open.
		p := filepath.Join(t.TempDir(), "unchecked.db")
		require.NoError(t, os.WriteFile(p, damaged, 0o600))
		s, err := Open(p, WithoutCheck())
		require.NoError(t, err)
		require.NoError(t, s.Close())
	})
}
