package fetcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/tributary/tributary/config"
)

// outcomePushed is the outcome of a document pushed to us and stored.
const outcomePushed = "pushed"

// Ingest stores the articles of a document of the source feedURL that was
// pushed to us (a WebSub delivery) exactly as a fetch of that document
// would: the same parsing, charset handling, normalisation, include and
// exclude rules, fetch.max_items, expiry and dedupe. It does not change
// the source's fetch state (validators, schedule, failures): the next
// poll still asks the server itself. A body over fetch.max_body is
// refused. The Result's Outcome is "pushed" on success; its Err names the
// failure. Ingest is safe for concurrent use, also with passes.
func (f *Fetcher) Ingest(ctx context.Context, feedURL string, body []byte, contentType string) Result {
	start := f.now()
	res := Result{FeedURL: feedURL, Outcome: outcomePushed}
	src, ok := f.byURL[feedURL]
	if !ok {
		res.Outcome, res.Err = outcomeNotFeed, fmt.Errorf("ingest push for %s: not a configured source", config.RedactURL(feedURL))
		return res
	}
	res.Title = src.feed.Title
	err := f.ingest(ctx, src, body, contentType, &res)
	if err != nil {
		res.Err = redactedError{fmt.Errorf("ingest push for %s: %w", src.shown, err)}
		f.log.Warn("pushed document not stored", slog.String("feed_url", src.shown),
			slog.String("outcome", res.Outcome), slog.Any("error", res.Err))
	} else {
		f.log.Debug("pushed document stored", slog.String("feed_url", src.shown),
			slog.Int("new", res.New), slog.Int("updated", res.Updated))
	}
	res.Duration = f.now().Sub(start)
	return res
}

// ingest parses, normalises and saves a pushed body of src into res.
func (f *Fetcher) ingest(ctx context.Context, src *source, body []byte, contentType string, res *Result) error {
	if int64(len(body)) > f.fetch.MaxBody {
		res.Outcome = outcomeTooLarge
		return fmt.Errorf("%w: more than %d bytes (fetch.max_body)", ErrBodyTooLarge, f.fetch.MaxBody)
	}
	st, _, err := f.store.SourceState(ctx, src.feed.URL)
	if err != nil {
		res.Outcome = outcomeStoreError
		return err
	}
	base, err := url.Parse(cmp.Or(st.PermanentURL, src.feed.URL))
	if err != nil {
		res.Outcome = outcomeParseError
		return err
	}
	dl := download{outcome: outcomeOK, body: body, contentType: contentType, finalURL: base}
	norm, outcome, err := f.parse(ctx, src, &dl, res)
	if err != nil {
		res.Outcome = outcome
		return err
	}
	res.Title = cmp.Or(res.Title, norm.Title, st.Title)
	if len(norm.Articles) == 0 {
		return nil
	}
	sr, err := f.save(context.WithoutCancel(ctx), norm.Articles)
	res.New, res.Updated, res.Unchanged = sr.New, sr.Updated, sr.Unchanged
	res.Merged, res.Suppressed = sr.Merged, sr.Suppressed
	if err != nil {
		res.Outcome = outcomeStoreError
		if errors.Is(err, context.DeadlineExceeded) {
			res.Outcome = outcomeTimeout
		}
		return err
	}
	return nil
}
