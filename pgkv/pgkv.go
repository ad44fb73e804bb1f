package pgkv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tributary/tributary/kv"
)

// writeLock is the key of the transaction advisory lock every write
// transaction takes first: writers run one at a time across all the
// processes that share the database.
const writeLock = 0x7472_6962_6b76 // "tribkv"

// Options are the settings of Open beside the URL.
type Options struct {
	// Password, when not empty, is the password to connect with, in place
	// of the URL's or $PGPASSWORD (read from database_password_file).
	Password string
	// Logger receives the failures of the Changes listener, which
	// reconnects; nil discards them.
	Logger *slog.Logger
	// NoMigrate leaves the schema as Open finds it, for a caller that
	// applies the migrations itself with Migrate and reports them.
	NoMigrate bool
}

// DB is a kv.DB on a PostgreSQL database. It is safe for concurrent use;
// its transactions each hold one connection of its pool.
type DB struct {
	pool       *pgxpool.Pool
	migrations []Migration
	log        *slog.Logger
	// closed is canceled by Close, which ends the Changes listeners, and
	// listeners counts them, for Close to wait for.
	closed    context.Context
	close     context.CancelFunc
	listeners sync.WaitGroup
	// changes are the keys of this DB's last commits, for kv.Carrier.
	changes changes
}

var _ kv.DB = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL or key=value
// string; the PG* environment variables fill in what it lacks) and applies
// the migrations it lacks (unless opts.NoMigrate). Errors name the
// database without its password.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	ms, err := parseMigrations(migrationFiles)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the URL with its password redacted.
		return nil, fmt.Errorf("open database: %w", err)
	}
	if opts.Password != "" {
		cfg.ConnConfig.Password = opts.Password
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", Redact(url), err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	closed, cancel := context.WithCancel(context.Background())
	d := &DB{pool: pool, migrations: ms, log: log, closed: closed, close: cancel}
	if opts.NoMigrate {
		return d, nil
	}
	if _, err := d.Migrate(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("open database %s: %w", Redact(url), err)
	}
	return d, nil
}

// Redact returns the database URL u without its password, for logs and
// errors; a string that is not a URL shows as "(connection string)".
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		return "(connection string)"
	}
	q := p.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		p.RawQuery = q.Encode()
	}
	return p.Redacted()
}

// Pool returns the connection pool, for the tables beside the key-value
// ones (source leases).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Close implements kv.DB: it ends the Changes listeners, waits for them
// and the running transactions, and closes the pool.
func (d *DB) Close() error {
	d.close()
	d.listeners.Wait()
	d.pool.Close()
	return nil
}

// View implements kv.DB: fn runs in a REPEATABLE READ READ ONLY
// transaction, which sees one snapshot of the database, taken by its first
// query.
func (d *DB) View(ctx context.Context, fn func(kv.Tx) error) (err error) {
	defer kv.Recover(&err)
	ptx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer func() { _ = ptx.Rollback(context.WithoutCancel(ctx)) }()
	// The generation is read when ID asks for it, in the same snapshot.
	t := newTx(ctx, d, ptx, 0, false)
	if err := fn(t); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("end read transaction: %w", err)
	}
	return nil
}

// Update implements kv.DB. It takes the write lock first, so that it sees
// every write committed before it and none while it runs; fn's writes stay
// in memory until it returns nil, then go to the database in one batch
// with the new generation and a notification of it.
func (d *DB) Update(ctx context.Context, fn func(kv.Tx) error) (err error) {
	defer kv.Recover(&err)
	ptx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	defer func() { _ = ptx.Rollback(context.WithoutCancel(ctx)) }()
	// One round trip: READ COMMITTED gives each statement the snapshot of
	// its start, so the generation read is that of after the lock.
	var (
		q   pgx.Batch
		gen int64
	)
	q.Queue("SELECT pg_advisory_xact_lock($1)", writeLock)
	q.Queue("SELECT generation FROM kv_generation").QueryRow(func(r pgx.Row) error { return r.Scan(&gen) })
	if err := ptx.SendBatch(ctx, &q).Close(); err != nil {
		return fmt.Errorf("take write lock: %w", err)
	}
	t := newTx(ctx, d, ptx, uint64(gen)+1, true)
	if err := fn(t); err != nil {
		return err
	}
	b, err := t.flush()
	if err != nil {
		return fmt.Errorf("write generation %d: %w", t.id, err)
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("commit generation %d: %w", t.id, err)
	}
	d.changes.record(t.id, b, len(t.dropped) > 0)
	return nil
}

// queryError wraps a failed query of a method without an error result
// for kv.Recover.
func queryError(op string, err error) *kv.Error {
	return &kv.Error{Err: fmt.Errorf("%s: %w", op, err)}
}

// errNoRows reports whether err is a query's finding nothing.
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// quote shows a key in errors.
func quote(b []byte) string { return strings.TrimSpace(fmt.Sprintf("%q", b)) }
