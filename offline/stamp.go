package offline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
)

// Order numbers must never repeat, not even after the clock was set back or
// the file was restored from a backup (which also restores the sequence).
// An order number is the termid, a second and the sequence (mod 10^6);
// three records keep it unique:
//
//   - meta order_stamp: the latest second any order number used. A new
//     number uses max(now, order_stamp), so a clock set back does not take
//     numbers back into seconds already used.
//   - the sequence bucket's counter, which never returns a number twice in
//     one file.
//   - the guard file beside the database (GuardPath): a sequence number up
//     to which numbers may have been handed out, reserved a block ahead
//     and written before the journal's own record of it (meta
//     stamp_reserved), so it costs one extra write per block, not per order.
//     Open moves the sequence past the guard every time: a file restored
//     from a backup then never hands out a sequence number used since the
//     backup was taken. A guard ahead of stamp_reserved tells that the file
//     was restored (Restored). Restoring the guard together with the
//     database defeats it: back up the database alone.

// seqBlock is how many sequence numbers the guard reserves at a time; each
// start-up skips what is left of the block.
const seqBlock = 1000

// Meta keys of the order-number stamp (schema 3).
const (
	keyOrderStamp    = "order_stamp"
	keyStampReserved = "stamp_reserved"
)

// guardHeader opens the guard file, for whoever finds it.
const guardHeader = "# kiosk order-number guard: do not delete, do not restore with a backup of the database\n"

// GuardPath is the guard file of the database at path.
func GuardPath(path string) string { return path + ".guard" }

// Restore tells that Open found the database older than order numbers this
// terminal had already used: it was restored from a copy.
type Restore struct {
	// Reserved is the sequence number up to which the journal had reserved
	// order numbers (its own record); Guard is how far the terminal really
	// had. Numbers go on past Guard.
	Reserved, Guard uint64
}

// Restored reports whether Open found the database restored from an older
// copy (and moved order numbers past those used since).
func (s *Store) Restored() (Restore, bool) {
	if s.restored == nil {
		return Restore{}, false
	}
	return *s.restored, true
}

func metaUint(meta *bolt.Bucket, key string) (uint64, error) {
	switch v := meta.Get([]byte(key)); len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	default:
		return 0, fmt.Errorf("%w: meta %s of %d bytes", ErrBadRecord, key, len(v))
	}
}

func putMetaUint(meta *bolt.Bucket, key string, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return meta.Put([]byte(key), b[:])
}

// readGuard returns the guard file's reserved sequence number; ok false
// when there is none.
func readGuard(path string) (seq uint64, ok bool, err error) {
	raw, err := os.ReadFile(GuardPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("offline: read order-number guard: %w", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, found := strings.CutPrefix(line, "reserved-sequence "); found {
			if seq, err = strconv.ParseUint(strings.TrimSpace(rest), 10, 64); err == nil && seq > 0 {
				return seq, true, nil
			}
		}
	}
	return 0, false, fmt.Errorf("offline: order-number guard %s has no valid \"reserved-sequence N\" line; "+
		"it keeps order numbers from repeating after a restore: rewrite the line with the highest sequence "+
		"ever used, or move the file away if this database was never restored", GuardPath(path))
}

// writeGuard replaces the guard file durably (written aside, synced,
// renamed, directory synced).
func writeGuard(path string, seq uint64) error {
	g := GuardPath(path)
	var b bytes.Buffer
	b.WriteString(guardHeader)
	fmt.Fprintf(&b, "# order numbers with sequence numbers up to this one may be in use\nreserved-sequence %d\n", seq)
	tmp := g + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("offline: write order-number guard: %w", err)
	}
	_, werr := f.Write(b.Bytes())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("offline: write order-number guard: %w", err)
	}
	if err := os.Rename(tmp, g); err != nil {
		return fmt.Errorf("offline: write order-number guard: %w", err)
	}
	return syncDir(filepath.Dir(g))
}

// checkGuard runs at Open: the sequence moves past the guard's reservation
// (numbers from it may be in use even if this file does not know), and a
// guard ahead of the journal's own reservation tells a restored file.
func (s *Store) checkGuard() error {
	guard, ok, err := readGuard(s.path)
	if err != nil || !ok {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		reserved, err := metaUint(meta, keyStampReserved)
		if err != nil {
			return err
		}
		if guard > reserved {
			s.restored = &Restore{Reserved: reserved, Guard: guard}
			if err := putMetaUint(meta, keyStampReserved, guard); err != nil {
				return err
			}
		}
		seq := tx.Bucket([]byte(bucketSequence))
		if seq.Sequence() < guard {
			return seq.SetSequence(guard)
		}
		return nil
	})
}

// NextOrderStamp returns the second and sequence of a new order number
// (agent.Journal): the second is now's, or later when the clock went back;
// the sequence was never used by this terminal, even across a restore (see
// the comment at the top of this file).
func (s *Store) NextOrderStamp(ctx context.Context, now time.Time) (agent.OrderStamp, error) {
	if err := ctx.Err(); err != nil {
		return agent.OrderStamp{}, err
	}
	var st agent.OrderStamp
	err := s.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		last, err := metaUint(meta, keyOrderStamp)
		if err != nil {
			return err
		}
		reserved, err := metaUint(meta, keyStampReserved)
		if err != nil {
			return err
		}
		seq, err := tx.Bucket([]byte(bucketSequence)).NextSequence()
		if err != nil {
			return err
		}
		if seq > reserved {
			// The guard first: if the commit then fails, the guard is
			// merely ahead, which costs the next start-up a skip.
			reserved = seq + seqBlock - 1
			if err := writeGuard(s.path, reserved); err != nil {
				return err
			}
			if err := putMetaUint(meta, keyStampReserved, reserved); err != nil {
				return err
			}
		}
		at := max(uint64(max(now.Unix(), 0)), last)
		if at != last {
			if err := putMetaUint(meta, keyOrderStamp, at); err != nil {
				return err
			}
		}
		st = agent.OrderStamp{At: time.Unix(int64(at), 0), Seq: seq}
		return nil
	})
	if err != nil {
		return agent.OrderStamp{}, fmt.Errorf("offline: next order number in %s: %w", s.path, err)
	}
	return st, nil
}
