package offline

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
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

// filledStore returns the path of a closed store holding n paid orders.
func filledStore(t *testing.T, n int) string {
	t.Helper()
	return filledStoreIn(t, n, agent.StatePaid)
}

// filledStoreIn returns the path of a closed store holding n orders in
// state, written in one transaction.
func filledStoreIn(t *testing.T, n int, state agent.OrderState) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		j := s.journal(tx)
		for i := range n {
			o := agent.Order{
				OrderNo: fmt.Sprintf("K%06d", i), Kind: agent.KindPay, Amount: 100,
				Created: created0.Add(time.Duration(i) * time.Second), State: state,
				NextAttempt: created0.Add(time.Duration(i) * time.Minute),
			}
			raw, err := encodeOrder(o)
			if err != nil {
				return err
			}
			if err := j.create(o, raw); err != nil {
				return err
			}
		}
		return nil
	}))
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

// smashPage returns a copy of the file at path with one page overwritten
// by a pattern that is neither a valid page header nor zeros.
func smashPage(t *testing.T, path string, page uint64) []byte {
	t.Helper()
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	m0, err := parseBoltMeta(whole)
	require.NoError(t, err)
	ps := int(m0.pageSize)
	require.Less(t, int(page)*ps, len(whole))
	for i := range ps {
		whole[int(page)*ps+i] = byte(i*131 + 7)
	}
	return whole
}

// currentMeta returns the newer of the file's two meta pages.
func currentMeta(t *testing.T, path string) boltMeta {
	t.Helper()
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	m0, err := parseBoltMeta(whole)
	require.NoError(t, err)
	m1, err := parseBoltMeta(whole[m0.pageSize:])
	require.NoError(t, err)
	if m1.txid > m0.txid {
		return m1
	}
	return m0
}

func TestDamagedPagesAreRefusedNotCrashed(t *testing.T) {
	path := filledStore(t, 300)
	m := currentMeta(t, path)

	t.Run("freelist", func(t *testing.T) {
		// bbolt panics on a bad freelist page while opening.
		requireRefusedUnchanged(t, smashPage(t, path, m.freelist), ErrNotStore)
	})
	t.Run("root", func(t *testing.T) {
		requireRefusedUnchanged(t, smashPage(t, path, m.root), ErrNotStore)
	})
	t.Run("unfinished index page: found at start-up", func(t *testing.T) {
		unfinished := filledStoreIn(t, 300, agent.StateUnknown)
		damaged := smashPage(t, unfinished, pageOf(t, unfinished, bucketUnfinished))
		requireRefusedUnchanged(t, damaged, ErrNotStore)
	})
	t.Run("orders page: found by CheckAll and on reading, not at start-up", func(t *testing.T) {
		// The start-up check does not read finished orders (that is what
		// keeps start-up fast with a long history), so this file opens.
		damaged := smashPage(t, path, pageOf(t, path, bucketOrders))
		p := filepath.Join(t.TempDir(), "damaged.db")
		require.NoError(t, os.WriteFile(p, damaged, 0o600))
		s, err := Open(p)
		require.NoError(t, err)
		defer func() { require.NoError(t, s.Close()) }()
		ctx := t.Context()

		err = s.CheckAll(ctx)
		require.ErrorIs(t, err, ErrCorrupt)
		assert.Contains(t, err.Error(), p)
		t.Log(err)

		// Reading the damaged page is an error for that call, not a crash.
		_, err = s.Order(ctx, "K000000")
		require.ErrorIs(t, err, ErrCorrupt)
		_, err = s.Orders(ctx, agent.OrderFilter{})
		require.ErrorIs(t, err, ErrCorrupt)
		_, err = s.UpdateOrder(ctx, "K000000", func(*agent.Order) error { return nil })
		require.ErrorIs(t, err, ErrCorrupt)

		// What does not touch it still works.
		due, err := s.Due(ctx, created0.Add(time.Hour), 0)
		require.NoError(t, err)
		assert.Empty(t, due)
		_, err = s.NextSequence(ctx)
		require.NoError(t, err)

		after, err := os.ReadFile(p)
		require.NoError(t, err)
		m := currentMeta(t, p)
		// Only the sequence commit changed the file; the damaged page is
		// still exactly as it was.
		ps := int(m.pageSize)
		page := int(pageOf(t, path, bucketOrders))
		assert.Equal(t, damaged[page*ps:(page+1)*ps], after[page*ps:(page+1)*ps])
	})
	t.Run("without the check", func(t *testing.T) {
		unfinished := filledStoreIn(t, 300, agent.StateUnknown)
		damaged := smashPage(t, unfinished, pageOf(t, unfinished, bucketUnfinished))
		p := filepath.Join(t.TempDir(), "unchecked.db")
		require.NoError(t, os.WriteFile(p, damaged, 0o600))
		s, err := Open(p, WithoutCheck())
		require.NoError(t, err)
		_, err = s.Due(t.Context(), created0.Add(1000*time.Hour), 0)
		require.ErrorIs(t, err, ErrCorrupt)
		require.NoError(t, s.Close())
	})
}

func TestCheckAllFindsIndexOutOfStep(t *testing.T) {
	ctx := t.Context()
	path := filledStoreIn(t, 20, agent.StateUnknown)
	s, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.NoError(t, s.CheckAll(ctx))

	// A stale unfinished entry and a missing by-created entry, as a bug
	// writing outside the journal's transactions would leave them.
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte(bucketUnfinished)).Put(unfinishedKey(created0, "GHOST"), nil); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketOrdersByCreated)).Delete(createdKey(created0, "K000000"))
	}))
	err = s.CheckAll(ctx)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), `order "K000000" is missing from orders_by_created`)
	assert.Contains(t, err.Error(), "unfinished index has 21 entries for 20 unfinished orders")
	t.Log(err)

	_, err = s.Due(ctx, created0, 0)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "GHOST")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.CheckAll(cancelled), context.Canceled)
}

func TestExportCSVInBatches(t *testing.T) {
	const n = 2*exportBatch + 345
	s, err := Open(filledStore(t, n))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()

	var out bytes.Buffer
	require.NoError(t, s.ExportCSV(t.Context(), &out, time.Time{}, time.Time{}, nil))
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+1)
	assert.Equal(t, csvHeader(), rows[0])
	for i, row := range rows[1:] {
		require.Equal(t, fmt.Sprintf("K%06d", i), row[0], "oldest first, none twice or missing")
	}

	// A range ending exactly at a batch boundary.
	out.Reset()
	require.NoError(t, s.ExportCSV(t.Context(), &out, created0, created0.Add(exportBatch*time.Second), time.UTC))
	rows, err = csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, exportBatch+1)
}
