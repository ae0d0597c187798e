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

// schema1Order is an order record exactly as the schema-1 encoder wrote it.
func schema1Order(no, state string, created time.Time) string {
	return fmt.Sprintf(`{"order_no":%q,"kind":"pay","account":"20230001","acctype":"###","mercacc":"1000001",`+
		`"termid":"17","amount_fen":1234,"created":%q,"updated":"2025-03-14T09:30:00Z","state":%q,"out_id":"T%s"}`,
		no, created.UTC().Format(time.RFC3339Nano), state, no)
}

// writeSchema1 builds a schema-1 file with raw bbolt, as the previous
// release left it: five buckets, a token, orders with their by-created
// index, and a sequence at 5.
func writeSchema1(t *testing.T, records map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "token", "orders", "orders_by_created", "sequence"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], 1)
		if err := tx.Bucket([]byte("meta")).Put([]byte("schema_version"), v[:]); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("token")).Put([]byte("access_token"),
			[]byte(`{"value":"tok-1","expires":"2025-03-14T11:00:00Z","last_call":"2025-03-14T09:00:00Z"}`)); err != nil {
			return err
		}
		seq := tx.Bucket([]byte("sequence"))
		for range 5 {
			if _, err := seq.NextSequence(); err != nil {
				return err
			}
		}
		for no, rec := range records {
			if err := tx.Bucket([]byte("orders")).Put([]byte(no), []byte(rec)); err != nil {
				return err
			}
			// Schema 1 used the same creation-time key. (A record
			// that does not parse gets some key; it is refused anyway.)
			created := created0
			if o, err := parseOrder([]byte(rec)); err == nil {
				created = o.Created
			}
			if err := tx.Bucket([]byte("orders_by_created")).Put(createdKey(created, no), nil); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())
	return path
}

func schemaVersionOf(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var v uint64
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bucket([]byte(bucketMeta)).Get([]byte(keySchemaVersion)))
		for _, name := range schemaBuckets(v) {
			if tx.Bucket([]byte(name)) == nil {
				return fmt.Errorf("bucket %s missing", name)
			}
		}
		return nil
	}))
	return v
}

func TestMigrateSchema1(t *testing.T) {
	ctx := t.Context()
	states := map[string]string{
		"K1": "sending", "K2": "paid", "K3": "declined",
		"K4": "unknown", "K5": "refunded", "K6": "not_found",
	}
	records := map[string]string{}
	for no, state := range states {
		records[no] = schema1Order(no, state, created0.Add(time.Duration(no[1]-'0')*time.Minute))
	}
	path := writeSchema1(t, records)
	require.Equal(t, uint64(1), schemaVersionOf(t, path))

	s, err := Open(path)
	require.NoError(t, err)
	for no, state := range states {
		o, err := s.Order(ctx, no)
		require.NoError(t, err, no)
		want, err := parseOrder([]byte(records[no]))
		require.NoError(t, err)
		if state == "not_found" {
			want.State = agent.StateVoided
		}
		assert.Equal(t, want, o, "%s: only a not_found state changes", no)
	}
	// The unfinished index holds the orders the reconciler must look at:
	// in schema 1 they had no NextAttempt, so they are due at once.
	due, err := s.Due(ctx, created0, 0)
	require.NoError(t, err)
	require.Len(t, due, 2)
	assert.Equal(t, "K1", due[0].OrderNo)
	assert.Equal(t, "K4", due[1].OrderNo)

	tok, ok, err := s.LoadToken(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "tok-1", tok.Value)
	n, err := s.NextSequence(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), n, "the sequence continues")
	list, err := s.Orders(ctx, agent.OrderFilter{})
	require.NoError(t, err)
	assert.Len(t, list, 6)
	requireCounts(t, s, map[agent.OrderState]int{
		agent.StateSending: 1, agent.StatePaid: 1, agent.StateDeclined: 1,
		agent.StateUnknown: 1, agent.StateRefunded: 1, agent.StateVoided: 1,
	}, "not_found counted as voided")

	// The new buckets work.
	require.NoError(t, s.SaveCard(ctx, agent.CachedCard{Account: "20230001"}, agent.Identity{Type: "card", ID: "1"}))
	require.NoError(t, s.CreateOrder(ctx, agent.Order{
		OrderNo: "K7", Kind: agent.KindPay, Account: "20230001", Amount: 1,
		Created: created0, State: agent.StateOfflineAccepted, NextAttempt: created0, Day: "20250314",
	}))
	require.NoError(t, s.Close())
	assert.Equal(t, uint64(SchemaVersion), schemaVersionOf(t, path))

	// Opening again finds nothing to do.
	s, err = Open(path)
	require.NoError(t, err)
	count, err := s.UnfinishedCount(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, count)
	require.NoError(t, s.Close())
}

func TestMigrateSchema1RefusesBadFileAndLeavesIt(t *testing.T) {
	for name, records := range map[string]map[string]string{
		"undecodable record": {"K1": schema1Order("K1", "paid", created0), "K2": `{"order_no":"K2",`},
		"unknown state":      {"K1": schema1Order("K1", "gone", created0)},
		"schema-2 state":     {"K1": schema1Order("K1", "offline_accepted", created0)},
		"misfiled record":    {"K1": schema1Order("K9", "paid", created0)},
	} {
		t.Run(name, func(t *testing.T) {
			content, err := os.ReadFile(writeSchema1(t, records))
			require.NoError(t, err)
			requireRefusedUnchanged(t, content, ErrNotStore)
		})
	}
	t.Run("bucket missing", func(t *testing.T) {
		path := writeSchema1(t, nil)
		db, err := bolt.Open(path, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("sequence")) }))
		require.NoError(t, db.Close())
		content, err := os.ReadFile(path)
		require.NoError(t, err)
		requireRefusedUnchanged(t, content, ErrNotStore)
	})
	t.Run("damaged orders page: full check before the upgrade", func(t *testing.T) {
		records := map[string]string{}
		for i := range 300 {
			no := fmt.Sprintf("K%06d", i)
			records[no] = schema1Order(no, "paid", created0.Add(time.Duration(i)*time.Second))
		}
		path := writeSchema1(t, records)
		requireRefusedUnchanged(t, smashPage(t, path, pageOf(t, path, bucketOrders)), ErrNotStore)
	})
}
