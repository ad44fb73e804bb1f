package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/status"
	"github.com/tributary/tributary/storage"
)

// The bounds of a shutdown, which stops everything at once: the pass in
// flight is cancelled and gets passStopTimeout to return (a fetch storing
// its articles ends the transaction under way, at most storage.SaveChunk
// articles, and writes no more), and the HTTP requests in flight get
// httpDrainTimeout to finish before their connections are closed.
const (
	passStopTimeout  = 10 * time.Second
	httpDrainTimeout = 2 * time.Second
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("serve", "[-config FILE]",
		"Run the daemon: fetch every source on its schedule and serve the merged feeds\n"+
			"over HTTP until SIGTERM or SIGINT, then shut down gracefully. SIGHUP reloads\n"+
			"the config file.", stdout)
	configPath := configFlag(fs)
	level := logLevelFlag(fs, slog.LevelInfo)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	// Listen for SIGHUP before anything slow, so that an early reload
	// request is not the default action (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	override := flagSet(fs, "log-level")
	logger, logLevel := configLogger(stderr, cfg.Log, override, *level)
	store, pg, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
			return
		}
		logger.Info("database closed")
	}()
	coord, err := newCoordinator(pg, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeCoordinator(coord)) }()
	if coord != nil {
		logger.Info("database shared", slog.String("database", config.RedactURL(cfg.Database)), slog.String("instance", coord.ID()))
	}

	s := &service{store: store, coord: coordinatorOption(coord), log: logger, notify: notifier{log: logger}, path: cfg.Path, kick: make(chan struct{}, 1)}
	if !override {
		s.logLevel = logLevel
	}
	s.metrics = newMetrics(func() (*storage.Store, *config.Config) { return store, s.gen.Load().cfg }, logger)
	if s.websub, err = s.newWebSub(ctx, cfg, pg); err != nil {
		return err
	}
	s.metrics.reg.MustRegister(s.websub.collectors()...)
	g, err := s.newGeneration(cfg)
	if err != nil {
		return err
	}
	s.gen.Store(g)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newHTTPServer(s.routes(), logger)
	admin := newHTTPServer(adminHandler(store, func() []status.Source { return statusSources(s.gen.Load().cfg) }, s.websub.stats, logger), logger)
	admin.WriteTimeout = 0 // a backup of a big file takes as long as it takes
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	// Without the admin socket the daemon still does its job; only backup,
	// stats and check -db need it stopped.
	if adminLn, err := listenAdmin(cfg.DataDir); err != nil {
		logger.Warn("admin socket unavailable: backup, stats and check -db need the daemon stopped", slog.Any("error", err))
	} else {
		go func() { serveErr <- admin.Serve(adminLn) }()
		defer func() { _ = os.Remove(adminLn.Addr().String()) }()
	}
	logger.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL,
		"config", cfg.Path, "feeds", len(cfg.Feeds))

	// Scheduling stops with schedCtx, the pass in flight with passCtx.
	schedCtx, stopScheduling := context.WithCancel(context.WithoutCancel(ctx))
	passCtx, cancelPasses := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPasses()
	schedDone := make(chan struct{})
	s.lastTick.Store(time.Now().UnixNano()) // healthy from READY=1 on
	go func() { defer close(schedDone); s.schedule(schedCtx, passCtx) }()
	// The hub's and subscriber's loops stop with the scheduling.
	s.websub.start(schedCtx)
	watchCtx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go s.notify.watchdog(watchCtx, s.healthy)
	s.notify.ready()

loop:
	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down", "cause", context.Cause(ctx))
			break loop
		case <-hup:
			logger.Info("reloading config", "config", cfg.Path)
			s.reload()
		case err = <-serveErr:
			err = fmt.Errorf("http server: %w", err)
			break loop
		}
	}
	s.notify.stopping()
	stopWatchdog()
	if s.passStart.Load() != 0 {
		logger.Info("cancelling the fetch pass in flight")
	}
	stopScheduling()
	cancelPasses()
	httpDone := make(chan error, 1)
	go func() {
		httpDone <- shutdownHTTP(context.WithoutCancel(ctx), logger, map[string]*http.Server{"http": srv, "admin": admin})
	}()
	err = errors.Join(err, waitPass(schedDone))
	s.websub.wait()
	return errors.Join(err, <-httpDone)
}

// waitPass waits for the scheduler, whose pass is cancelled, to return,
// for at most passStopTimeout.
func waitPass(schedDone <-chan struct{}) error {
	select {
	case <-schedDone:
		return nil
	case <-time.After(passStopTimeout):
		return fmt.Errorf("fetch pass did not stop within %s", passStopTimeout)
	}
}

// shutdownHTTP closes the listeners of servers (by name) at once and lets
// their requests in flight finish for up to httpDrainTimeout, then closes
// the connections still open; a request cut short that way is not an
// error of the shutdown.
func shutdownHTTP(ctx context.Context, logger *slog.Logger, servers map[string]*http.Server) error {
	ctx, cancel := context.WithTimeout(ctx, httpDrainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(servers))
	for name, srv := range servers {
		wg.Go(func() {
			err := srv.Shutdown(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				logger.Warn("HTTP requests still running at shutdown: closing their connections",
					slog.String("server", name), slog.Duration("waited", httpDrainTimeout))
				err = srv.Close()
			}
			if err != nil {
				errs <- fmt.Errorf("shut down %s server: %w", name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// routes is the public HTTP handler: /metrics (for clients in
// http.admin_allow), and the current generation's feed handler (feeds,
// /healthz, /status) for everything else, all counted and timed by the
// metrics.
func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	adminNets := func() []netip.Prefix { return s.gen.Load().cfg.HTTP.AdminAllow }
	mux.Handle("GET /metrics", adminOnly(adminNets, s.metrics.handler()))
	s.websub.routes(mux)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.gen.Load().feeds.ServeHTTP(w, r)
	}))
	return s.metrics.instrument(mux)
}

// newHTTPServer returns the server with every timeout set, so that slow
// clients cannot hold connections open forever.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           recoverFaults(h, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
