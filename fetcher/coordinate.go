package fetcher

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Coordinator shares the sources and the politeness of the Fetchers of
// several instances on one database (package pglease implements it on
// PostgreSQL), so that each source is fetched once per due time by one of
// them and each host sees the limits of one instance. Options.Coordinator
// nil is an instance alone: none of its methods are called. Its methods
// are called concurrently.
type Coordinator interface {
	// Claim leases to this instance those of urls that it may fetch now:
	// no other instance holds their lease, and, unless force (the
	// operator's FetchNow), they are due at now, on the Fetcher's clock,
	// by the next due times the instances released. The lease lasts
	// while this instance lives (the Coordinator renews it) until
	// Release; the lease of an instance that died expires. Every URL not
	// granted is in notDue with when to ask again: its released next due
	// time, or the end of another instance's lease.
	Claim(ctx context.Context, urls []string, now time.Time, force bool) (granted []string, notDue map[string]time.Time, err error)
	// Release ends this instance's lease of url and records when the
	// source is next due for every instance: next (the zero time: at
	// once), or never for a scheduled pass when scheduled is false (410
	// Gone: it waits for the operator).
	Release(ctx context.Context, url string, next time.Time, scheduled bool) error
	// HostTurn waits until this instance may start a request to host:
	// fewer than limit requests to host in flight across the instances,
	// and interval since the last one started. It returns until when host
	// asked every instance to wait (DeferHost; the zero time when it did
	// not), and done, to call when the request has ended.
	HostTurn(ctx context.Context, host string, interval time.Duration, limit int) (deferredUntil time.Time, done func(), err error)
	// DeferHost records, for every instance, that host asked not to be
	// asked before until (429, or 503 with Retry-After).
	DeferHost(ctx context.Context, host string, until time.Time) error
}

// outcomeLeased: not fetched by FetchNow, because another instance holds
// the source's lease (it is fetching it); nothing is stored.
const outcomeLeased = "leased"

// claim asks the Coordinator for srcs, due at now unless force, and returns
// the granted ones in their order. The others go back into the due queue
// at the time the Coordinator gives, unless force, where they are left
// for the caller in refused.
func (f *Fetcher) claim(ctx context.Context, srcs []*source, now time.Time, force bool) (granted, refused []*source, err error) {
	if f.coord == nil || len(srcs) == 0 {
		return srcs, nil, nil
	}
	urls := make([]string, len(srcs))
	for i, src := range srcs {
		urls[i] = src.feed.URL
	}
	ok, notDue, err := f.coord.Claim(ctx, urls, now, force)
	if err != nil {
		return nil, nil, fmt.Errorf("claim %d sources: %w", len(srcs), err)
	}
	mine := make(map[string]bool, len(ok))
	for _, u := range ok {
		mine[u] = true
	}
	for _, src := range srcs {
		switch {
		case mine[src.feed.URL]:
			granted = append(granted, src)
		case force:
			refused = append(refused, src)
		default:
			f.due.schedule(src.index, notDue[src.feed.URL], true)
		}
	}
	return granted, refused, nil
}

// reschedule puts src back into the due queue at at (see dueQueue.set)
// and releases its lease with that time.
func (f *Fetcher) reschedule(ctx context.Context, src *source, at time.Time, scheduled bool) {
	f.due.schedule(src.index, at, scheduled)
	f.release(ctx, src, at, scheduled)
}

// release ends this instance's lease of src, with a Coordinator, due next
// at at (see Coordinator.Release). A release that fails is logged: the
// lease then expires.
func (f *Fetcher) release(ctx context.Context, src *source, at time.Time, scheduled bool) {
	if f.coord == nil {
		return
	}
	if err := f.coord.Release(context.WithoutCancel(ctx), src.feed.URL, at, scheduled); err != nil {
		f.log.Warn("source lease not released: it expires",
			slog.String("feed_url", src.shown),
			slog.Any("error", redactedError{err}))
	}
}

// leased is the Result of FetchNow for a source another instance holds.
func leased(src *source) Result {
	return Result{
		FeedURL: src.feed.URL,
		Title:   src.feed.Title,
		Outcome: outcomeLeased,
		Err:     fmt.Errorf("fetch %s: another instance is fetching it", src.shown),
	}
}

// acquireHost waits for a turn to start a request to host under the
// per-host limit and spacing, of this instance and, with a Coordinator,
// of all instances, and returns the function that ends the turn. A
// deferral of host the Coordinator reports is recorded, for the caller to
// check with f.hosts.deferred.
func (f *Fetcher) acquireHost(ctx context.Context, host string) (release func(), err error) {
	local, err := f.hosts.acquire(ctx, host)
	if err != nil || f.coord == nil {
		return local, err
	}
	until, shared, err := f.coord.HostTurn(ctx, host, f.fetch.HostInterval, max(f.fetch.PerHost, 1))
	if err != nil {
		local()
		return nil, fmt.Errorf("take a turn of host %s: %w", host, err)
	}
	if !until.IsZero() {
		f.hosts.deferHost(host, until)
	}
	return func() { shared(); local() }, nil
}

// deferHost records that host must not be asked before until, for this
// instance and, with a Coordinator, for all. A shared record that fails
// is logged: this instance still waits.
func (f *Fetcher) deferHost(ctx context.Context, host string, until time.Time) {
	f.hosts.deferHost(host, until)
	if f.coord == nil {
		return
	}
	if err := f.coord.DeferHost(context.WithoutCancel(ctx), host, until); err != nil {
		f.log.Warn("host deferral not shared with the other instances",
			slog.String("host", host),
			slog.Any("error", err))
	}
}
