package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pgtest"
	"github.com/tributary/tributary/storage"
)

// pgServer is the PostgreSQL server the rounds create their databases on:
// a private one started with package pgtest, or the one of -database.
type pgServer struct {
	own   *pgtest.Server // nil with -database
	admin *pgx.Conn      // to its maintenance database, to create and drop
	base  *url.URL       // the admin URL, whose path names the database
	procs *serverProcs   // the server's processes, when it runs here
	made  []string       // databases created, dropped by close
}

// startPostgres starts a private server when rawURL is empty, else
// connects to the server of rawURL.
func startPostgres(ctx context.Context, rawURL string) (*pgServer, error) {
	s := &pgServer{}
	if rawURL == "" {
		own, err := pgtest.Start(ctx)
		if err != nil {
			return nil, fmt.Errorf("start private PostgreSQL: %w", err)
		}
		s.own, rawURL = own, own.URL("postgres")
	}
	base, err := url.Parse(rawURL)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	s.base = base
	if s.admin, err = pgx.Connect(ctx, rawURL); err != nil {
		s.close()
		return nil, fmt.Errorf("connect to %s: %w", base.Redacted(), err)
	}
	if s.own != nil {
		if s.procs, err = findServerProcs(ctx, s.admin); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// createDB creates a new empty database and returns its URL.
func (s *pgServer) createDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("tributary_bench_%d_%d", os.Getpid(), len(s.made))
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	s.made = append(s.made, name)
	u := *s.base
	u.Path = "/" + name
	return u.String(), nil
}

// close drops the databases created on a server of -database and stops a
// private one.
func (s *pgServer) close() {
	if s.admin != nil {
		ctx := context.Background()
		if s.own == nil {
			for _, name := range s.made {
				if _, err := s.admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
					fmt.Fprintf(os.Stderr, "ingest: drop database %s: %v\n", name, err)
				}
			}
		}
		_ = s.admin.Close(ctx)
	}
	if s.own != nil {
		s.own.Stop()
	}
}

// serverProcs reads the memory and CPU of a local PostgreSQL server: its
// postmaster and the postmaster's children (backends and helpers).
type serverProcs struct{ postmaster int }

// findServerProcs finds the postmaster of the server conn is connected
// to: the parent of its backend.
func findServerProcs(ctx context.Context, conn *pgx.Conn) (*serverProcs, error) {
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return nil, fmt.Errorf("find the server's backend: %w", err)
	}
	fields, err := procStat(backend)
	if err != nil {
		return nil, fmt.Errorf("find the postmaster: %w", err)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return nil, fmt.Errorf("find the postmaster: parent of %d: %w", backend, err)
	}
	return &serverProcs{postmaster: ppid}, nil
}

// children lists the postmaster's live child processes.
func (p *serverProcs) children() []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p.postmaster, p.postmaster))
	if err != nil {
		return nil
	}
	var pids []int
	for f := range strings.FieldsSeq(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// rssAnon is the RssAnon of the server's processes summed, in kB (0
// without a local server).
func (p *serverProcs) rssAnon() int {
	if p == nil {
		return 0
	}
	sum, _ := rssAnon(p.postmaster)
	for _, pid := range p.children() {
		if kb, err := rssAnon(pid); err == nil {
			sum += kb
		}
	}
	return sum
}

// clockTick is the unit of the times in /proc/PID/stat (USER_HZ).
const clockTick = 10 * time.Millisecond

// cpu is the user+system time the server has used so far: the
// postmaster's own and that of its children, live ones read directly and
// ended ones from the postmaster's count of the children it reaped.
func (p *serverProcs) cpu() time.Duration {
	if p == nil {
		return 0
	}
	total := ticks(p.postmaster, true)
	for _, pid := range p.children() {
		total += ticks(pid, false)
	}
	return time.Duration(total) * clockTick
}

// ticks is the user+system time of pid in clock ticks, with that of its
// reaped children when reaped is set; 0 when pid is gone.
func ticks(pid int, reaped bool) int {
	fields, err := procStat(pid)
	if err != nil {
		return 0
	}
	// Fields 14 to 17 of stat: utime, stime, cutime, cstime.
	last := 12
	if reaped {
		last = 14
	}
	sum := 0
	for _, f := range fields[11 : last+1] {
		n, _ := strconv.Atoi(f)
		sum += n
	}
	return sum
}

// procStat returns the fields of /proc/PID/stat after the command name,
// from field 3 (state) on.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 15 {
		return nil, fmt.Errorf("read stat of %d: %d fields", pid, len(fields))
	}
	return fields, nil
}

// writeLock is the advisory lock pgkv's write transactions take
// (pgkv.writeLock), as pg_locks shows a bigint key: its high and low 32
// bits in classid and objid, and objsubid 1.
const writeLock = 0x7472_6962_6b76

// lockSampler samples pg_locks for pgkv's write lock: how often a write
// transaction holds it, and how many wait for it.
type lockSampler struct {
	conn                   *pgx.Conn
	samples, held, waiting int
}

// newLockSampler connects to the database at dbURL.
func newLockSampler(ctx context.Context, dbURL string) (*lockSampler, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect the lock sampler: %w", err)
	}
	return &lockSampler{conn: conn}, nil
}

// sample reads the write lock's holders and waiters once.
func (l *lockSampler) sample(ctx context.Context) {
	if l == nil {
		return
	}
	var held, waiting int
	err := l.conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted)
		FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = $1::oid AND objid = $2::oid AND objsubid = 1`,
		int64(writeLock>>32), int64(writeLock&0xffff_ffff)).Scan(&held, &waiting)
	if err != nil {
		return
	}
	l.samples++
	l.held += held
	l.waiting += waiting
}

// lockShare is what a lockSampler saw during one step.
type lockShare struct{ samples, held, waiting int }

// share returns what was sampled since the last call and starts again.
func (l *lockSampler) share() lockShare {
	if l == nil {
		return lockShare{}
	}
	s := lockShare{l.samples, l.held, l.waiting}
	l.samples, l.held, l.waiting = 0, 0, 0
	return s
}

// String shows the share of samples with the lock held and the mean
// number of waiters, or "-" when nothing was sampled.
func (s lockShare) String() string {
	if s.samples == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%% (%.1f)", 100*float64(s.held)/float64(s.samples), float64(s.waiting)/float64(s.samples))
}

func (l *lockSampler) close() {
	if l != nil {
		_ = l.conn.Close(context.Background())
	}
}

// countStories opens the store of a round (the PostgreSQL database at
// dbURL, else the bbolt file in dataDir) and returns its stories: the count
// of category all.
func countStories(ctx context.Context, dbURL, dataDir string) (int, error) {
	var (
		store *storage.Store
		err   error
	)
	if dbURL == "" {
		store, err = storage.Open(filepath.Join(dataDir, "tributary.db"), storage.Options{})
	} else {
		store, err = openPostgresStore(ctx, dbURL)
	}
	if err != nil {
		return 0, fmt.Errorf("count stories: %w", err)
	}
	cats, err := store.Categories(ctx)
	err = errors.Join(err, store.Close())
	if err != nil {
		return 0, fmt.Errorf("count stories: %w", err)
	}
	for _, c := range cats {
		if c.Slug == storage.AllSlug {
			return c.Count, nil
		}
	}
	return 0, nil
}

// openPostgresStore opens the store in the database at dbURL.
func openPostgresStore(ctx context.Context, dbURL string) (*storage.Store, error) {
	db, err := pgkv.Open(ctx, dbURL, pgkv.Options{})
	if err != nil {
		return nil, err
	}
	store, err := storage.New(db, storage.Options{})
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return store, nil
}
