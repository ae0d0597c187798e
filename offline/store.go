// Package offline keeps the terminal's durable state in one bbolt file: the
// access token shared by every process of this kiosk, and the record of every
// order, written (and fsync'd) before the request leaves the process.
//
// On-disk layout, schema version 1 (top-level buckets):
//
//	meta               schema_version -> uint64, big-endian
//	token              access_token   -> JSON token record
//	orders             order_no       -> JSON order record
//	orders_by_created  created (8 bytes, see createdKey) + order_no -> empty
//	sequence           (no keys; only the bucket's sequence counter is used)
//
// A change that older binaries could misread bumps the schema version; an
// older binary refuses a newer file instead of guessing.
package offline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/campuspos/kiosk/agent"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the newest on-disk layout this package reads and writes.
const SchemaVersion = 1

// DefaultLockTimeout is how long Open waits for another process to release
// the file before giving up with ErrLocked.
const DefaultLockTimeout = 2 * time.Second

// Bucket and key names of schema version 1. Strings, not []byte, so that no
// package-level value can be modified.
const (
	bucketMeta            = "meta"
	bucketToken           = "token"
	bucketOrders          = "orders"
	bucketOrdersByCreated = "orders_by_created"
	bucketSequence        = "sequence"

	keySchemaVersion = "schema_version"
	keyToken         = "access_token"
)

// schemaBuckets are the top-level buckets every version-1 file has.
func schemaBuckets() []string {
	return []string{bucketMeta, bucketToken, bucketOrders, bucketOrdersByCreated, bucketSequence}
}

// ErrLocked is wrapped by Open when another process (normally the running
// kiosk) holds the database open.
var ErrLocked = errors.New("database is in use by another process")

// ErrNotStore is wrapped by Open when the file exists but is not a usable
// kiosk database: empty, truncated, not a bbolt file, a bbolt file of some
// other program, or failing bbolt's consistency check. Open never modifies
// such a file.
var ErrNotStore = errors.New("not a usable kiosk database file")

// ErrSchemaTooNew is wrapped by Open when the file was written by a newer
// version of this program; reading it could misinterpret orders.
var ErrSchemaTooNew = errors.New("database was written by a newer version of the kiosk software")

// ErrBadRecord is wrapped when a stored record cannot be decoded.
var ErrBadRecord = errors.New("malformed record")

// Store is the bbolt-backed TokenStore and OrderStore. Its methods are safe
// for concurrent use; bbolt serializes writers.
type Store struct {
	db   *bolt.DB
	path string
}

// Compile-time proof that Store serves the agent.
var (
	_ agent.OrderStore = (*Store)(nil)
	_ agent.TokenStore = (*Store)(nil)
)

type options struct {
	lockTimeout time.Duration
	check       bool
}

// Option adjusts Open.
type Option func(*options)

// WithLockTimeout sets how long Open waits for the file lock (default
// DefaultLockTimeout). d <= 0 tries exactly once, which suits a command-line
// tool that should say "the kiosk is running" at once.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// WithoutCheck skips bbolt's full consistency check on open. The check reads
// every page, which is cheap for a kiosk's file but grows with it.
func WithoutCheck() Option {
	return func(o *options) { o.check = false }
}

// Open opens the database at path, creating it (and its directory, mode
// 0700; the file gets mode 0600) when it does not exist. An existing file is
// never recreated or overwritten: if it is not a usable kiosk database Open
// fails with ErrNotStore and leaves it exactly as it was, so that it can be
// inspected or restored.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{lockTimeout: DefaultLockTimeout, check: true}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("offline: create directory for %s: %w", path, err)
	}

	// bbolt opens, locks, then reads and maps the file with no hook in
	// between; opening and locking it ourselves lets the header check run
	// under the lock and before bbolt maps anything.
	var (
		file    *os.File
		created bool
	)
	bo := &bolt.Options{
		Timeout: max(o.lockTimeout, time.Millisecond), // 0 would mean wait forever
		OpenFile: func(name string, _ int, _ os.FileMode) (*os.File, error) {
			f, c, err := openLocked(name, o.lockTimeout)
			file, created = f, c
			return f, err
		},
	}
	db, err := openBolt(path, bo)
	if err != nil {
		if file != nil {
			// After a recovered panic bbolt still holds the file; closing
			// it releases the lock. After an ordinary error bbolt has
			// closed it already and this is a harmless no-op.
			_ = file.Close()
		}
		if created {
			_ = os.Remove(path)
		}
		return nil, openError(path, err)
	}

	s := &Store{db: db, path: path}
	if err := s.setup(o.check); err != nil {
		_ = db.Close()
		if created {
			_ = os.Remove(path)
		}
		return nil, err
	}
	if created {
		if err := syncDir(filepath.Dir(path)); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("offline: sync directory of new database %s: %w", path, err)
		}
	}
	return s, nil
}

// openLocked opens an existing file or creates a new one, takes the lock and,
// for an existing file, checks its header.
func openLocked(path string, timeout time.Duration) (f *os.File, created bool, err error) {
	for attempt := 0; ; attempt++ {
		f, err = os.OpenFile(path, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			// O_EXCL: only a file this call created may be initialized.
			f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) && attempt == 0 {
				continue // created by someone else in between; open theirs
			}
			created = err == nil
		}
		if err != nil {
			return nil, false, err
		}
		break
	}
	if err := lockFile(f, timeout); err != nil {
		_ = f.Close()
		return nil, created, err
	}
	if !created {
		if err := checkBoltFile(f); err != nil {
			_ = f.Close()
			return nil, false, notStoreError{err}
		}
	}
	return f, created, nil
}

// notStoreError marks a failure that means "this file is not a usable
// database", as opposed to an I/O or permission problem.
type notStoreError struct{ err error }

func (e notStoreError) Error() string { return e.err.Error() }
func (e notStoreError) Unwrap() error { return e.err }

// openBolt calls bolt.Open, turning a panic or memory fault while bbolt reads
// a damaged file into an error: the caller is usually kioskctl looking at a
// file, and a crash would tell the operator nothing.
func openBolt(path string, bo *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, notStoreError{fmt.Errorf("bbolt failed reading the file: %v", r)}
		}
	}()
	return bolt.Open(path, 0o600, bo)
}

func openError(path string, err error) error {
	var ns notStoreError
	switch {
	case errors.Is(err, ErrLocked), errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("offline: open %s: %w", path, ErrLocked)
	case errors.As(err, &ns):
		return fmt.Errorf("offline: open %s: %w: %w", path, ErrNotStore, ns.err)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum):
		return fmt.Errorf("offline: open %s: %w: %w", path, ErrNotStore, err)
	default:
		return fmt.Errorf("offline: open %s: %w", path, err)
	}
}

// setup refuses files of other programs and newer schemas, runs the
// consistency check and initializes a new file. It writes only to a file
// without any bucket, i.e. one this process has just created.
func (s *Store) setup(check bool) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("offline: open %s: %w: bbolt failed reading the file: %v", s.path, ErrNotStore, r)
		}
	}()

	var fresh bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		fresh, err = s.checkSchema(tx)
		return err
	}); err != nil {
		return err
	}
	if check {
		if err := s.db.View(func(tx *bolt.Tx) error {
			var errs []error
			for err := range tx.Check() {
				// Keep draining: the checker goroutine blocks until
				// the channel is read to the end.
				if len(errs) < 5 {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		}); err != nil {
			return fmt.Errorf("offline: open %s: %w: consistency check failed: %w", s.path, ErrNotStore, err)
		}
	}
	if !fresh {
		return nil
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range schemaBuckets() {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], SchemaVersion)
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchemaVersion), v[:])
	}); err != nil {
		return fmt.Errorf("offline: initialize %s: %w", s.path, err)
	}
	return nil
}

// checkSchema reports whether the file is a fresh bbolt file with no buckets,
// and fails unless it is that or a kiosk database of a known schema.
func (s *Store) checkSchema(tx *bolt.Tx) (fresh bool, err error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		if k, _ := tx.Cursor().First(); k == nil {
			return true, nil
		}
		return false, fmt.Errorf("offline: open %s: %w: a bbolt database without kiosk metadata (another program's file?)",
			s.path, ErrNotStore)
	}
	raw := meta.Get([]byte(keySchemaVersion))
	if len(raw) != 8 {
		return false, fmt.Errorf("offline: open %s: %w: schema version missing or malformed", s.path, ErrNotStore)
	}
	switch v := binary.BigEndian.Uint64(raw); {
	case v > SchemaVersion:
		return false, fmt.Errorf("offline: open %s: %w: schema version %d, this program knows up to %d",
			s.path, ErrSchemaTooNew, v, SchemaVersion)
	case v < 1:
		return false, fmt.Errorf("offline: open %s: %w: schema version %d", s.path, ErrNotStore, v)
	}
	for _, name := range schemaBuckets() {
		if tx.Bucket([]byte(name)) == nil {
			return false, fmt.Errorf("offline: open %s: %w: bucket %q missing", s.path, ErrNotStore, name)
		}
	}
	return false, nil
}

// Close releases the file and its lock. Calling it again does nothing.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("offline: close %s: %w", s.path, err)
	}
	return nil
}

// LoadToken returns the stored access token; ok is false when none was saved.
func (s *Store) LoadToken(ctx context.Context) (tok agent.Token, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return agent.Token{}, false, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketToken)).Get([]byte(keyToken))
		if raw == nil {
			return nil
		}
		var err error
		tok, err = decodeToken(raw)
		ok = err == nil
		return err
	})
	if err != nil {
		return agent.Token{}, false, fmt.Errorf("offline: load token: %w", err)
	}
	return tok, ok, nil
}

// SaveToken durably replaces the stored access token.
func (s *Store) SaveToken(ctx context.Context, tok agent.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := encodeToken(tok)
	if err != nil {
		return fmt.Errorf("offline: save token: %w", err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketToken)).Put([]byte(keyToken), raw)
	}); err != nil {
		return fmt.Errorf("offline: save token: %w", err)
	}
	return nil
}

// NextSequence durably returns a number this store never returned before
// (1, 2, 3, …), for building order numbers.
func (s *Store) NextSequence(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n uint64
	if err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.Bucket([]byte(bucketSequence)).NextSequence()
		return err
	}); err != nil {
		return 0, fmt.Errorf("offline: next sequence: %w", err)
	}
	return n, nil
}
