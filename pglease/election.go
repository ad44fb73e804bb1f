package pglease

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// electionLock is the key of the session advisory lock whose holder leads.
const electionLock = 0x7472_6962_6c64 // "tribld"

// defaultElectionPoll is how often an Election tries for the lock, and
// checks that its connection, and so the lock, still lives.
const defaultElectionPoll = time.Second

// ElectionOptions tune an Election; the zero value is the default.
type ElectionOptions struct {
	// Poll is how often a follower tries for the lock and the leader
	// checks its connection; 0 means one second.
	Poll time.Duration
	// Gained is called, on Run's goroutine, each time this instance
	// becomes the leader; nil does nothing.
	Gained func()
	// Logger receives the changes of leadership and the failures of the
	// connection; nil discards.
	Logger *slog.Logger
}

// Election elects one leader among the instances that share a database:
// the instance whose connection holds a PostgreSQL session advisory lock.
// The lock lives with the connection, so when the leader dies the server
// frees it as soon as it sees the connection close (at once for a killed
// process; after TCP keepalive for a vanished machine), and a follower
// takes it within Poll. A leader whose connection the server ended (not
// by its own failure) leads on until its next check, up to Poll beside
// the new one. Leading is safe for concurrent use.
type Election struct {
	pool    *pgxpool.Pool
	opts    ElectionOptions
	log     *slog.Logger
	leading atomic.Bool
}

// NewElection returns an election among the instances on pool's database;
// Run takes part in it.
func NewElection(pool *pgxpool.Pool, opts ElectionOptions) *Election {
	if opts.Poll <= 0 {
		opts.Poll = defaultElectionPoll
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Election{pool: pool, opts: opts, log: log}
}

// Leading reports whether this instance holds the lock, as of the last
// check (at most Poll ago).
func (e *Election) Leading() bool { return e.leading.Load() }

// Run takes part in the election until ctx is done, on a connection of
// its own (application_name tributary-leader), which it opens again a Poll
// after it fails. Returning, it closes the connection, which frees the
// lock for another instance.
func (e *Election) Run(ctx context.Context) {
	for ctx.Err() == nil {
		lost, err := e.campaign(ctx)
		switch {
		case ctx.Err() != nil:
		case lost:
			e.log.Warn("leadership lost", slog.Any("error", err))
		case err != nil:
			e.log.Warn("leader election connection failed, reconnecting", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(e.opts.Poll):
		}
	}
}

// campaign tries for the lock every Poll on one connection, then checks
// every Poll that the connection lives, until it fails or ctx is done;
// lost reports whether it led. It stops leading before it closes the
// connection, so that this instance no longer acts when another can.
func (e *Election) campaign(ctx context.Context) (lost bool, err error) {
	cfg := e.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "tributary-leader"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("leader election: connect: %w", err)
	}
	defer func() {
		lost = e.leading.Swap(false)
		_ = conn.Close(context.WithoutCancel(ctx))
	}()
	t := time.NewTicker(e.opts.Poll)
	defer t.Stop()
	for {
		if err := e.check(ctx, conn); err != nil {
			return false, err
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-t.C:
		}
	}
}

// check tries for the lock, or, holding it, checks that conn lives.
func (e *Election) check(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Poll)
	defer cancel()
	if e.leading.Load() {
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			return fmt.Errorf("leader election: check connection: %w", err)
		}
		return nil
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(electionLock)).Scan(&got); err != nil {
		return fmt.Errorf("leader election: try lock: %w", err)
	}
	if got {
		e.leading.Store(true)
		e.log.Info("leadership gained")
		if e.opts.Gained != nil {
			e.opts.Gained()
		}
	}
	return nil
}
