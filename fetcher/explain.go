package fetcher

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// Explain fetches the feed at feedURL once (unconditionally, nothing is
// stored) and returns, per item in feed order, the Verdict of the config's
// rules: the source's include/exclude rules, its category_map and
// source_categories, and the categories' match and include/exclude rules.
// A feedURL that is not a configured source is explained with no rules of
// its own. Safe for concurrent use. Its error names URLs without their
// secrets (config.RedactURL).
func (f *Fetcher) Explain(ctx context.Context, feedURL string) (_ []Verdict, err error) {
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
	for _, item := range feed.Items {
		if item == nil {
			continue
		}
		_, v := f.norm.article(item, *src.feed, base, f.now())
		out = append(out, v)
	}
	return out, nil
}
