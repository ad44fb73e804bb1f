package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/status"
	"github.com/tributary/tributary/storage"
)

func runStats(ctx context.Context, args []string, stdout, _ io.Writer) (err error) {
	fs := newFlagSet("stats", "[-config FILE]",
		"Print the number of articles in each category and the health of each source:\n"+
			"last fetch, outcome, items stored, next due, failures and what to do about them.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("stats: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	store, err := openStore(cfg)
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("database in use by another process: is tributary serve running? "+
			"Its GET %s/status shows the same data; or stop it and run stats again: %w", cfg.BaseURL, err)
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	rep, err := status.Collect(ctx, store, statusSources(cfg), time.Now())
	if err != nil {
		return err
	}
	return status.WriteTable(stdout, rep)
}

// statusSources lists the configured sources for the status report.
func statusSources(cfg *config.Config) []status.Source {
	out := make([]status.Source, len(cfg.Feeds))
	for i, f := range cfg.Feeds {
		out[i] = status.Source{URL: f.URL, Title: f.Title}
	}
	return out
}
