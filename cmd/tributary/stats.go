package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func runStats(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("stats", "[-config FILE]",
		"Print the article count of each category and the health of each source.\n"+
			"Works while the daemon runs, by asking it over its admin socket.", stdout)
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
	rep, err := readStats(ctx, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	printStats(stdout, rep)
	return nil
}

// readStats asks the daemon for the stats, or reads the file when none runs.
func readStats(ctx context.Context, dir string) (statsReport, error) {
	resp, err := adminGet(ctx, dir, "/stats")
	if err == nil {
		defer resp.Body.Close()
		var rep statsReport
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			return statsReport{}, fmt.Errorf("decode the daemon's stats: %w", err)
		}
		return rep, nil
	}
	if !errors.Is(err, errNoDaemon) {
		return statsReport{}, err
	}
	s, err := storage.Open(filepath.Join(dir, dbFile), storage.Options{})
	if err != nil {
		return statsReport{}, err
	}
	rep, err := collectStats(ctx, s)
	return rep, errors.Join(err, s.Close())
}

// printStats writes the category and source tables.
func printStats(w io.Writer, rep statsReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tARTICLES\tUPDATED")
	for _, c := range rep.Categories {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", c.Slug, c.Count, stamp(c.Updated))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "OUTCOME\tFAILURES\tLAST SUCCESS\tNEXT DUE\tSOURCE")
	for _, s := range rep.Sources {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Outcome, s.ConsecutiveFailures, stamp(s.LastSuccess), stamp(s.NextDue), s.FeedURL)
		if s.LastError != "" {
			fmt.Fprintf(tw, "\t\t\t\t  error: %s\n", s.LastError)
		}
	}
	tw.Flush()
}

// stamp formats t in UTC to the second, "-" when zero.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
