package pgkv

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the session advisory lock the migration
// runner holds, so that instances starting together apply each migration
// once.
const migrationLock = 0x7472_6962_6d69_67 // "tribmig"

// Migration is one versioned schema change, from migrations/NNNN_name.sql.
type Migration struct {
	Version int    // NNNN, from 1
	Name    string // the file's name between NNNN_ and .sql
	sql     string
}

// migrationName is the form of a migration file's name.
var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// parseMigrations reads the migrations of fsys's migrations directory,
// ordered by version; versions must be unique.
func parseMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, name := range names {
		m, err := parseMigrationName(path.Base(name))
		if err != nil {
			return nil, err
		}
		if other, ok := seen[m.Version]; ok {
			return nil, fmt.Errorf("migration %s: version %d already used by %s", name, m.Version, other)
		}
		seen[m.Version] = name
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		m.sql = string(b)
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// parseMigrationName reads the version and name of a file NNNN_name.sql.
func parseMigrationName(file string) (Migration, error) {
	sub := migrationName.FindStringSubmatch(file)
	if sub == nil {
		return Migration{}, fmt.Errorf("migration %q: name is not NNNN_name.sql", file)
	}
	v, _ := strconv.Atoi(sub[1])
	if v == 0 {
		return Migration{}, fmt.Errorf("migration %q: versions start at 0001", file)
	}
	return Migration{Version: v, Name: sub[2]}, nil
}

// Migrate applies the migrations the database lacks, in order, each in its
// own transaction, and returns those it applied. It holds a session
// advisory lock meanwhile: of instances migrating at once, one applies
// them and the others find them applied.
func (d *DB) Migrate(ctx context.Context) ([]Migration, error) {
	return migrate(ctx, d.pool, d.migrations)
}

func migrate(ctx context.Context, pool *pgxpool.Pool, ms []Migration) (_ []Migration, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// A failed unlock leaves the lock to the session: close it.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock); uerr != nil {
			_ = conn.Hijack().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	rows, _ := conn.Query(ctx, "SELECT version FROM schema_migrations")
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	done := map[int]bool{}
	for _, v := range versions {
		done[int(v)] = true
	}
	var applied []Migration
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		if err := apply(ctx, conn.Conn(), m); err != nil {
			return applied, err
		}
		applied = append(applied, m)
	}
	return applied, nil
}

// apply runs migration m and records it, in one transaction.
func apply(ctx context.Context, conn *pgx.Conn, m Migration) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: apply %04d_%s: %w", m.Version, m.Name, err)
	}
	return nil
}
