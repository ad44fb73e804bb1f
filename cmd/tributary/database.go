package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pglease"
	"github.com/tributary/tributary/storage"
)

// leaseEnv, when set to a Go duration, replaces the lease (pglease.DefaultLease) of
// the sources an instance fetches: tests of an instance dying use a lease
// of seconds. Not for production: a lease shorter than a fetch's renewal
// round trip would let two instances fetch one source.
const leaseEnv = "TRIBUTARY_LEASE"

// openDatabase connects to the database of cfg.Database with the password
// of database_password_file (else $PGPASSWORD). With migrate, it applies
// the migrations the database lacks, under the migration advisory lock.
// Errors name the database without its password, on one line.
func openDatabase(ctx context.Context, cfg *config.Config, migrate bool, log *slog.Logger) (*pgkv.DB, error) {
	db, err := pgkv.Open(ctx, cfg.Database, pgkv.Options{
		Password:  cfg.DatabasePassword.Reveal(),
		Logger:    log,
		NoMigrate: !migrate,
	})
	if err != nil {
		return nil, oneLine(err)
	}
	return db, nil
}

// oneLine is err with its lines (pgx lists each address it tried on a
// line of its own) joined by "; ", for a one-line message; it wraps err.
// An error of one line is returned as it is.
func oneLine(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "\n") {
		return err
	}
	var lines []string
	for l := range strings.SplitSeq(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return joinedError{msg: strings.Join(lines, "; "), err: err}
}

// joinedError is an error shown on one line (oneLine).
type joinedError struct {
	msg string
	err error
}

func (e joinedError) Error() string { return e.msg }
func (e joinedError) Unwrap() error { return e.err }

// openStore opens the store of cfg: in the PostgreSQL database of
// cfg.Database when set, migrated first, and then pg is that database,
// which the store owns and closes; else the bbolt file tributary.db in
// data_dir (see openDB), and pg is nil. It creates data_dir, which holds
// the admin socket either way.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store *storage.Store, pg *pgkv.DB, err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create data_dir: %w", err)
	}
	if cfg.Database == "" {
		store, err := openDB(ctx, dbPath(cfg))
		return store, nil, err
	}
	pg, err = openDatabase(ctx, cfg, true, log)
	if err != nil {
		return nil, nil, err
	}
	store, err = storage.New(pg, storage.Options{})
	if err != nil {
		_ = pg.Close()
		return nil, nil, fmt.Errorf("open the store in %s: %w", config.RedactURL(cfg.Database), err)
	}
	return store, pg, nil
}

// openCheckedStore opens the store of cfg for the commands that read it
// beside the daemon (check -db, stats): the PostgreSQL database when
// cfg.Database is set, else the bbolt file, verified first.
func openCheckedStore(ctx context.Context, cfg *config.Config) (*storage.Store, error) {
	if cfg.Database == "" {
		return openDB(ctx, dbPath(cfg))
	}
	store, _, err := openStore(ctx, cfg, nil)
	return store, err
}

// dbPath is the bbolt file of cfg.
func dbPath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, dbFile) }

// storeName names the store of cfg in messages: the database URL without
// its password, or the bbolt file.
func storeName(cfg *config.Config) string {
	if cfg.Database != "" {
		return config.RedactURL(cfg.Database)
	}
	return dbPath(cfg)
}

// newCoordinator returns the fetcher.Coordinator of this instance on pg,
// with the lease of $TRIBUTARY_LEASE when set; nil when pg is nil (bbolt:
// one instance). Close it once the fetcher has stopped.
func newCoordinator(pg *pgkv.DB, log *slog.Logger) (*pglease.Coordinator, error) {
	if pg == nil {
		return nil, nil
	}
	opts := pglease.Options{Logger: log}
	if s := os.Getenv(leaseEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("$%s: %q is not a positive duration", leaseEnv, s)
		}
		opts.Lease = d
	}
	return pglease.New(pg.Pool(), opts)
}

// coordinatorOption is c as a fetcher.Options field: a nil c is no
// coordinator at all (a nil pointer in the interface would be one).
func coordinatorOption(c *pglease.Coordinator) fetcher.Coordinator {
	if c == nil {
		return nil
	}
	return c
}

// closeCoordinator frees the leases c still holds; nil c does nothing.
func closeCoordinator(c *pglease.Coordinator) error {
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), passStopTimeout)
	defer cancel()
	return c.Close(ctx)
}
