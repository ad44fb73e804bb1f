package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/pgkv"
	"github.com/tributary/tributary/pglease"
	"github.com/tributary/tributary/status"
	"github.com/tributary/tributary/websub"
)

// callbackPath is where the subscriber's callbacks are served.
const callbackPath = config.WebSubPath + "/callback"

// feedFormats are the extensions of the documents of each feed, the
// topics announced to an external hub.
var feedFormats = []string{".atom", ".rss", ".json"}

// webSub is the daemon's WebSub side: the built-in hub of our feeds or
// the external hub pinged on change, and the subscriber to the sources'
// hubs. Each part is nil or empty when not configured.
type webSub struct {
	hub    *websub.Hub
	ping   string // the external hub
	sub    *websub.Subscriber
	client *http.Client
	log    *slog.Logger
	// topics lists the first pages of every feed, for the external hub.
	topics func() []string
	// election picks the instance that delivers and renews, and changes
	// tells of the commits of every instance; both nil on bbolt.
	election *pglease.Election
	changes  func(ctx context.Context) <-chan uint64
	wg       sync.WaitGroup
}

// newWebSub builds the WebSub side of s from cfg; nil when websub is not
// configured. Feeds are rendered through s's current generation, and
// pushes ingested by its fetcher. With pg (instances sharing one
// database), the hub and the subscriber share their state through the
// store and an election picks the one instance that delivers and renews.
func (s *service) newWebSub(ctx context.Context, cfg *config.Config, pg *pgkv.DB) (*webSub, error) {
	if cfg.WebSub.Hub == "" && !cfg.WebSub.Subscribe {
		return nil, nil
	}
	w := &webSub{client: websub.NewClient(fetcher.IsPrivate), log: s.log}
	var leader websub.Leader
	if pg != nil {
		w.election = pglease.NewElection(pg.Pool(), pglease.ElectionOptions{Logger: s.log, Gained: w.gained})
		w.changes = pg.Changes
		leader = w.election
	}
	if cfg.Fetch.AllowPrivateRedirects {
		w.client = websub.NewClient(nil)
	}
	w.topics = func() []string { return feedTopics(s.gen.Load().cfg) }
	if cfg.WebSub.Builtin {
		hub, err := websub.NewHub(ctx, websub.HubOptions{
			URL: cfg.WebSub.Hub, Store: s.store, Client: w.client, Logger: s.log,
			Render: func(ctx context.Context, topic string) (websub.Document, error) {
				return s.renderTopic(ctx, topic)
			},
			Leader: leader,
		})
		if err != nil {
			return nil, err
		}
		w.hub = hub
	} else {
		w.ping = cfg.WebSub.Hub
	}
	if cfg.WebSub.Subscribe {
		sub, err := websub.NewSubscriber(ctx, websub.SubscriberOptions{
			CallbackURL: cfg.BaseURL + callbackPath, Store: s.store, Client: w.client,
			Logger: s.log, MaxBody: cfg.Fetch.MaxBody, Ingest: s.ingestPush, Leader: leader,
		})
		if err != nil {
			return nil, err
		}
		w.sub = sub
	}
	return w, nil
}

// feedTopics returns the URLs of the first page of every feed of cfg
// (categories and views) in every format, a private feed's with its key
// (as its self link carries it).
func feedTopics(cfg *config.Config) []string {
	slugs := []string{"all"}
	for _, c := range configuredCategories(cfg) {
		slugs = append(slugs, c.Slug)
	}
	for _, v := range cfg.Views {
		slugs = append(slugs, v.Slug)
	}
	keys := accessKeys(cfg)
	var topics []string
	for _, slug := range slugs {
		query := ""
		if key, ok := keys[slug]; ok {
			query = "?" + url.Values{"key": {key}}.Encode()
		}
		for _, ext := range feedFormats {
			topics = append(topics, cfg.BaseURL+"/feeds/"+slug+ext+query)
		}
	}
	return topics
}

// renderTopic returns the current document of a topic of the built-in
// hub: one of our feed URLs, rendered by the current generation's feed
// handler; any other URL is websub.ErrUnknownTopic.
func (s *service) renderTopic(ctx context.Context, topic string) (websub.Document, error) {
	g := s.gen.Load()
	rest, ok := strings.CutPrefix(topic, g.cfg.BaseURL+"/feeds/")
	if !ok {
		return websub.Document{}, websub.ErrUnknownTopic
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/feeds/"+rest, nil)
	if err != nil {
		return websub.Document{}, websub.ErrUnknownTopic
	}
	rec := &documentRecorder{header: http.Header{}, code: http.StatusOK}
	g.feeds.ServeHTTP(rec, req)
	switch {
	case rec.code == http.StatusOK:
		return websub.Document{Body: rec.body.Bytes(), ContentType: rec.header.Get("Content-Type")}, nil
	case rec.code >= 400 && rec.code < 500:
		return websub.Document{}, websub.ErrUnknownTopic
	}
	return websub.Document{}, fmt.Errorf("render topic %s: status %d", topic, rec.code)
}

// documentRecorder is the ResponseWriter that renderTopic reads a
// rendered feed from.
type documentRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *documentRecorder) Header() http.Header         { return r.header }
func (r *documentRecorder) WriteHeader(code int)        { r.code = code }
func (r *documentRecorder) Write(p []byte) (int, error) { return r.body.Write(p) }

// ingestPush stores a document pushed for a source like a fetch, counts
// it in the metrics, and announces the change of our feeds.
func (s *service) ingestPush(ctx context.Context, feedURL string, body []byte, contentType string) error {
	r := s.gen.Load().fetcher.Ingest(ctx, feedURL, body, contentType)
	s.metrics.observe(r)
	if r.New+r.Updated > 0 {
		s.websub.changed(ctx)
	}
	return r.Err
}

// routes adds the hub and the callbacks to mux.
func (w *webSub) routes(mux *http.ServeMux) {
	if w == nil {
		return
	}
	if w.hub != nil {
		mux.Handle(config.WebSubPath, w.hub)
	}
	if w.sub != nil {
		mux.Handle(callbackPath+"/{id}", w.sub)
	}
}

// start runs the hub's and the subscriber's loops until ctx is done;
// wait waits for them. With a shared database it also runs the election
// and has the hub look at its topics after every commit of any instance.
func (w *webSub) start(ctx context.Context) {
	if w == nil {
		return
	}
	if w.election != nil {
		w.wg.Go(func() { w.election.Run(ctx) })
	}
	if w.hub != nil {
		w.wg.Go(func() { w.hub.Run(ctx) })
		if w.changes != nil {
			changes := w.changes(ctx)
			w.wg.Go(func() {
				for range changes {
					w.hub.Changed()
				}
			})
		}
	}
	if w.sub != nil {
		w.wg.Go(func() { w.sub.Run(ctx) })
	}
}

// gained is told that this instance became the leader: its hub delivers
// at once what the previous leader had not.
func (w *webSub) gained() {
	if w.hub != nil {
		w.hub.Changed()
	}
}

// wait returns once the loops started by start have returned.
func (w *webSub) wait() {
	if w != nil {
		w.wg.Wait()
	}
}

// afterPass announces a change of our feeds when the pass stored
// articles, then subscribes the sources whose documents advertise a hub
// and unsubscribes those no longer configured.
func (w *webSub) afterPass(ctx context.Context, cfg *config.Config, results []fetcher.Result) {
	if w == nil {
		return
	}
	for _, r := range results {
		if r.New+r.Updated > 0 {
			w.changed(ctx)
			break
		}
	}
	if w.sub == nil {
		return
	}
	urls := make([]string, len(cfg.Feeds))
	for i, f := range cfg.Feeds {
		urls[i] = f.URL
	}
	w.sub.Sync(ctx, urls)
	for _, r := range results {
		w.sub.Observe(ctx, r.FeedURL, r.Hub, r.Topic)
	}
}

// changed announces that our feeds changed: the built-in hub delivers
// them, an external hub is pinged.
func (w *webSub) changed(ctx context.Context) {
	switch {
	case w == nil:
	case w.hub != nil:
		w.hub.Changed()
	case w.ping != "":
		if err := w.pingHub(ctx); err != nil {
			w.log.Warn("websub hub not pinged", slog.String("hub", w.ping), slog.Any("error", err))
		}
	}
}

// pingHub tells the external hub that every feed may have changed, with
// the de facto publish request: hub.mode=publish and a hub.url per topic.
func (w *webSub) pingHub(ctx context.Context) error {
	form := url.Values{"hub.mode": {"publish"}, "hub.url": w.topics()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.ping, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("ping hub %s: %w", w.ping, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("ping hub %s: %w", w.ping, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("ping hub %s: answered %s", w.ping, resp.Status)
	}
	return nil
}

// stats returns the WebSub counters for tributary stats; nil when WebSub
// is off.
func (w *webSub) stats() *status.WebSub {
	if w == nil {
		return nil
	}
	var st status.WebSub
	if w.hub != nil {
		hs := w.hub.Stats()
		st.HubSubscriptions, st.Delivered, st.DeliveryFailures = hs.Subscriptions, hs.Delivered, hs.Failed
	}
	if w.sub != nil {
		ss := w.sub.Stats()
		st.Subscriptions, st.Pending, st.Pushes, st.PushesDropped = ss.Active, ss.Pending, ss.Pushes, ss.Dropped
	}
	return &st
}

// collectors returns the WebSub metrics, read from the hub's and the
// subscriber's counters at scrape time.
func (w *webSub) collectors() []prometheus.Collector {
	if w == nil {
		return nil
	}
	var cs []prometheus.Collector
	if w.hub != nil {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "tributary_websub_hub_subscriptions",
				Help: "Active subscriptions to our feeds at the built-in hub.",
			}, func() float64 { return float64(w.hub.Stats().Subscriptions) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "tributary_websub_deliveries_total",
				Help: "Feed documents delivered by the built-in hub to subscribers.",
			}, func() float64 { return float64(w.hub.Stats().Delivered) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "tributary_websub_delivery_failures_total",
				Help: "Failed deliveries of the built-in hub (each is retried with backoff).",
			}, func() float64 { return float64(w.hub.Stats().Failed) }))
	}
	if w.sub != nil {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "tributary_websub_subscriptions",
				Help: "Sources whose documents are pushed by their hub (active subscriptions).",
			}, func() float64 { return float64(w.sub.Stats().Active) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "tributary_websub_pushes_total",
				Help: "Pushed source documents taken (signed with the subscription's secret).",
			}, func() float64 { return float64(w.sub.Stats().Pushes) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "tributary_websub_pushes_dropped_total",
				Help: "Pushes dropped: unsigned, badly signed, too large or for no subscription.",
			}, func() float64 { return float64(w.sub.Stats().Dropped) }))
	}
	return cs
}
