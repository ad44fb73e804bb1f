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
	fs := newFlagSet("test-rules", "[-config FILE] [-fulltext] [-selector CSS] URL",
		"Fetch the feed at URL once and print, per item, the categories it would be\n"+
			"filed in and which include/exclude rule kept or dropped it. With -fulltext,\n"+
			"also fetch each kept item's page and print the first lines of the text\n"+
			"extracted from it (the source's fulltext selector, else readability);\n"+
			"-selector tries a CSS selector instead. Nothing is stored and the database\n"+
			"is not opened, so it also works while the daemon runs.", stdout)
	configPath := configFlag(fs)
	withFullText := fs.Bool("fulltext", false, "extract each kept item's text from its page")
	selector := fs.String("selector", "", "CSS selector of the elements to keep (implies -fulltext)")
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
	ft, err := testFullText(cfg, fs.Arg(0), *withFullText, *selector)
	if err != nil {
		return usageError{"test-rules: -selector: " + err.Error()}
	}
	logger, _ := configLogger(stderr, cfg.Log, false, slog.LevelInfo)
	f, err := fetcher.New(cfg, noStore{}, fetcher.Options{Logger: logger})
	if err != nil {
		return err
	}
	verdicts, err := f.Explain(ctx, fs.Arg(0), ft)
	if err != nil {
		return err
	}
	kept := 0
	for _, v := range verdicts {
		if v.Kept {
			kept++
		}
		printVerdict(stdout, v, ft.Enabled)
	}
	fmt.Fprintf(stdout, "%d items: %d kept, %d dropped\n", len(verdicts), kept, len(verdicts)-kept)
	return nil
}

// testFullText returns the fulltext setting test-rules extracts with: none
// without -fulltext or -selector; the selector when given; else the
// source's own setting, readability when it has none.
func testFullText(cfg *config.Config, feedURL string, enabled bool, selector string) (config.FullText, error) {
	if selector != "" {
		return config.SelectorFullText(selector)
	}
	if !enabled {
		return config.FullText{}, nil
	}
	for _, fd := range cfg.Feeds {
		if fd.URL == feedURL && fd.FullText.Enabled {
			return fd.FullText, nil
		}
	}
	return config.FullText{Enabled: true}, nil
}

// fullTextLines and fullTextWidth bound what test-rules prints of an
// extracted text: its first lines, each cut to a terminal's width.
const (
	fullTextLines = 3
	fullTextWidth = 100
)

// printVerdict prints what the rules (and, with fullText, the extraction)
// made of one item.
func printVerdict(w io.Writer, v fetcher.Verdict, fullText bool) {
	mark := "DROP"
	if v.Kept {
		mark = "KEEP"
	}
	fmt.Fprintf(w, "%s %s\n", mark, v.Title)
	if v.Link != "" {
		fmt.Fprintf(w, "     link: %s\n", v.Link)
	}
	fmt.Fprintf(w, "     rule: %s\n", v.Rule)
	if v.Kept {
		var cats []string
		for _, c := range v.Categories {
			cats = append(cats, fmt.Sprintf("%s (%s)", c.Name, c.Slug))
		}
		fmt.Fprintf(w, "     categories: all%s\n", prefixed(", ", strings.Join(cats, ", ")))
	}
	for _, d := range v.Dropped {
		fmt.Fprintf(w, "     not in %s\n", d)
	}
	switch {
	case !fullText || !v.Kept:
	case v.FullTextErr != nil:
		fmt.Fprintf(w, "     full text: none, the feed's text is kept: %v\n", v.FullTextErr)
	case len(v.FullText) > 0:
		words := 0
		for _, l := range v.FullText {
			words += len(strings.Fields(l))
		}
		fmt.Fprintf(w, "     full text: %d paragraphs, %d words\n", len(v.FullText), words)
		for _, l := range v.FullText[:min(len(v.FullText), fullTextLines)] {
			fmt.Fprintf(w, "       %s\n", cutLine(l, fullTextWidth))
		}
	}
}

// cutLine returns s cut to n runes, with an ellipsis when it was cut.
func cutLine(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return strings.TrimRight(string(r[:n-1]), " ") + "…"
	}
	return s
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
