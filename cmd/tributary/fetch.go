package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
)

func runFetch(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("fetch", "[-config FILE] [-feed URL]... | [-due]",
		"Fetch every source now (or only those given with -feed, or with -due only those\n"+
			"that are due), store their articles, and print one line per source and the\n"+
			"totals. Per-source failures are reported in the summary; the exit status is 0\n"+
			"when the run completed.", stdout)
	configPath := configFlag(fs)
	var feeds stringList
	fs.Var(&feeds, "feed", "fetch only the source with this `URL` (repeatable)")
	due := fs.Bool("due", false, "fetch only the sources that are due, as a pass of serve does: for passes\n"+
		"run from a timer instead of serve; with database: the instances that run one\n"+
		"together share its sources")
	level := logLevelFlag(fs, slog.LevelWarn) // the summary goes to stdout
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("fetch: unexpected argument %q", fs.Arg(0))}
	}
	if *due && len(feeds) > 0 {
		return usageError{"fetch: -due and -feed cannot be used together"}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	logger, _ := configLogger(stderr, cfg.Log, flagSet(fs, "log-level"), *level)
	store, pg, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	coord, err := newCoordinator(pg, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeCoordinator(coord)) }()

	f, err := fetcher.New(cfg, store, fetcher.Options{Logger: logger, Coordinator: coordinatorOption(coord)})
	if err != nil {
		return err
	}
	start := time.Now()
	var results []fetcher.Result
	if *due {
		results, err = f.RunOnce(ctx)
	} else {
		results, err = f.FetchNow(ctx, feeds...)
	}
	if err != nil {
		return err
	}
	printSummary(stdout, results, time.Since(start))
	if ctx.Err() != nil {
		return fmt.Errorf("fetch interrupted: %w", context.Cause(ctx))
	}
	return nil
}

// lastFullTextError is ": ERR" for the last full-text failure, or "".
func lastFullTextError(err error) string {
	if err == nil {
		return ""
	}
	return "; last: " + err.Error()
}

// printSummary writes one line per source and a totals line.
func printSummary(w io.Writer, results []fetcher.Result, elapsed time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tNEW\tUPDATED\tUNCHANGED\tFILTERED\tEXPIRED\tMERGED\tTIME\tSOURCE")
	var ok, notModified, failed, added, updated, unchanged, filtered, expired, merged, suppressed int
	for _, r := range results {
		source := config.RedactURL(r.FeedURL)
		if r.Title != "" {
			source = fmt.Sprintf("%s <%s>", r.Title, source)
		}
		took := r.Duration.Round(time.Millisecond)
		if r.Err != nil {
			failed++
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t%v\t%s\n", r.Outcome, took, source)
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t  error: %v\n", r.Err)
			continue
		}
		if r.Outcome == "not-modified" {
			notModified++
		} else {
			ok++
		}
		added += r.New
		updated += r.Updated
		unchanged += r.Unchanged
		filtered += r.Filtered
		expired += r.Expired
		merged += r.Merged
		suppressed += r.Suppressed
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%v\t%s\n", r.Outcome, r.New, r.Updated, r.Unchanged, r.Filtered, r.Expired, r.Merged, took, source)
		if r.OverMax > 0 {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t  kept %d of %d items (fetch.max_items)\n", r.Items-r.OverMax, r.Items)
		}
		if r.FullText+r.FullTextFailed > 0 {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t  full text: %d fetched, %d failed (kept the feed's text)%s\n",
				r.FullText, r.FullTextFailed, lastFullTextError(r.FullTextErr))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%d sources: %d ok, %d not modified, %d failed; articles: %d new, %d updated, %d unchanged, %d filtered, %d expired, %d merged into stories, %d of deleted stories; %v\n",
		len(results), ok, notModified, failed, added, updated, unchanged, filtered, expired, merged, suppressed, elapsed.Round(time.Millisecond))
}
