package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/kv/boltkv"
)

// AllSlug is the reserved category slug that holds every article.
const AllSlug = "all"

// schemaVersion is the layout version this package reads and writes (see doc.go).
const schemaVersion = 4

// Top-level bucket names and the meta key; see the layout in doc.go.
const (
	bucketMeta       = "meta"
	bucketArticles   = "articles"
	bucketIndex      = "index"
	bucketCategories = "categories"
	bucketSources    = "sources"
	keySchema        = "schema"
)

// topBuckets lists the top-level buckets every tributary database has.
func topBuckets() []string {
	return []string{bucketMeta, bucketArticles, bucketIndex, bucketCategories, bucketSources}
}

// defaultLockTimeout is the lock wait used when Options.LockTimeout is zero.
const defaultLockTimeout = time.Second

// Options tune Open and New.
type Options struct {
	// LockTimeout is how long Open waits for the file lock before failing
	// with ErrLocked; zero means one second. New ignores it.
	LockTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the article store, kept in a kv.DB: a bbolt file (Open) or any
// other backend (New). It is safe for concurrent use by multiple
// goroutines; writes are serialised by the backend, reads run in parallel.
// A Store opened with Open holds an exclusive lock on its file until Close.
type Store struct {
	db kv.DB
	// file is the bbolt database under db, nil on another backend: what
	// only a file has (backups, size, page checks) needs it.
	file *bolt.DB
	// name names the database in errors: the file's path, or "database".
	name string
	now  func() time.Time
	// writes runs the writes of concurrent fetches in shared transactions.
	writes *groupCommit
	// sketches caches the sketch log for the saves' near-duplicate lookups.
	sketches *sketchCache
	// merging is set while a goroutine runs a merge of the sketch log.
	merging atomic.Bool
}

// Open opens (creating if needed) the database file at path, with mode 0600.
// The directory must exist. If another process holds the file, Open fails
// after Options.LockTimeout with an error wrapping ErrLocked. A file written
// by a newer tributary (a higher schema version) is refused. The caller must
// Close the returned Store.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        timeout,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w (locked)", path, ErrLocked)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open %s: directory %s: %w", path, filepath.Dir(path), fs.ErrNotExist)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s, err := newStore(boltkv.New(db), db, path, opts)
	if err != nil {
		_ = db.Close() // the schema error is the one worth reporting
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// New returns the Store kept in db, any backend: it writes the empty
// layout into a database without one, migrates an older schema version
// forward and refuses a newer one, as Open does for a file. On success the
// Store owns db and Close closes it; on error the caller still does. What
// only a bbolt file can do (Size, WriteTo, the page check of Check) needs
// a *boltkv.DB; on another backend Size and WriteTo fail with ErrNotFile.
func New(db kv.DB, opts Options) (*Store, error) {
	var file *bolt.DB
	name := "database"
	if b, ok := db.(*boltkv.DB); ok {
		file, name = b.Bolt(), b.Bolt().Path()
	}
	s, err := newStore(db, file, name, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return s, nil
}

// newStore checks or writes the layout of db and returns its Store; file
// is the bbolt database under db, or nil.
func newStore(db kv.DB, file *bolt.DB, name string, opts Options) (*Store, error) {
	if err := initSchema(context.Background(), db); err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, file: file, name: name, now: now, writes: &groupCommit{db: db}, sketches: &sketchCache{mergeAt: mergeEntries}}, nil
}

// initSchema checks the schema version of db, or writes the empty layout
// when db is new. It writes to an existing tributary database only to
// migrate an older schema version forward (see migrate) or to build the
// coverage index of a file written before it existed (buildCoverage).
func initSchema(ctx context.Context, db kv.DB) error {
	var isNew, upgrade, noCoverage bool
	err := db.View(ctx, func(tx kv.Tx) error {
		noCoverage = tx.Bucket([]byte(bucketCoverage)) == nil
		meta := tx.Bucket([]byte(bucketMeta))
		if meta == nil {
			// A new database has no buckets at all; anything else
			// belongs to some other program.
			if first, _ := tx.Cursor().First(); first != nil {
				return errors.New("not a tributary database: no meta bucket")
			}
			isNew = true
			return nil
		}
		if needsMigration(tx, schemaVersion) {
			upgrade = true
			return nil
		}
		return checkSchema(tx, meta)
	})
	if err != nil {
		return err
	}
	if upgrade {
		return db.Update(ctx, func(tx kv.Tx) error {
			if _, err := migrate(tx, migrations()); err != nil {
				return err
			}
			if err := buildCoverage(tx); err != nil {
				return err
			}
			return checkSchema(tx, tx.Bucket([]byte(bucketMeta)))
		})
	}
	if !isNew {
		if noCoverage {
			return db.Update(ctx, buildCoverage)
		}
		return nil
	}
	return db.Update(ctx, func(tx kv.Tx) error {
		// Another process sharing the database may have written the
		// layout since the read transaction.
		if meta := tx.Bucket([]byte(bucketMeta)); meta != nil {
			return checkSchema(tx, meta)
		}
		if _, err := coverageIndex(tx); err != nil {
			return err
		}
		for _, name := range topBuckets() {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), []byte(strconv.Itoa(schemaVersion)))
	})
}

// checkSchema verifies the schema version recorded in meta and that every
// top-level bucket exists, so later transactions can rely on them.
func checkSchema(tx kv.Tx, meta kv.Bucket) error {
	raw := meta.Get([]byte(keySchema))
	v, err := strconv.Atoi(string(raw))
	switch {
	case err != nil:
		return fmt.Errorf("database schema version %q is not a number", raw)
	case v > schemaVersion:
		return fmt.Errorf("database schema version %d is newer than this tributary supports (%d)", v, schemaVersion)
	case v < schemaVersion:
		return fmt.Errorf("database schema version %d is unknown (want %d)", v, schemaVersion)
	}
	for _, name := range topBuckets() {
		if tx.Bucket([]byte(name)) == nil {
			return fmt.Errorf("database is missing the %s bucket", name)
		}
	}
	return nil
}

// Close releases the database and its file lock. It waits for running
// transactions to finish. The Store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.name, err)
	}
	return nil
}

// boltFile returns the bbolt database of the store, or an error wrapping
// ErrNotFile naming op on another backend.
func (s *Store) boltFile(op string) (*bolt.DB, error) {
	if s.file == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNotFile)
	}
	return s.file, nil
}
