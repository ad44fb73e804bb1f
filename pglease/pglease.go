// Package pglease is the fetcher.Coordinator of instances that share one
// PostgreSQL database: leases on sources, so that each source is fetched
// once per due time by one instance, and the per-host limits and deferrals
// of all instances. Its tables (source_leases, host_turns, host_slots) are
// created by migration 0002 of package pgkv, which pgkv.Open applies; New
// takes the pool of that pgkv.DB.
//
// A lease lasts Options.Lease (110 seconds: with the fetcher's 10-second
// tick, a dead instance's sources are fetched by another within 2 minutes)
// and is renewed by the instance
// that holds it every third of that while it lives, so a long fetch keeps
// its source; an instance that dies stops renewing, and its leases, and the
// host slots its requests held, are free once they end. Lease ends are on
// the database's clock, the same for every instance; due times and
// deferrals are on the fetchers' clocks, compared by the fetchers.
//
// An Election elects one instance among them, the holder of a session
// advisory lock, for the work done once for all: the WebSub hub's
// deliveries and the subscriber's renewals.
package pglease

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tributary/tributary/fetcher"
)

// Options tune a Coordinator; the zero value is the default.
type Options struct {
	// Lease is how long a lease lasts without renewal, and so the longest
	// the sources of an instance that died wait; 0 means DefaultLease.
	Lease time.Duration
	// Poll is how often HostTurn looks again at a host whose per_host
	// requests are all in flight; 0 means 100 milliseconds.
	Poll time.Duration
	// Logger receives the instance id at start and failed renewals; nil
	// discards.
	Logger *slog.Logger
}

// DefaultLease is the lease of Options.Lease 0: a lease and one scheduler
// tick (fetcher.Tick) make 2 minutes, the longest the due sources of an
// instance that died wait for another.
const DefaultLease = 2*time.Minute - fetcher.Tick

// maxLook bounds how far ahead Claim tells a fetcher to look at a source
// again: a source that waits for the operator is looked at daily.
const maxLook = 24 * time.Hour

// Coordinator implements fetcher.Coordinator on PostgreSQL. Close stops it.
type Coordinator struct {
	pool  *pgxpool.Pool
	id    string
	lease time.Duration
	poll  time.Duration
	log   *slog.Logger
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

var _ fetcher.Coordinator = (*Coordinator)(nil)

// New returns the Coordinator of one instance on pool's database, whose
// schema has migration 0002, and starts renewing its leases.
func New(pool *pgxpool.Pool, opts Options) (*Coordinator, error) {
	id, err := instanceID()
	if err != nil {
		return nil, err
	}
	c := &Coordinator{
		pool:  pool,
		id:    id,
		lease: cmp.Or(opts.Lease, DefaultLease),
		poll:  cmp.Or(opts.Poll, 100*time.Millisecond),
		log:   cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
	}
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	c.wg.Go(func() { c.renewLoop(ctx) })
	c.log.Debug("lease coordinator started", slog.String("instance", id), slog.Duration("lease", c.lease))
	return c, nil
}

// instanceID names this instance in the leases it holds: host name,
// process id and a random part, so that a restarted process is another
// instance.
func instanceID() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b), nil
}

// ID is the instance's id, as its leases name it.
func (c *Coordinator) ID() string { return c.id }

// Close stops renewing and frees the leases and host slots the instance
// still holds. Call it once the Fetcher has stopped.
func (c *Coordinator) Close(ctx context.Context) error {
	c.stop()
	c.wg.Wait()
	b := &pgx.Batch{}
	b.Queue(`UPDATE source_leases SET holder = NULL, lease_until = NULL WHERE holder = $1`, c.id)
	b.Queue(`DELETE FROM host_slots WHERE holder = $1`, c.id)
	if err := c.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("free the leases of instance %s: %w", c.id, err)
	}
	return nil
}

// renewLoop extends the instance's leases every third of a lease until
// ctx ends.
func (c *Coordinator) renewLoop(ctx context.Context) {
	t := time.NewTicker(c.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.renew(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("leases not renewed", slog.Any("error", err))
		}
	}
}

// renew extends every lease and host slot the instance holds by a lease
// from now, in one round trip.
func (c *Coordinator) renew(ctx context.Context) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE source_leases SET lease_until = clock_timestamp() + make_interval(secs => $2)
		WHERE holder = $1`, c.id, c.lease.Seconds())
	b.Queue(`UPDATE host_slots SET lease_until = clock_timestamp() + make_interval(secs => $2)
		WHERE holder = $1`, c.id, c.lease.Seconds())
	if err := c.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("renew the leases of instance %s: %w", c.id, err)
	}
	return nil
}

// Claim implements fetcher.Coordinator in one round trip (one implicit
// transaction): it adds the sources never claimed, leases those free and
// due with UPDATE … FOR UPDATE SKIP LOCKED (a source another instance is
// claiming at the same moment is skipped, not waited for), and reads the
// others' next due times and leases.
func (c *Coordinator) Claim(ctx context.Context, urls []string, now time.Time, force bool) ([]string, map[string]time.Time, error) {
	// In one order for every instance, so that two inserting the same new
	// sources never wait for each other in a cycle.
	urls = slices.Sorted(slices.Values(urls))
	urls = slices.Compact(urls)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO source_leases (url) SELECT unnest($1::text[]) ON CONFLICT (url) DO NOTHING`, urls)
	b.Queue(`UPDATE source_leases l SET holder = $2, lease_until = clock_timestamp() + make_interval(secs => $3)
		FROM (SELECT url FROM source_leases
			WHERE url = ANY($1)
			AND (holder IS NULL OR holder = $2 OR lease_until <= clock_timestamp())
			AND ($4 OR next_due IS NULL OR next_due <= $5)
			ORDER BY url
			FOR UPDATE SKIP LOCKED) d
		WHERE l.url = d.url
		RETURNING l.url`, urls, c.id, c.lease.Seconds(), force, now)
	b.Queue(`SELECT url, next_due, holder IS NOT NULL AND holder <> $2 AND lease_until > clock_timestamp(),
			extract(epoch FROM lease_until - clock_timestamp())::float8
		FROM source_leases WHERE url = ANY($1)`, urls, c.id)
	br := c.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, nil, fmt.Errorf("add %d sources to source_leases: %w", len(urls), err)
	}
	rows, _ := br.Query()
	granted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, fmt.Errorf("lease %d sources: %w", len(urls), err)
	}
	mine := make(map[string]bool, len(granted))
	for _, u := range granted {
		mine[u] = true
	}
	notDue := make(map[string]time.Time, len(urls)-len(granted))
	rows, _ = br.Query()
	var (
		url     string
		nextDue pgtype.Timestamptz
		held    bool
		left    *float64
	)
	_, err = pgx.ForEachRow(rows, []any{&url, &nextDue, &held, &left}, func() error {
		if !mine[url] {
			notDue[url] = c.lookAgain(now, nextDue, held, left)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read the leases of %d sources: %w", len(urls), err)
	}
	if err := br.Close(); err != nil {
		return nil, nil, fmt.Errorf("lease %d sources: %w", len(urls), err)
	}
	return granted, notDue, nil
}

// lookAgain is when a fetcher whose clock says now should claim a refused
// source again: its next due time, but not before the end of another
// instance's lease on it (held, for left more seconds); a lease from now
// when it was being claimed at the same moment; at most maxLook ahead (a
// source that waits for the operator).
func (c *Coordinator) lookAgain(now time.Time, nextDue pgtype.Timestamptz, held bool, left *float64) time.Time {
	var at time.Time
	switch {
	case nextDue.InfinityModifier == pgtype.Infinity:
		return now.Add(maxLook)
	case held && left != nil:
		at = now.Add(time.Duration(*left * float64(time.Second)))
	case nextDue.Valid && nextDue.Time.After(now):
	default:
		at = now.Add(c.lease)
	}
	if nextDue.Valid && nextDue.Time.After(at) {
		at = nextDue.Time
	}
	if limit := now.Add(maxLook); at.After(limit) {
		return limit
	}
	return at
}

// Release implements fetcher.Coordinator. A lease the instance lost (it
// ended and another instance took it) is left alone.
func (c *Coordinator) Release(ctx context.Context, url string, next time.Time, scheduled bool) error {
	due := pgtype.Timestamptz{Time: next, Valid: !next.IsZero()}
	if !scheduled {
		due = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	}
	_, err := c.pool.Exec(ctx, `UPDATE source_leases SET next_due = $2, holder = NULL, lease_until = NULL
		WHERE url = $1 AND holder = $3`, url, due, c.id)
	if err != nil {
		return fmt.Errorf("release a source lease: %w", err)
	}
	return nil
}

// DeferHost implements fetcher.Coordinator; a later deferral stands.
func (c *Coordinator) DeferHost(ctx context.Context, host string, until time.Time) error {
	_, err := c.pool.Exec(ctx, `INSERT INTO host_turns (host, deferred_until) VALUES ($1, $2)
		ON CONFLICT (host) DO UPDATE SET deferred_until = GREATEST(host_turns.deferred_until, EXCLUDED.deferred_until)`,
		host, until)
	if err != nil {
		return fmt.Errorf("defer host %s: %w", host, err)
	}
	return nil
}

// HostTurn implements fetcher.Coordinator. The turns of a host are taken
// one at a time under the lock of its host_turns row; a turn takes a free
// slot of host_slots (one whose lease ended is free) and moves next_start
// interval ahead, on the database's clock.
func (c *Coordinator) HostTurn(ctx context.Context, host string, interval time.Duration, limit int) (time.Time, func(), error) {
	for {
		t, err := c.tryTurn(ctx, host, interval, limit)
		if err != nil {
			return time.Time{}, nil, err
		}
		if t.slot >= 0 {
			return t.deferredUntil, func() { c.freeSlot(host, t.slot) }, nil
		}
		timer := time.NewTimer(t.wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return time.Time{}, nil, fmt.Errorf("wait for a turn of host %s: %w", host, ctx.Err())
		case <-timer.C:
		}
	}
}

// turn is what one try for a turn of a host found: the slot taken (-1:
// none, wait before trying again), and the host's deferral.
type turn struct {
	slot          int
	wait          time.Duration
	deferredUntil time.Time
}

// tryTurn takes a turn of host if one is free now, in one transaction.
func (c *Coordinator) tryTurn(ctx context.Context, host string, interval time.Duration, limit int) (turn, error) {
	t := turn{slot: -1, wait: c.poll}
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO host_turns (host) VALUES ($1) ON CONFLICT (host) DO NOTHING`, host); err != nil {
			return err
		}
		var deferred pgtype.Timestamptz
		var early float64
		err := tx.QueryRow(ctx, `SELECT deferred_until,
				coalesce(extract(epoch FROM next_start - clock_timestamp()), 0)::float8
			FROM host_turns WHERE host = $1 FOR UPDATE`, host).Scan(&deferred, &early)
		if err != nil {
			return err
		}
		if deferred.Valid && deferred.InfinityModifier == pgtype.Finite {
			t.deferredUntil = deferred.Time
		}
		if early > 0 {
			t.wait = time.Duration(math.Ceil(early * float64(time.Second)))
			return nil
		}
		err = tx.QueryRow(ctx, `INSERT INTO host_slots AS s (host, slot, holder, lease_until)
			SELECT $1, n, $2, clock_timestamp() + make_interval(secs => $3)
			FROM generate_series(0, $4 - 1) AS n
			WHERE NOT EXISTS (SELECT FROM host_slots h
				WHERE h.host = $1 AND h.slot = n AND h.lease_until > clock_timestamp())
			ORDER BY n LIMIT 1
			ON CONFLICT (host, slot) DO UPDATE SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until
			RETURNING slot`, host, c.id, c.lease.Seconds(), limit).Scan(&t.slot)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // every slot is taken
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE host_turns SET next_start = clock_timestamp() + make_interval(secs => $2)
			WHERE host = $1`, host, interval.Seconds())
		return err
	})
	if err != nil {
		return turn{}, fmt.Errorf("take a turn of host %s: %w", host, err)
	}
	return t, nil
}

// freeSlot frees slot of host after a request. A slot not freed (the
// database unreachable) is free once its lease ends.
func (c *Coordinator) freeSlot(host string, slot int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.pool.Exec(ctx, `DELETE FROM host_slots WHERE host = $1 AND slot = $2 AND holder = $3`, host, slot, c.id)
	if err != nil {
		c.log.Warn("host slot not freed: it frees when its lease ends", slog.String("host", host), slog.Any("error", err))
	}
}
