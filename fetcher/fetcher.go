package fetcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// Store is what the fetcher needs from a store, whatever its backend: to
// save a fetch's articles (deduplicated into stories by the store) and to
// read and write each source's fetch state. Its methods are called
// concurrently, from one goroutine per source being fetched.
type Store interface {
	SaveArticles(ctx context.Context, articles []storage.Article) (storage.SaveResult, error)
	SourceState(ctx context.Context, feedURL string) (storage.SourceState, bool, error)
	PutSourceState(ctx context.Context, st storage.SourceState) error
	// KnownItems returns which of ids are already stored, merged or
	// deleted: only the others fetch their page for fulltext.
	KnownItems(ctx context.Context, ids []string) (map[string]bool, error)
}

// Options are the Fetcher's injected dependencies.
type Options struct {
	// Client is the HTTP client; nil builds one from the config's fetch settings.
	Client *http.Client
	// Logger receives lifecycle and per-source logs; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IsPrivate classifies addresses as private or public for
	// fetch.allow_private_redirects: those the client built when Client is
	// nil connects to, and those of a moved source's configured host; nil
	// means IsPrivate. Tests use it to treat one loopback address as public.
	IsPrivate func(netip.Addr) bool
	// Discover, when not nil, reads the WebSub hub and topic a fetched
	// document advertises (in its Link headers or its feed-level links)
	// into Result.Hub and Result.Topic; base is the URL it was fetched
	// from. Called concurrently.
	Discover func(base *url.URL, linkHeaders []string, body []byte) (hub, topic string)
	// Pushed, when not nil, reports whether a source's new documents are
	// pushed to us (an active WebSub subscription): such a source is still
	// polled, as a safety net, but only every fetch.max_interval. Called
	// concurrently.
	Pushed func(feedURL string) bool
	// Coordinator, when not nil, shares the sources and the per-host
	// limits with the other instances on one database: a source is
	// fetched only under its lease, and a host's turns and deferrals are
	// those of all instances. Nil: this instance is alone.
	Coordinator Coordinator
}

// Result is the outcome of fetching one source.
type Result struct {
	// FeedURL is the configured URL of the source, its identity; it may
	// carry credentials: show config.RedactURL(FeedURL).
	FeedURL string
	// Title is the source's title (configured override, else the feed's own).
	Title string
	// Outcome is the short word also stored in storage.SourceState.Outcome.
	Outcome string
	// New, Updated, Unchanged, Merged and Suppressed count what saving the
	// source's articles did (see storage.SaveResult): Merged items were
	// copies of a stored story, Suppressed ones belong to deleted stories.
	New        int
	Updated    int
	Unchanged  int
	Merged     int
	Suppressed int
	// Filtered counts items dropped by include/exclude rules.
	Filtered int
	// Expired counts items published longer than retention.max_age ago:
	// not stored, as the next prune would delete them.
	Expired int
	// Items is the number of items in the fetched feed, and OverMax how
	// many of them were dropped because the feed had more than
	// fetch.max_items (the oldest ones).
	Items   int
	OverMax int
	// FullText counts the new items whose linked page gave their text
	// (a source with fulltext), FullTextFailed those that kept their feed
	// text because the page failed; FullTextErr is the last such failure.
	FullText       int
	FullTextFailed int
	FullTextErr    error
	// Err is the failure, nil on success (a 304 is a success). Its message
	// names the source's URL without secrets (config.RedactURL).
	Err error
	// Hub and Topic are the WebSub hub and topic (self URL) the fetched
	// document advertises, when Options.Discover is set; "" otherwise.
	Hub, Topic string
	// Duration is how long the fetch took, from its start (including any
	// wait for a free slot under the per-host limit) to the stored state.
	Duration time.Duration
}

// Fetcher fetches sources. It is safe for concurrent use, but passes never
// overlap: RunOnce or FetchNow started while another pass runs waits for it,
// while a tick of Run skips. A Fetcher needs no closing: the idle
// connections of the HTTP client it builds itself close after 90 seconds.
type Fetcher struct {
	store   Store
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	parser  *gofeed.Parser
	norm    *normalizer
	fetch   config.Fetch
	maxAge  time.Duration // retention.max_age: older items are not stored
	sources []*source
	byURL   map[string]*source
	hosts   *hostLimiter
	// isPrivate is Options.IsPrivate, never nil.
	isPrivate func(netip.Addr) bool
	// discover and pushed are Options.Discover and Options.Pushed.
	discover func(base *url.URL, linkHeaders []string, body []byte) (hub, topic string)
	pushed   func(feedURL string) bool
	// coord is Options.Coordinator, nil when this instance is alone.
	coord Coordinator
	// pass holds a token while a pass runs.
	pass chan struct{}
	// due is when each source is next due for a scheduled pass.
	due dueQueue
	// pages holds a token per article page being fetched for fulltext.
	pages chan struct{}
}

// source is one configured feed.
type source struct {
	// index is the position in the config, which orders Results.
	index int
	// feed is the config's own entry (no copy), with its parsed schedule.
	feed *config.Feed
	// host is the lower-cased host name, the key of the per-host limit.
	host string
	// shown is the URL without its secrets, for logs and errors.
	shown string
}

// New returns a Fetcher for the sources of cfg, which must have been
// validated by config.Load. The Fetcher keeps cfg's feeds; a new config
// needs a new Fetcher.
func New(cfg *config.Config, store Store, opts Options) (*Fetcher, error) {
	if cfg == nil || store == nil {
		return nil, errors.New("fetcher: config and store are required")
	}
	f := &Fetcher{
		store:    store,
		client:   opts.Client,
		log:      opts.Logger,
		now:      opts.Now,
		parser:   newParser(),
		norm:     newNormalizer(cfg.Categories),
		fetch:    cfg.Fetch,
		maxAge:   cfg.Retention.MaxAge,
		byURL:    make(map[string]*source, len(cfg.Feeds)),
		hosts:    newHostLimiter(max(cfg.Fetch.PerHost, 1), cfg.Fetch.HostInterval),
		pass:     make(chan struct{}, 1),
		discover: opts.Discover,
		pushed:   opts.Pushed,
		coord:    opts.Coordinator,
		pages:    make(chan struct{}, max(cfg.Fetch.FullTextConcurrency, 1)),
	}
	f.fetch.Concurrency = max(f.fetch.Concurrency, 1)
	if f.fetch.MaxItems <= 0 {
		f.fetch.MaxItems = 1000
	}
	if f.fetch.MaxInterval <= 0 {
		f.fetch.MaxInterval = 24 * time.Hour
	}
	if f.client == nil {
		f.client = newHTTPClient(withLongestTimeout(cfg), opts.IsPrivate)
	}
	f.isPrivate = opts.IsPrivate
	if f.isPrivate == nil {
		f.isPrivate = IsPrivate
	}
	f.client = withCredentialTransport(f.client)
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.now == nil {
		f.now = time.Now
	}
	f.sources = make([]*source, len(cfg.Feeds))
	for i := range cfg.Feeds {
		fd := &cfg.Feeds[i]
		if fd.Cron == nil {
			return nil, fmt.Errorf("fetcher: source %s: no parsed schedule (a config not from config.Load)", config.RedactURL(fd.URL))
		}
		u, err := url.Parse(fd.URL)
		if err != nil {
			return nil, redactedError{fmt.Errorf("fetcher: source %s: %w", config.RedactURL(fd.URL), err)}
		}
		src := &source{index: i, feed: fd, host: strings.ToLower(u.Hostname()), shown: config.RedactURL(fd.URL)}
		f.sources[i] = src
		f.byURL[fd.URL] = src
	}
	return f, nil
}

// withLongestTimeout returns cfg's fetch settings with the longest timeout
// of any source, for the transport's wait for response headers: each
// request is bounded by its own source's timeout through its context.
func withLongestTimeout(cfg *config.Config) config.Fetch {
	fc := cfg.Fetch
	for _, fd := range cfg.Feeds {
		fc.Timeout = max(fc.Timeout, fd.Timeout)
	}
	return fc
}

// newParser returns the shared parser. It keeps the original feed so that
// the normaliser can read what gofeed's universal Feed drops, such as the
// Atom feed id used to attribute articles to their source.
func newParser() *gofeed.Parser {
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true
	return p
}
