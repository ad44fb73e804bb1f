// Package fetcher pulls the configured sources on their schedules, turns their
// items into storage.Articles and saves them.
package fetcher

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// Store is what the fetcher needs from storage.
type Store interface {
	SaveArticles(ctx context.Context, articles []storage.Article) (storage.SaveResult, error)
	SourceState(ctx context.Context, feedURL string) (storage.SourceState, bool, error)
	PutSourceState(ctx context.Context, st storage.SourceState) error
}

var _ Store = (*storage.Store)(nil)

// Options are the Fetcher's injected dependencies.
type Options struct {
	// Client is the HTTP client; nil builds one from the config's fetch settings.
	Client *http.Client
	// Logger receives lifecycle and per-source logs; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Result is the outcome of fetching one source.
type Result struct {
	FeedURL string
	// Title is the source's title (configured override, else the feed's own).
	Title string
	// Outcome is the short word also stored in storage.SourceState.Outcome.
	Outcome   string
	New       int
	Updated   int
	Unchanged int
	// Filtered counts items dropped by include/exclude rules.
	Filtered int
	// Err is the failure, nil on success.
	Err      error
	Duration time.Duration
}

// Fetcher fetches sources. It is safe for concurrent use, but passes never
// overlap: a pass started while another runs waits for it.
type Fetcher struct{}

// New returns a Fetcher for the sources of cfg.
func New(cfg *config.Config, store Store, opts Options) (*Fetcher, error) {
	panic("unimplemented")
}

// RunOnce fetches every source that is due now, under the concurrency
// limits, and returns one Result per source fetched, in config order.
// Per-source failures are in the Results; the error is non-nil only when the
// pass itself could not run (ctx cancelled before it started).
func (f *Fetcher) RunOnce(ctx context.Context) ([]Result, error) { panic("unimplemented") }

// FetchNow fetches the sources with the given URLs now (every source when
// none is given), due or not, and returns their Results in config order.
// An URL that names no configured source is an error.
func (f *Fetcher) FetchNow(ctx context.Context, feedURLs ...string) ([]Result, error) {
	panic("unimplemented")
}

// Run schedules passes until ctx is done: one pass right away, then one on
// every tick of a UTC cron schedule, each fetching the sources then due.
// It returns once the pass in flight, if any, has finished or been cancelled.
func (f *Fetcher) Run(ctx context.Context) error { panic("unimplemented") }
