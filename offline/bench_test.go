package offline

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
)

// BenchmarkCreateOrder is one durable CreateOrder per op on a real file: a
// bbolt commit with fsync, writing the record and its index entry.
func BenchmarkCreateOrder(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	created := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		i++
		o := agent.Order{
			OrderNo: fmt.Sprintf("K17-20250314-%08d", i), Kind: agent.KindPay,
			Account: "20230001", AccType: "###", MercAcc: "1000001", TermID: "17",
			Amount: 1234, Created: created.Add(time.Duration(i) * time.Millisecond),
			State: agent.StateSending,
		}
		if err := s.CreateOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltCommitFloor is the least a durable write costs on this
// file system: one bbolt commit putting one 8-byte key. CreateOrder's time
// over this is the store's own overhead.
func BenchmarkBoltCommitFloor(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("bench"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	var k [8]byte
	var i uint64
	for b.Loop() {
		i++
		binary.BigEndian.PutUint64(k[:], i)
		if err := s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("bench")).Put(k[:], nil)
		}); err != nil {
			b.Fatal(err)
		}
	}
}
