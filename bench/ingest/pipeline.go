package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fetcher"
	"github.com/tributary/tributary/storage"
	storyengine "github.com/tributary/tributary/story"
)

// discardStore is the store of the pipeline child: for each article it
// computes what storage.Store computes from it before touching the
// database (the text signature, story.Story.Signature, and the signature
// record built from it, story.NewRecord), then drops it. Every article
// counts as new; no source has a state, and nothing is known. Safe for
// concurrent use, as the fetcher's saves are concurrent.
type discardStore struct {
	// articles counts the articles saved; recordBytes sums the length of
	// their signature records, so that the work has a visible result.
	articles, recordBytes atomic.Int64
}

var _ fetcher.Store = (*discardStore)(nil)

// SaveArticles signs every article, keeps nothing and reports all new.
func (s *discardStore) SaveArticles(_ context.Context, articles []storage.Article) (storage.SaveResult, error) {
	n := 0
	for _, a := range articles {
		text := storyengine.Of(a.Title, a.Content, a.Summary).Signature()
		n += len(storyengine.NewRecord(a.Published, a.Source.FeedURL, text))
	}
	s.articles.Add(int64(len(articles)))
	s.recordBytes.Add(int64(n))
	return storage.SaveResult{New: len(articles)}, nil
}

// SourceState reports that no source has a state: every fetch is a first.
func (s *discardStore) SourceState(context.Context, string) (storage.SourceState, bool, error) {
	return storage.SourceState{}, false, nil
}

// PutSourceState drops st.
func (s *discardStore) PutSourceState(context.Context, storage.SourceState) error { return nil }

// KnownItems reports none of ids known.
func (s *discardStore) KnownItems(context.Context, []string) (map[string]bool, error) {
	return nil, nil
}

// pipelineSummary is what the pipeline child saw: sources fetched, those
// that failed, articles saved and the bytes of their signature records.
type pipelineSummary struct{ sources, failed, articles, recordBytes int }

// pipelineFormat is the pipeline child's last line of output.
const pipelineFormat = "%d sources, %d failed; %d articles signed, %d bytes of signature records"

// pipeline is the pipeline child: one pass of tributary's fetcher over
// every source of the config at o.config, at its concurrency, into a
// discardStore, as `tributary fetch` runs it. It prints a pipelineSummary.
func pipeline(ctx context.Context, o options, stdout io.Writer) error {
	cfg, err := config.Load(o.config)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store := &discardStore{}
	f, err := fetcher.New(cfg, store, fetcher.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	results, err := f.FetchNow(ctx)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	s := pipelineSummary{sources: len(results), articles: int(store.articles.Load()), recordBytes: int(store.recordBytes.Load())}
	for _, r := range results {
		if r.Err != nil {
			s.failed++
		}
	}
	writePipelineSummary(stdout, s)
	return nil
}

// writePipelineSummary prints s as the pipeline child's last line.
func writePipelineSummary(w io.Writer, s pipelineSummary) {
	fmt.Fprintf(w, pipelineFormat+"\n", s.sources, s.failed, s.articles, s.recordBytes)
}

// readPipelineSummary reads the last line of the pipeline child's output.
func readPipelineSummary(out string) (pipelineSummary, error) {
	line := lastLine(out)
	var s pipelineSummary
	if _, err := fmt.Sscanf(line, pipelineFormat, &s.sources, &s.failed, &s.articles, &s.recordBytes); err != nil {
		return s, fmt.Errorf("read pipeline summary %q: %w", line, err)
	}
	return s, nil
}

// check fails unless the pipeline fetched every one of feeds sources
// without a failure and signed every article of the set, items per feed:
// a pass that saw less measured less than the pipeline.
func (s pipelineSummary) check(feeds, items int) error {
	switch {
	case s.failed > 0:
		return fmt.Errorf("%d sources failed", s.failed)
	case s.sources != feeds:
		return fmt.Errorf("%d sources fetched of %d", s.sources, feeds)
	case s.articles != feeds*items:
		return fmt.Errorf("%d articles signed of %d", s.articles, feeds*items)
	}
	return nil
}
