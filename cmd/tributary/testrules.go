package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/storage"
)

func runTestRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("test-rules", "[-config FILE] URL",
		"Fetch the feed at URL once and print, per item, the categories it would be\n"+
			"filed in and which include/exclude rule kept or dropped it. Nothing is\n"+
			"stored and the database is not opened, so it also works while the daemon runs.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"test-rules: want exactly one feed URL"}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	logger, _ := configLogger(stderr, cfg.Log, false, slog.LevelInfo)
	f, err := fetcher.New(cfg, noStore{}, fetcher.Options{Logger: logger})
	if err != nil {
		return err
	}
	verdicts, err := f.Explain(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	kept := 0
	for _, v := range verdicts {
		mark := "DROP"
		if v.Kept {
			mark, kept = "KEEP", kept+1
		}
		fmt.Fprintf(stdout, "%s %s\n", mark, v.Title)
		if v.Link != "" {
			fmt.Fprintf(stdout, "     link: %s\n", v.Link)
		}
		fmt.Fprintf(stdout, "     rule: %s\n", v.Rule)
		if v.Kept {
			var cats []string
			for _, c := range v.Categories {
				cats = append(cats, fmt.Sprintf("%s (%s)", c.Name, c.Slug))
			}
			fmt.Fprintf(stdout, "     categories: all%s\n", prefixed(", ", strings.Join(cats, ", ")))
		}
		for _, d := range v.Dropped {
			fmt.Fprintf(stdout, "     not in %s\n", d)
		}
	}
	fmt.Fprintf(stdout, "%d items: %d kept, %d dropped\n", len(verdicts), kept, len(verdicts)-kept)
	return nil
}

// prefixed returns s after prefix, or "" when s is empty.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// errNoStore is returned by noStore, which test-rules never calls.
var errNoStore = errors.New("test-rules stores nothing")

// noStore is the fetcher.Store of test-rules: Explain never stores.
type noStore struct{}

var _ fetcher.Store = noStore{}

func (noStore) SaveArticles(context.Context, []storage.Article) (storage.SaveResult, error) {
	return storage.SaveResult{}, errNoStore
}

func (noStore) SourceState(context.Context, string) (storage.SourceState, bool, error) {
	return storage.SourceState{}, false, errNoStore
}

func (noStore) PutSourceState(context.Context, storage.SourceState) error { return errNoStore }

func (noStore) KnownItems(context.Context, []string) (map[string]bool, error) { return nil, errNoStore }
