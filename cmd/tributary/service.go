package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/feedout"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/status"
	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/websub"
)

// generation is everything built from one loaded config. The service swaps
// whole generations on reload, so a pass or a request always sees one
// consistent config.
type generation struct {
	cfg     *config.Config
	fetcher *fetcher.Fetcher
	feeds   http.Handler
}

// service is the running daemon: the store, the current generation, the
// scheduler's progress and the metrics. Its methods are safe for concurrent
// use.
type service struct {
	store *storage.Store
	// coord shares the sources with the other instances on the
	// PostgreSQL database; nil with bbolt.
	coord   fetcher.Coordinator
	log     *slog.Logger
	metrics *metrics
	notify  notifier
	path    string // config file
	// logLevel is set by a reload to log.level; nil when -log-level fixed it.
	logLevel *slog.LevelVar
	gen      atomic.Pointer[generation]
	// lastTick is the Unix ns time the scheduler last looked for work.
	lastTick atomic.Int64
	// passStart is the Unix ns start of the pass in flight, 0 when none.
	passStart atomic.Int64
	// kick asks the scheduler for a pass now (after a reload).
	kick chan struct{}
	// websub is the WebSub hub and subscriber, nil when not configured;
	// set before the first generation.
	websub *webSub
}

// newGeneration builds the fetcher and the feed handler for cfg.
func (s *service) newGeneration(cfg *config.Config) (*generation, error) {
	opts := fetcher.Options{Logger: s.log, Coordinator: s.coord}
	if s.websub != nil && s.websub.sub != nil {
		opts.Discover, opts.Pushed = websub.Discover, s.websub.sub.Pushed
	}
	f, err := fetcher.New(cfg, s.store, opts)
	if err != nil {
		return nil, err
	}
	h := http.NewServeMux()
	adminNets := func() []netip.Prefix { return cfg.HTTP.AdminAllow }
	h.Handle("/status", adminOnly(adminNets, status.Handler(s.store, statusSources(cfg), s.log, nil)))
	h.Handle("/", feedout.NewHandler(s.store, feedout.Options{
		Title:        cfg.Title,
		Language:     cfg.Language,
		BaseURL:      cfg.BaseURL,
		PageSize:     cfg.Output.PageSize,
		MaxPerSource: cfg.Output.MaxPerSource,
		CacheSize:    cfg.Output.CacheSize,
		Categories:   configuredCategories(cfg),
		SourceURLs:   publishedURLs(cfg),
		Views:        cfg.Views,
		AccessKeys:   accessKeys(cfg),
		Hub:          cfg.WebSub.Hub,
		Health:       s.healthy,
		Logger:       s.log,
	}))
	return &generation{cfg: cfg, fetcher: f, feeds: h}, nil
}

// schedule runs passes with fetcher.Scheduler until ctx is done: one at
// once, then one per fetcher.Tick, and one after a kick (a reload), so that
// new sources are fetched without waiting for the next tick. Passes get
// passCtx, which outlives ctx so that a shutdown can let the pass in
// flight finish. schedule returns when ctx is done and no pass runs.
func (s *service) schedule(ctx, passCtx context.Context) {
	fetcher.Scheduler{
		Pass:   func() { s.pass(passCtx) },
		Ticked: func() { s.lastTick.Store(time.Now().UnixNano()) },
		Kick:   s.kick,
		Logger: s.log,
	}.Run(ctx)
}

// pass fetches the due sources of the current generation, feeds the
// metrics, then prunes by the retention settings. A panic, or a memory
// fault on a database page damaged under the daemon, ends the pass, not
// the process.
func (s *service) pass(ctx context.Context) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("fetch pass panicked", slog.Any("panic", r))
		}
	}()
	s.passStart.Store(time.Now().UnixNano())
	defer s.passStart.Store(0)
	g := s.gen.Load()
	results, err := g.fetcher.RunOnce(ctx)
	if err != nil {
		return // ctx ended before the pass began
	}
	for _, r := range results {
		s.metrics.observe(r)
	}
	if ctx.Err() != nil {
		return
	}
	s.websub.afterPass(ctx, g.cfg, results)
	s.prune(ctx, g.cfg)
}

// prune applies the retention settings of cfg.
func (s *service) prune(ctx context.Context, cfg *config.Config) {
	start := time.Now()
	res, err := s.store.Prune(ctx, storage.PruneOptions{
		MaxAge:         cfg.Retention.MaxAge,
		MaxPerCategory: cfg.Retention.MaxPerCategory,
	})
	s.metrics.pruned.Add(float64(res.Pruned))
	switch {
	case err != nil:
		s.log.Error("prune failed", slog.Any("error", err))
	case res.Pruned > 0 || res.Expired > 0:
		s.log.Info("pruned articles", slog.Int("pruned", res.Pruned),
			slog.Int("tombstones_expired", res.Expired), slog.Duration("duration", time.Since(start)))
	}
}

// reload re-reads the config file. On success the next pass and every new
// request use the new sources, categories and output settings; the pass in
// flight finishes with the old ones. On failure the running config stays
// and every problem is logged as FILE:LINE: message.
func (s *service) reload() {
	s.notify.reloading()
	defer s.notify.ready()
	old := s.gen.Load().cfg
	cfg, err := config.Load(s.path)
	var g *generation
	if err == nil {
		g, err = s.newGeneration(cfg)
	}
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		for _, line := range splitLines(err.Error()) {
			s.log.Error("config problem", slog.String("problem", line))
		}
		s.log.Error("config reload failed; keeping the running config", slog.String("config", s.path))
		return
	}
	for _, k := range restartOnly(old, cfg) {
		s.log.Warn("config change needs a restart", slog.String("key", k))
	}
	s.gen.Store(g)
	if s.logLevel != nil {
		s.logLevel.Set(cfg.Log.Level)
	}
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.log.Info("config reloaded", slog.String("config", s.path),
		slog.Int("feeds", len(cfg.Feeds)), slog.Int("categories", len(configuredCategories(cfg))))
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// restartOnly lists the keys that changed from old to cfg but take effect
// only at the next start.
func restartOnly(old, cfg *config.Config) []string {
	var keys []string
	if old.Listen != cfg.Listen {
		keys = append(keys, "listen")
	}
	if old.DataDir != cfg.DataDir {
		keys = append(keys, "data_dir")
	}
	if old.Log.Format != cfg.Log.Format {
		keys = append(keys, "log.format")
	}
	if old.WebSub != cfg.WebSub {
		keys = append(keys, "websub")
	}
	return keys
}

// healthy reports whether the scheduler makes progress and the store
// answers: the scheduler looked for work within two ticks, a pass in
// flight has not run longer than every source fetched one after the other
// would take, and a read transaction succeeds.
func (s *service) healthy(ctx context.Context) error {
	now := time.Now()
	if last := time.Unix(0, s.lastTick.Load()); now.Sub(last) > 2*fetcher.Tick {
		return fmt.Errorf("scheduler idle since %s", last.UTC().Format(time.RFC3339))
	}
	if start := s.passStart.Load(); start != 0 {
		cfg := s.gen.Load().cfg
		limit := time.Duration(len(cfg.Feeds)+1)*cfg.Fetch.Timeout + fetcher.Tick
		if took := now.Sub(time.Unix(0, start)); took > limit {
			return fmt.Errorf("fetch pass running for %v", took.Round(time.Second))
		}
	}
	if err := s.storeAnswers(ctx); err != nil {
		return errors.New("store does not answer")
	}
	return ctx.Err()
}

// storeAnswers asks the store something cheap: a bbolt file its size;
// another backend (PostgreSQL), which has no file, its version, one round
// trip.
func (s *service) storeAnswers(ctx context.Context) error {
	_, err := s.store.Size()
	if errors.Is(err, storage.ErrNotFile) {
		_, err = s.store.Version(ctx)
	}
	return err
}
