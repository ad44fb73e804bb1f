package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/status"
)

func runStats(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("stats", "[-config FILE]",
		"Print the number of articles in each category and the health of each source:\n"+
			"last fetch, outcome, items stored, next due, failures and what to do about them.\n"+
			"Works while the daemon runs, by asking it over its admin socket; with database\n"+
			"set, from PostgreSQL directly.", stdout)
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
	rep, err := readStats(ctx, cfg)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	return status.WriteTable(stdout, rep)
}

// readStats asks the running daemon for its status report, or builds it
// from the database file when no daemon runs.
func readStats(ctx context.Context, cfg *config.Config) (status.Report, error) {
	if cfg.Database != "" {
		return collectStats(ctx, cfg)
	}
	resp, err := adminGet(ctx, cfg.DataDir, "/stats")
	if err == nil {
		defer resp.Body.Close()
		var rep status.Report
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			return status.Report{}, fmt.Errorf("decode the daemon's stats: %w", err)
		}
		return rep, nil
	}
	if !errors.Is(err, errNoDaemon) {
		return status.Report{}, err
	}
	return collectStats(ctx, cfg)
}

// collectStats builds the status report from the store itself.
func collectStats(ctx context.Context, cfg *config.Config) (status.Report, error) {
	s, err := openCheckedStore(ctx, cfg)
	if err != nil {
		return status.Report{}, err
	}
	rep, err := status.Collect(ctx, s, statusSources(cfg), time.Now())
	return rep, errors.Join(err, s.Close())
}

// statusSources lists the configured sources for the status report.
func statusSources(cfg *config.Config) []status.Source {
	out := make([]status.Source, len(cfg.Feeds))
	for i, f := range cfg.Feeds {
		out[i] = status.Source{URL: f.URL, Title: f.Title}
	}
	return out
}
