// Package offline keeps the terminal's durable state in one bbolt file: the
// access token shared by every process of this kiosk, and the write-ahead
// journal of every order, written (and fsync'd) before the request leaves
// the process and before an outcome is shown.
//
// On-disk layout, schema version 4 (top-level buckets):
//
//	meta               schema_version -> uint64, big-endian
//	token              access_token   -> JSON token record
//	orders             order_no       -> JSON order record (see orderRecord)
//	orders_by_created  timeKey(created) + order_no -> empty
//	unfinished         timeKey(next_attempt) + order_no -> empty; exactly
//	                   the orders whose state is Unfinished()
//	sequence           (no keys; only the bucket's sequence counter is used)
//	cards              sha256(idtype + "\x00" + id) -> JSON cached card
//	offline_day        day (yyyyMMdd, the order's platform day) + account
//	                   -> uint64 fen accepted offline for that account on
//	                   that day
//	bill_reports       day (yyyyMMdd) -> JSON bill reconciliation report
//	state_counts       state name (agent.OrderState) -> uint64, big-endian:
//	                   how many orders are in that state; a state without
//	                   orders has no key
//
// Schema 3 adds order fields (a payment's pending refunds and refund count,
// the give-up clock), two meta keys, order_stamp and stamp_reserved, that
// keep order numbers from ever repeating (stamp.go), and state_counts,
// which answers StateCounts without reading the orders. The upgrade from
// schema 2 builds the counts; so does Open for a schema-3 file written
// before the bucket existed (schema 3 was not released without it).
//
// Schema 4 adds three order fields: what the customer was told of a
// payment (outcome, outcome_reason) and the platform day the order was
// made on (day), which offline_day counts by, so that the store keeps no
// time zone of its own. The upgrade from schema 3 fills in the outcome of
// every payment from its history (agent.OutcomeFromHistory); it leaves the
// day empty, since only the caller knows the platform's zone.
//
// timeKey is 8 bytes: unix nanoseconds, sign bit flipped, big-endian, so that
// byte order is time order. Every index entry is written in the transaction
// that writes its order, and so is every change of state_counts, so the
// indexes and the counts never disagree with the orders.
//
// Schema 1 had no unfinished, cards, offline_day or bill_reports bucket and
// fewer order fields; Open upgrades such a file in place, in one
// transaction. A change that older binaries could misread bumps the schema
// version; an older binary refuses a newer file instead of guessing.
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
const SchemaVersion = 4

// DefaultLockTimeout is how long Open waits for another process to release
// the file before giving up with ErrLocked.
const DefaultLockTimeout = 2 * time.Second

// Bucket and key names. Strings, not []byte, so that no package-level value
// can be modified.
const (
	bucketMeta            = "meta"
	bucketToken           = "token"
	bucketOrders          = "orders"
	bucketOrdersByCreated = "orders_by_created"
	bucketSequence        = "sequence"
	// New in schema 2.
	bucketUnfinished  = "unfinished"
	bucketCards       = "cards"
	bucketOfflineDay  = "offline_day"
	bucketBillReports = "bill_reports"
	// New in schema 3.
	bucketStateCounts = "state_counts"

	keySchemaVersion = "schema_version"
	keyToken         = "access_token"
)

// schemaBuckets are the top-level buckets every file of the given schema
// version has.
func schemaBuckets(version uint64) []string {
	v1 := []string{bucketMeta, bucketToken, bucketOrders, bucketOrdersByCreated, bucketSequence}
	if version == 1 {
		return v1
	}
	v2 := append(v1, bucketUnfinished, bucketCards, bucketOfflineDay, bucketBillReports)
	if version == 2 {
		return v2
	}
	return append(v2, bucketStateCounts)
}

// ErrLocked is wrapped by Open when another process (normally the running
// kiosk) holds the database open.
var ErrLocked = errors.New("database is in use by another process")

// ErrNotStore is wrapped by Open when the file exists but is not a usable
// kiosk database: empty, truncated, not a bbolt file, a bbolt file of some
// other program, or failing the start-up consistency check. Open never
// modifies such a file.
var ErrNotStore = errors.New("not a usable kiosk database file")

// ErrSchemaTooNew is wrapped by Open when the file was written by a newer
// version of this program; reading it could misinterpret orders.
var ErrSchemaTooNew = errors.New("database was written by a newer version of the kiosk software")

// ErrBadRecord is wrapped when a stored record cannot be decoded.
var ErrBadRecord = errors.New("malformed record")

// ErrCorrupt is wrapped by CheckAll when it finds damage, and by any method
// that runs into a damaged page or an index out of step with the orders
// after Open (which only checks the small structures; see Open). The file
// is left as it is; `kioskctl db check` says more.
var ErrCorrupt = errors.New("database file is damaged")

// Store is the bbolt-backed agent.Journal and agent.TokenStore. Its methods
// are safe for concurrent use; bbolt serializes writers.
type Store struct {
	db   *bolt.DB
	path string
	// restored is set by Open when the file is older than order numbers
	// already used (see stamp.go).
	restored *Restore
}

// Compile-time proof that Store serves the agent.
var (
	_ agent.Journal    = (*Store)(nil)
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

// WithoutCheck skips the start-up check of the file's critical structures
// (see Open). The header and size check, which keeps bbolt from crashing on
// a truncated file, always runs.
func WithoutCheck() Option {
	return func(o *options) { o.check = false }
}

// Open opens the database at path, creating it (and its directory, mode
// 0700; the file gets mode 0600) when it does not exist, and upgrading a
// file of an older schema in one transaction. An existing file is never
// recreated or overwritten: if it is not a usable kiosk database Open fails
// with ErrNotStore and leaves it exactly as it was, so that it can be
// inspected or restored.
//
// Start-up check. Before bbolt maps the file, its header is checked against
// its size (cheap, and what keeps a truncated file from crashing the
// process). After that Open checks only the structures a restart depends
// on: the tree of top-level buckets and the meta, token, sequence and
// unfinished buckets, whose size does not grow with the number of finished
// orders. bbolt's full check (CheckAll) reads every page of the file and
// would make start-up time grow with the journal's history: with a million
// finished orders it costs seconds on a kiosk's flash, on every restart,
// before the first payment. The price is that damage to the pages of
// finished orders (orders, orders_by_created) or of the card cache and
// reports is found when those pages are read, not at start-up: such a read
// then fails with ErrCorrupt instead of crashing, and a write that would
// touch a damaged page is rolled back. `kioskctl db check` (CheckAll) finds
// such damage on demand; a schema migration runs bbolt's page check
// first, so that nothing is rewritten from damaged pages.
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
	if err := s.checkGuard(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("offline: open %s: %w", path, err)
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
// start-up check, initializes a new file and migrates an old one. It writes
// only to a file without any bucket (one this process has just created) or
// to a kiosk database of an older schema (a schema-3 file without state
// counts among them, whose counts it builds as the upgrade from schema 2
// would have).
func (s *Store) setup(check bool) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("offline: open %s: %w: bbolt failed reading the file: %v", s.path, ErrNotStore, r)
		}
	}()

	var version uint64
	if err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		version, err = s.checkSchema(tx)
		return err
	}); err != nil {
		return err
	}

	switch {
	case version == 0:
		return s.initialize()
	case version < SchemaVersion:
		// The page check first, so that nothing is rewritten from a
		// damaged file (the upgrades from schema 1 and 2 rewrite every
		// order; from 3 only the schema version).
		if check {
			if err := s.db.View(func(tx *bolt.Tx) error { return checkTx(tx) }); err != nil {
				return fmt.Errorf("offline: open %s: %w: consistency check before the upgrade failed: %w",
					s.path, ErrNotStore, err)
			}
		}
		return s.migrate(version)
	}
	if check {
		if err := s.db.View(func(tx *bolt.Tx) error { return s.checkCritical(tx) }); err != nil {
			return fmt.Errorf("offline: open %s: %w: consistency check failed: %w", s.path, ErrNotStore, err)
		}
	}
	return nil
}

// initialize lays out a new, empty file.
func (s *Store) initialize() error {
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range schemaBuckets(SchemaVersion) {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return putSchemaVersion(tx, SchemaVersion)
	}); err != nil {
		return fmt.Errorf("offline: initialize %s: %w", s.path, err)
	}
	return nil
}

func putSchemaVersion(tx *bolt.Tx, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchemaVersion), b[:])
}

// checkSchema returns the file's schema version, 0 for a fresh bbolt file
// with no buckets, and fails unless it is that or a kiosk database of a
// known schema with all its buckets.
func (s *Store) checkSchema(tx *bolt.Tx) (version uint64, err error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		if k, _ := tx.Cursor().First(); k == nil {
			return 0, nil
		}
		return 0, fmt.Errorf("offline: open %s: %w: a bbolt database without kiosk metadata (another program's file?)",
			s.path, ErrNotStore)
	}
	raw := meta.Get([]byte(keySchemaVersion))
	if len(raw) != 8 {
		return 0, fmt.Errorf("offline: open %s: %w: schema version missing or malformed", s.path, ErrNotStore)
	}
	switch version = binary.BigEndian.Uint64(raw); {
	case version > SchemaVersion:
		return 0, fmt.Errorf("offline: open %s: %w: schema version %d, this program knows up to %d",
			s.path, ErrSchemaTooNew, version, SchemaVersion)
	case version < 1:
		return 0, fmt.Errorf("offline: open %s: %w: schema version %d", s.path, ErrNotStore, version)
	}
	for _, name := range schemaBuckets(version) {
		// A schema-3 file of a build before state_counts: setup builds it.
		if tx.Bucket([]byte(name)) == nil && (name != bucketStateCounts || version != 3) {
			return 0, fmt.Errorf("offline: open %s: %w: schema %d bucket %q missing", s.path, ErrNotStore, version, name)
		}
	}
	return version, nil
}

// Close releases the file and its lock. Calling it again does nothing.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("offline: close %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction. bbolt panics (or, on a page beyond
// the mapping, faults) when it meets a damaged page; since Open no longer
// reads every page, that can happen after start-up, and it must become an
// error for this one call rather than stop the kiosk.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: bbolt failed reading a page: %v", ErrCorrupt, s.path, r)
		}
	}()
	return s.db.View(fn)
}

// update is view for a write transaction. bbolt rolls the transaction back
// before the panic reaches here, so nothing of it is written.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: bbolt failed reading a page: %v", ErrCorrupt, s.path, r)
		}
	}()
	return s.db.Update(fn)
}

// LoadToken returns the stored access token; ok is false when none was saved.
func (s *Store) LoadToken(ctx context.Context) (tok agent.Token, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return agent.Token{}, false, err
	}
	err = s.view(func(tx *bolt.Tx) error {
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
		return agent.Token{}, false, fmt.Errorf("offline: load token from %s: %w", s.path, err)
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
	if err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketToken)).Put([]byte(keyToken), raw)
	}); err != nil {
		return fmt.Errorf("offline: save token to %s: %w", s.path, err)
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
	if err := s.update(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.Bucket([]byte(bucketSequence)).NextSequence()
		return err
	}); err != nil {
		return 0, fmt.Errorf("offline: next sequence in %s: %w", s.path, err)
	}
	return n, nil
}
