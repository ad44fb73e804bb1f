// Command ingest measures a first ingest by tributary against the floor:
// the same feeds fetched over HTTP and parsed with bare gofeed, storing
// nothing, at the same concurrency; and against the pipeline, tributary's
// fetcher with a store that keeps nothing; with -postgres, also on PostgreSQL,
// one and two instances; with -serve, the serving rate of the stores.
//
//	go run ./bench/ingest [-feeds 2000] [-items 50] [-categories 20] [-concurrency 16] [-rounds 3] [-steady=true]
//	                      [-postgres | -database URL] [-serve 10s] [-serve-conns 16]
//
// It generates the set in-process (RSS 2.0, Atom, RSS 1.0 and JSON Feed in
// turn; HTML bodies with figures, links and hostile markup; a tenth of each
// feed's items republished by a sibling feed under its own links) and serves
// it from a loopback server on one host. Each round runs, as child
// processes: the floor (this program again, with -floor), then the
// pipeline (this program again, with -pipeline: tributary's fetcher, one
// pass over every source of the same generated config at the same
// concurrency, into a store that signs each article as storage does before
// it touches the database, story.Of(…).Signature() and story.NewRecord,
// and keeps nothing; the round fails unless it signed every item of the
// set), then `tributary fetch -due` (built from this tree; every source is
// due) on a generated config into an empty data_dir, then with -steady a
// second `tributary fetch` on the same store, where every feed answers 304. The pipeline is
// what tributary must do apart from storing: its distance to the floor is
// the cost of what tributary does to a parsed feed (normalising,
// sanitising, resolving URLs, categorising, signing), and its distance to
// the first ingest the cost of the store.
//
// With -postgres it starts a private PostgreSQL server (package pgtest;
// -database URL uses that server instead, creating and dropping its own
// databases) and, in each round, runs the same two steps with `database:`
// set on a new database, with one `tributary fetch`, then on another new
// database with two started together, which share the sources through
// their leases as passes of serve do (claimed in batches of four times
// fetch.concurrency; in the steady pass, a plain fetch, whichever claims a
// source first fetches it). It checks that every store holds as many stories as the
// bbolt one.
//
// For each step it reports the wall time (until every process of the step
// exited) with its ratio to the floor and to bbolt's same step (its first
// ingest, for the floor and the pipeline); the peak
// RssAnon (anonymous resident memory: the heap and stacks, not the mapped
// database file or PostgreSQL's shared buffers) of tributary's processes
// summed, and of the PostgreSQL server's, sampled from /proc/PID/status
// every 10 ms; the CPU time (user+system) of each per second of wall time,
// in cores; and, on PostgreSQL, the share of pg_locks samples (every 10 ms)
// in which a write transaction held pgkv's write lock, with the mean number
// of waiters.
//
// With -serve D, after the rounds it starts `tributary serve` on the last
// round's stores (bbolt; PostgreSQL with one instance, and two instances on
// one database) and loads /feeds/all.atom for D with -serve-conns
// keep-alive connections spread over the instances, plain requests (200)
// then conditional ones with the document's ETag (304), after one request
// per instance has filled its cache; it prints requests per second and the
// 99th percentile latency.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mmcdole/gofeed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// Usage was printed.
	case err != nil:
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	feeds, items, categories, concurrency, rounds int
	steady, floorOnly, pipelineOnly, postgres     bool
	base, config, database                        string
	serve                                         time.Duration
	serveConns                                    int
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.IntVar(&o.feeds, "feeds", 2000, "number of generated feeds")
	fs.IntVar(&o.items, "items", 50, "items per feed")
	fs.IntVar(&o.categories, "categories", 20, "categories the feeds are filed in")
	fs.IntVar(&o.concurrency, "concurrency", 16, "fetches in flight, for both the floor and tributary")
	fs.IntVar(&o.rounds, "rounds", 3, "alternating rounds of floor and tributary")
	fs.BoolVar(&o.steady, "steady", true, "also time a second tributary pass, where every feed answers 304")
	fs.BoolVar(&o.floorOnly, "floor", false, "internal: be the floor child, fetching and parsing from -base")
	fs.StringVar(&o.base, "base", "", "internal: base URL of the farm, for -floor")
	fs.BoolVar(&o.pipelineOnly, "pipeline", false, "internal: be the pipeline child, fetching the sources of -config into a store that keeps nothing")
	fs.StringVar(&o.config, "config", "", "internal: the generated config, for -pipeline")
	fs.BoolVar(&o.postgres, "postgres", false, "also run tributary on PostgreSQL (a private server), one and two instances")
	fs.StringVar(&o.database, "database", "", "run on the PostgreSQL server of this URL instead of a private one (implies -postgres)")
	fs.DurationVar(&o.serve, "serve", 0, "after the rounds, load tributary serve on each store for this long per case (0: no serving run)")
	fs.IntVar(&o.serveConns, "serve-conns", 16, "connections of the serving load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.floorOnly:
		return floor(ctx, o)
	case o.pipelineOnly:
		return pipeline(ctx, o, stdout)
	}
	return compare(ctx, o, stdout)
}

// floor fetches every feed of the farm at o.base and parses it with gofeed,
// o.concurrency at a time, and stores nothing.
func floor(ctx context.Context, o options) error {
	next := make(chan int)
	errs := make(chan error, o.feeds)
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Go(func() {
			p := gofeed.NewParser()
			for n := range next {
				if err := fetchParse(ctx, p, fmt.Sprintf("%s/feed/%d", o.base, n), o.items); err != nil {
					errs <- err
				}
			}
		})
	}
	for n := range o.feeds {
		next <- n
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// fetchParse downloads one feed and parses it, checking its item count.
func fetchParse(ctx context.Context, p *gofeed.Parser, url string, items int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	feed, err := p.Parse(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("parse %s: %w", url, err)
	}
	if len(feed.Items) != items {
		return fmt.Errorf("parse %s: %d items, want %d", url, len(feed.Items), items)
	}
	return nil
}

// ServeHTTP serves /feed/N with its ETag, answering 304 to a matching
// If-None-Match.
func (fm *farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
	if err != nil || n < 0 || n >= len(fm.bodies) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", fm.etags[n])
	if r.Header.Get("If-None-Match") == fm.etags[n] {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	types := [...]string{"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
	w.Header().Set("Content-Type", types[n%4]+"; charset=utf-8")
	_, _ = w.Write(fm.bodies[n])
}
