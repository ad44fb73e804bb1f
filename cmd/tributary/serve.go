package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/feedout"
	"github.com/tributary/tributary/fetcher"
)

// shutdownTimeout bounds each step of a graceful shutdown.
const shutdownTimeout = 10 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("serve", "[-config FILE]",
		"Run the daemon: fetch every source on its schedule and serve the merged feeds\n"+
			"over HTTP until SIGTERM or SIGINT, then shut down gracefully.", stdout)
	configPath := configFlag(fs)
	level := logLevelFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	logger := newLogger(stderr, *level)
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	store, err := openStore(cfg)
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

	f, err := fetcher.New(cfg, store, fetcher.Options{Logger: logger})
	if err != nil {
		return err
	}
	handler := feedout.NewHandler(store, feedout.Options{
		Title:        cfg.Title,
		BaseURL:      cfg.BaseURL,
		PageSize:     cfg.Output.PageSize,
		MaxPerSource: cfg.Output.MaxPerSource,
		Categories:   configuredCategories(cfg),
		Logger:       logger,
	})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newHTTPServer(handler, logger)
	logger.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL,
		"config", cfg.Path, "feeds", len(cfg.Feeds))

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fetchCtx, stopFetching := context.WithCancel(context.WithoutCancel(ctx))
	fetchDone := make(chan error, 1)
	go func() { fetchDone <- f.Run(fetchCtx) }()

	select {
	case <-ctx.Done():
		logger.Info("shutting down", "cause", context.Cause(ctx))
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
	}
	stopFetching()
	select {
	case ferr := <-fetchDone:
		err = errors.Join(err, ferr)
	case <-time.After(shutdownTimeout):
		err = errors.Join(err, errors.New("scheduler did not stop in time"))
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("http shutdown: %w", serr))
	}
	return err
}

// newHTTPServer returns the server with every timeout set, so that slow
// clients cannot hold connections open forever.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
