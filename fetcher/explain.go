package fetcher

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// Explain fetches the feed at feedURL once (unconditionally, nothing is
// stored) and returns, per item in feed order, the Verdict of the config's
// rules: the source's include/exclude rules, its category_map and
// source_categories, and the categories' match and include/exclude rules.
// A feedURL that is not a configured source is explained with no rules of
// its own. With ft enabled, the linked page of every kept item is fetched
// and its text extracted as a source with that fulltext setting would
// (whether the item is new or not), for Verdict.FullText. Safe for
// concurrent use. Its error names URLs without their secrets
// (config.RedactURL).
func (f *Fetcher) Explain(ctx context.Context, feedURL string, ft config.FullText) (_ []Verdict, err error) {
	defer func() {
		if err != nil {
			err = redactedError{err}
		}
	}()
	src, ok := f.byURL[feedURL]
	if !ok {
		u, err := url.Parse(feedURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("explain %s: want an absolute http or https URL", feedURL)
		}
		src = &source{feed: &config.Feed{URL: feedURL}, host: strings.ToLower(u.Hostname()), shown: config.RedactURL(feedURL)}
	}
	dl := f.get(ctx, src, storage.SourceState{}, true) // an operator asked: no host wait
	if dl.err != nil {
		return nil, fmt.Errorf("explain %s: %w", feedURL, dl.err)
	}
	base := withoutUserinfo(dl.finalURL)
	feed, err := parseBody(f.parser, dl.body, dl.contentType, base)
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", feedURL, err)
	}
	var out []Verdict
	var arts []storage.Article
	for _, item := range feed.Items {
		if item == nil {
			continue
		}
		a, v := f.norm.article(item, *src.feed, base, f.now())
		out = append(out, v)
		arts = append(arts, a)
	}
	if ft.Enabled {
		f.explainFullTexts(ctx, src, ft, arts, out)
	}
	return out, nil
}

// explainFullTexts sets the FullText or FullTextErr of each kept verdict
// of out from the page of its article of arts (same order), fetched as
// for a source with ft.
func (f *Fetcher) explainFullTexts(ctx context.Context, src *source, ft config.FullText, arts []storage.Article, out []Verdict) {
	tuned := *src
	tuned.feed.FullText = ft
	ctx = f.sourceOrigin(ctx, src)
	var wg sync.WaitGroup
	for i := range out {
		if !out[i].Kept || arts[i].Link == "" {
			continue
		}
		wg.Go(func() {
			if err := f.fullText(ctx, &tuned, &arts[i]); err != nil {
				out[i].FullTextErr = redactedError{err}
				return
			}
			out[i].FullText = textLines(arts[i].FullText)
		})
	}
	wg.Wait()
}
