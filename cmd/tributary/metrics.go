package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/storage"
)

// metrics are the daemon's Prometheus metrics, in their own registry (never
// the global default one). Label values are bounded: outcomes and item
// results are fixed words, routes are patterns, sources are short ids.
type metrics struct {
	reg           *prometheus.Registry
	fetches       *prometheus.CounterVec
	fetchDuration prometheus.Histogram
	items         *prometheus.CounterVec
	fullTexts     *prometheus.CounterVec
	pruned        prometheus.Counter
	reloads       *prometheus.CounterVec
	requests      *prometheus.CounterVec
	render        *prometheus.HistogramVec
}

// newMetrics registers every metric; state reads the store and the
// current config at scrape time for the per-source and store gauges.
func newMetrics(state func() (*storage.Store, *config.Config), log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tributary_fetches_total",
			Help: "Source fetches by outcome (ok, not-modified, or an error class).",
		}, []string{"outcome"}),
		fetchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tributary_fetch_duration_seconds",
			Help:    "Time to fetch, parse and store one source.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 11),
		}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tributary_items_total",
			Help: "Fetched items by what storing them did: new, updated, unchanged, filtered, expired (older than retention.max_age, not stored), duplicate (merged into a stored story), suppressed (of a deleted story).",
		}, []string{"result"}),
		fullTexts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tributary_fulltext_pages_total",
			Help: "Article pages fetched for the full text of new items (sources with fulltext) by result: ok, or failed (the item kept the feed's text).",
		}, []string{"result"}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tributary_articles_pruned_total",
			Help: "Articles deleted by retention.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tributary_config_reloads_total",
			Help: "Config reloads by result (ok, error).",
		}, []string{"result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tributary_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		render: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tributary_http_request_duration_seconds",
			Help:    "Time to render and send a response, by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}, []string{"route"}),
	}
	for _, r := range []string{"new", "updated", "unchanged", "filtered", "expired", "duplicate", "suppressed"} {
		m.items.WithLabelValues(r)
	}
	m.fullTexts.WithLabelValues("ok")
	m.fullTexts.WithLabelValues("failed")
	m.reg.MustRegister(m.fetches, m.fetchDuration, m.items, m.fullTexts, m.pruned, m.reloads, m.requests, m.render,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newStoreCollector(state, log))
	return m
}

// observe records one fetch result.
func (m *metrics) observe(r fetcher.Result) {
	m.fetches.WithLabelValues(r.Outcome).Inc()
	m.fetchDuration.Observe(r.Duration.Seconds())
	for result, n := range itemCounts(r) {
		m.items.WithLabelValues(result).Add(float64(n))
	}
	m.fullTexts.WithLabelValues("ok").Add(float64(r.FullText))
	m.fullTexts.WithLabelValues("failed").Add(float64(r.FullTextFailed))
}

// itemCounts maps a Result's counters to the "result" label values.
func itemCounts(r fetcher.Result) map[string]int {
	return map[string]int{
		"new":        r.New,
		"updated":    r.Updated,
		"unchanged":  r.Unchanged,
		"filtered":   r.Filtered,
		"expired":    r.Expired,
		"duplicate":  r.Merged,
		"suppressed": r.Suppressed,
	}
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// instrument counts requests by route and code and times them.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := routeOf(r.URL.Path)
		m.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
		m.render.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// routeOf maps a path to its route pattern, a bounded label value.
func routeOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/feeds/"):
		return "/feeds/{file}"
	case path == "/", path == "/healthz", path == "/metrics", path == "/status", path == "/opml":
		return path
	}
	return "other"
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

// WriteHeader records code and passes it on.
func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// sourceID is the bounded label value naming a source: the first 8 hex
// digits of the SHA-256 of its published URL (config.Feed.PublishedURL:
// its URL when that carries no secret), stable across restarts and
// reorders, distinct per source (config.Load refuses two sources with the
// same published URL), and no hash of a password or token.
func sourceID(f config.Feed) string {
	sum := sha256.Sum256([]byte(f.PublishedURL()))
	return hex.EncodeToString(sum[:4])
}

// storeCollector reads the store at scrape time: its size, the articles
// per category, and the health of each configured source.
type storeCollector struct {
	state                                       func() (*storage.Store, *config.Config)
	log                                         *slog.Logger
	size, articles, info, lastSuccess, failures *prometheus.Desc
}

// newStoreCollector returns the collector with its descriptors.
func newStoreCollector(state func() (*storage.Store, *config.Config), log *slog.Logger) *storeCollector {
	return &storeCollector{
		state: state,
		log:   log,
		size: prometheus.NewDesc("tributary_store_size_bytes",
			"Size of the database (as a backup would be).", nil, nil),
		articles: prometheus.NewDesc("tributary_articles",
			"Articles stored, by category slug (all: every article).", []string{"category"}, nil),
		info: prometheus.NewDesc("tributary_source_info",
			"Maps the source label to the configured feed URL, without its secrets; always 1.", []string{"source", "url"}, nil),
		lastSuccess: prometheus.NewDesc("tributary_source_last_success_timestamp_seconds",
			"Unix time of the source's last successful fetch (0: never).", []string{"source"}, nil),
		failures: prometheus.NewDesc("tributary_source_consecutive_failures",
			"Failed fetches of the source since its last success.", []string{"source"}, nil),
	}
}

// Describe sends the descriptors of the store metrics.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.size, c.articles, c.info, c.lastSuccess, c.failures} {
		ch <- d
	}
}

// Collect reads the store; a failed read is logged and its metrics left out.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	store, cfg := c.state()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, err := store.Size(); err == nil {
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n))
	}
	cats, err := store.Categories(ctx)
	if err != nil {
		c.log.Warn("metrics: read categories", slog.Any("error", err))
	}
	for _, cat := range cats {
		ch <- prometheus.MustNewConstMetric(c.articles, prometheus.GaugeValue, float64(cat.Count), cat.Slug)
	}
	for _, f := range cfg.Feeds {
		id := sourceID(f)
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, id, config.RedactURL(f.URL))
		st, _, err := store.SourceState(ctx, f.URL)
		if err != nil {
			c.log.Warn("metrics: read source state", slog.String("feed_url", config.RedactURL(f.URL)), slog.Any("error", err))
			continue
		}
		var last float64
		if !st.LastSuccess.IsZero() {
			last = float64(st.LastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, last, id)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(st.ConsecutiveFailures), id)
	}
}
