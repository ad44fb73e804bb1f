package fetcher

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// Outcome words, stored in storage.SourceState.Outcome and Result.Outcome.
const (
	outcomeOK          = "ok"
	outcomeNotModified = "not-modified"
	outcomeHTTPError   = "http-error"
	outcomeTimeout     = "timeout"
	outcomeNetwork     = "network-error"
	outcomeTooLarge    = "too-large"
	outcomeParseError  = "parse-error"
	outcomeNotFeed     = "not-a-feed"
	outcomeStoreError  = "store-error"
	outcomePanic       = "panic"
	// outcomeGone: 410 Gone; the source waits for the operator.
	outcomeGone = "gone"
	// outcomeRateLimited: 429, or 503 with Retry-After; the whole host waits.
	outcomeRateLimited = "rate-limited"
	// outcomeDeferred: not asked, because its host asked to be left alone;
	// the stored state is kept, only NextDue moves.
	outcomeDeferred = "deferred"
	// outcomeRefused: a public source sent the fetch to a private address.
	outcomeRefused = "refused"
	// outcomeCanceled: the pass's context ended before the fetch was
	// stored whole: its state is not stored, and of its articles only the
	// transactions committed before the end (see Fetcher.save).
	outcomeCanceled = "canceled"
)

// download is what one HTTP exchange produced.
type download struct {
	outcome string
	err     error
	// The rest is set when outcome is outcomeOK.
	body         []byte
	contentType  string
	finalURL     *url.URL
	etag         string
	lastModified string
	bodyHash     string
	// links are the response's Link headers.
	links []string
	// maxAge is the response's Cache-Control max-age (200 or 304).
	maxAge time.Duration
	// movedTo is the final URL when every redirect followed was permanent.
	movedTo string
	// retryAt is set by a 429 or 503 with Retry-After, and by a deferral.
	retryAt time.Time
	// feedInterval is what the parsed feed asks for (<ttl>, sy:*), set
	// after parsing.
	feedInterval time.Duration
}

// fetchSource fetches src once, saves its articles and its new state, and
// returns the Result. prev is the stored state (zero when none). It calls
// toSave with the size of the body once the feed is downloaded and
// normalised, before it writes, and done, what toSave returns, once it has
// written.
func (f *Fetcher) fetchSource(ctx context.Context, src *source, prev storage.SourceState, forced bool, toSave func(size int) (done func())) Result {
	start := f.now()
	res := Result{FeedURL: src.feed.URL}
	dl := f.get(ctx, src, prev, forced)
	outcome, err := dl.outcome, dl.err
	var norm normalized
	if outcome == outcomeOK {
		norm, outcome, err = f.parse(ctx, src, &dl, &res)
	}
	if outcome == outcomeCanceled {
		return f.canceled(src, prev, res, err, start)
	}
	defer toSave(len(dl.body))()
	if err == nil && len(norm.Articles) > 0 {
		f.log.Debug("saving articles", slog.String("feed_url", src.shown), slog.Int("articles", len(norm.Articles)))
		sr, serr := f.save(ctx, norm.Articles)
		res.New, res.Updated, res.Unchanged = sr.New, sr.Updated, sr.Unchanged
		res.Merged, res.Suppressed = sr.Merged, sr.Suppressed
		switch {
		case errors.Is(serr, context.Canceled):
			return f.canceled(src, prev, res, serr, start)
		case errors.Is(serr, context.DeadlineExceeded):
			outcome, err = outcomeTimeout, serr
		case serr != nil:
			outcome, err = outcomeStoreError, serr
		}
	}
	// The state always matches the articles saved, so it is stored even
	// when the pass ends meanwhile.
	sctx := context.WithoutCancel(ctx)
	now := f.now()
	st := f.nextState(src, prev, dl, norm, outcome, err, now)
	st = withFullTextCounts(st, res)
	if st.PermanentURL != prev.PermanentURL {
		f.log.Warn("source moved permanently: update the config",
			slog.String("feed_url", src.shown),
			slog.String("new_url", config.RedactURL(st.PermanentURL)))
	}
	if perr := f.store.PutSourceState(sctx, st); perr != nil {
		outcome, err = outcomeStoreError, errors.Join(err, fmt.Errorf("save source state: %w", perr))
	}
	at, scheduled := f.wake(src, st, true, now)
	f.reschedule(ctx, src, at, scheduled)
	res.Outcome = outcome
	res.Title = cmp.Or(src.feed.Title, st.Title)
	if err != nil {
		res.Err = redactedError{fmt.Errorf("fetch %s: %w", src.shown, err)}
	}
	res.Duration = now.Sub(start)
	return res
}

// parse parses and normalises the body of dl, a document of src, takes
// the full text of its new items when src has fulltext (addFullTexts),
// sets the interval the feed asks for in dl, and fills the item and
// full-text counts, hub and topic of res. Its outcome is outcomeOK, or the
// failure and its error.
func (f *Fetcher) parse(ctx context.Context, src *source, dl *download, res *Result) (normalized, string, error) {
	base := withoutUserinfo(dl.finalURL)
	feed, err := parseBody(f.parser, dl.body, dl.contentType, base)
	switch {
	case errors.Is(err, ErrNotFeed):
		return normalized{}, outcomeNotFeed, err
	case err != nil:
		return normalized{}, outcomeParseError, err
	}
	res.Items = len(feed.Items)
	feed.Items = newestItems(feed.Items, f.fetch.MaxItems, f.now())
	res.OverMax = res.Items - len(feed.Items)
	if res.OverMax > 0 {
		f.log.Warn("feed has more items than fetch.max_items: kept the newest",
			slog.String("feed_url", src.shown),
			slog.Int("items", res.Items),
			slog.Int("kept", len(feed.Items)))
	}
	now := f.now()
	norm := f.norm.normalize(feed, *src.feed, base, now)
	dl.feedInterval = feedInterval(feed)
	res.Filtered = norm.Filtered
	norm.Articles, res.Expired = unexpired(norm.Articles, f.maxAge, now)
	ft := f.addFullTexts(ctx, src, norm.Articles)
	res.FullText, res.FullTextFailed = ft.ok, ft.failed
	if ft.lastErr != nil {
		res.FullTextErr = redactedError{ft.lastErr}
	}
	if f.discover != nil {
		res.Hub, res.Topic = f.discover(base, dl.links, dl.body)
	}
	return norm, outcomeOK, nil
}

// save stores articles within fetch.timeout, counted from when the save
// starts (after any wait for the disk), and until the pass's ctx ends: a
// save that has not begun when ctx ends does not begin, and one under way
// stops at its next transaction (the store writes its first
// storage.SaveChunk articles whatever happens, and stops between
// transactions after that), so that shutdown waits for one transaction at
// most, not for a whole large feed. The articles of a save cut short are
// stored whole or not at all and the error wraps context.DeadlineExceeded
// or context.Canceled; the source's validators are then not updated, so
// the next fetch gets the whole feed again.
func (f *Fetcher) save(ctx context.Context, articles []storage.Article) (storage.SaveResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.SaveResult{}, fmt.Errorf("save articles: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.fetch.Timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	sr, err := f.store.SaveArticles(sctx, articles)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return sr, fmt.Errorf("save articles: not done within %s (fetch.timeout): %w", f.fetch.Timeout, err)
	case err != nil && ctx.Err() != nil:
		return sr, fmt.Errorf("save articles: %d stored when the fetch was cancelled: %w", sr.New+sr.Updated+sr.Merged, context.Cause(ctx))
	case err != nil:
		return sr, fmt.Errorf("save articles: %w", err)
	}
	return sr, nil
}

// canceled is the Result of a fetch of src that the pass's ctx ended
// (err says how) before it was stored whole: res with its counts of what
// was stored. The source's state stays prev, so that the next pass fetches
// the whole feed again.
func (f *Fetcher) canceled(src *source, prev storage.SourceState, res Result, err error, start time.Time) Result {
	res.Outcome, res.Err = outcomeCanceled, redactedError{fmt.Errorf("fetch %s: %w", src.shown, err)}
	res.Title = cmp.Or(src.feed.Title, prev.Title)
	res.Duration = f.now().Sub(start)
	return res
}

// unexpired returns the articles published at most maxAge before now (the
// ones retention keeps; an unknown publication time counts as now) and how
// many it dropped. A zero maxAge keeps all.
func unexpired(articles []storage.Article, maxAge time.Duration, now time.Time) ([]storage.Article, int) {
	if maxAge <= 0 {
		return articles, 0
	}
	cutoff := now.Add(-maxAge)
	kept := slices.DeleteFunc(articles, func(a storage.Article) bool {
		return !a.Published.IsZero() && a.Published.Before(cutoff)
	})
	return kept, len(articles) - len(kept)
}

// nextState returns the source state after a fetch that ended with outcome
// and err at now.
func (f *Fetcher) nextState(src *source, prev storage.SourceState, dl download, norm normalized, outcome string, err error, now time.Time) storage.SourceState {
	st := prev
	st.FeedURL = src.feed.URL
	if outcome == outcomeDeferred {
		st.NextDue = later(st.NextDue, dl.retryAt)
		// Keep the last real outcome; a source never asked shows why.
		st.Outcome = cmp.Or(st.Outcome, outcomeDeferred)
		return st
	}
	st.LastFetch = now
	st.Outcome = outcome
	st.RetryAfter = dl.retryAt
	if err != nil {
		st.LastError = config.RedactText(err.Error())
		st.ConsecutiveFailures++
		st.NextDue = later(backoff(src.feed.Cron, st.ConsecutiveFailures, now), dl.retryAt)
		return st
	}
	st.LastSuccess = now
	st.LastError = ""
	st.ConsecutiveFailures = 0
	st.ServerInterval = dl.maxAge
	if outcome == outcomeOK {
		st.ETag, st.LastModified, st.BodyHash = dl.etag, dl.lastModified, dl.bodyHash
		st.Title = cmp.Or(norm.Title, st.Title)
		st.FeedInterval = dl.feedInterval
	}
	switch {
	case dl.movedTo == "":
		st.MovedTo, st.MovedSeen = "", 0
	case dl.movedTo == st.MovedTo:
		st.MovedSeen++
	default:
		st.MovedTo, st.MovedSeen = dl.movedTo, 1
	}
	if st.MovedSeen >= movedConfirmations {
		// The validators belong to the new URL too: it answered them.
		st.PermanentURL, st.MovedTo, st.MovedSeen = st.MovedTo, "", 0
	}
	st.NextDue = src.nextRun(now, f.floor(src, st))
	return st
}

// movedConfirmations is how many fetches in a row must be permanently
// redirected to the same URL before it replaces the configured one.
const movedConfirmations = 2

// requestContext returns ctx carrying what src's requests need beyond the
// fetch settings: its credentials and its own proxy.
func (src *source) requestContext(ctx context.Context) context.Context {
	return withProxy(withCredentials(ctx, *src.feed), *src.feed)
}

// withoutUserinfo returns a copy of u without its user name and password:
// the base for the feed's relative links, which would otherwise inherit
// them (url.URL.ResolveReference keeps the base's userinfo).
func withoutUserinfo(u *url.URL) *url.URL {
	c := *u
	c.User = nil
	return &c
}

// hostOf returns the host a source with state st is fetched from: the
// configured one, or that of the URL it permanently moved to.
func hostOf(src *source, st storage.SourceState) string {
	if st.PermanentURL != "" {
		if u, err := url.Parse(st.PermanentURL); err == nil {
			return strings.ToLower(u.Hostname())
		}
	}
	return src.host
}

// permanentTarget returns the final URL of resp when it was reached through
// one or more redirects that were all permanent (301, 308), else "".
func permanentTarget(resp *http.Response) string {
	hops := 0
	for r := resp.Request; r != nil && r.Response != nil; r = r.Response.Request {
		hops++
		if c := r.Response.StatusCode; c != http.StatusMovedPermanently && c != http.StatusPermanentRedirect {
			return ""
		}
	}
	if hops == 0 {
		return ""
	}
	return resp.Request.URL.String()
}

// get makes the conditional GET for src under the per-host limit and the
// per-source timeout and reads the body. Its outcome is outcomeOK with the
// body, outcomeNotModified, or a failure.
//
// Unless forced, a source whose host asked to be left alone is not asked:
// the outcome is outcomeDeferred, with retryAt the end of the wait.
func (f *Fetcher) get(ctx context.Context, src *source, prev storage.SourceState, forced bool) download {
	host := hostOf(src, prev)
	release, err := f.acquireHost(ctx, host)
	switch {
	case err != nil && ctx.Err() != nil:
		return download{outcome: outcomeCanceled, err: context.Cause(ctx)}
	case err != nil:
		return download{outcome: outcomeStoreError, err: err}
	}
	defer release()
	if until, ok := f.hosts.deferred(host, f.now()); ok && !forced {
		return download{outcome: outcomeDeferred, retryAt: until}
	}
	target := cmp.Or(prev.PermanentURL, src.feed.URL)

	timeout := src.feed.EffectiveTimeout(f.fetch.Timeout)
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if prev.PermanentURL != "" {
		fctx = f.sourceOrigin(fctx, src)
	} else {
		fctx = withOrigin(fctx)
	}
	req, err := http.NewRequestWithContext(src.requestContext(fctx), http.MethodGet, target, nil)
	if err != nil {
		return download{outcome: outcomeNetwork, err: err}
	}
	req.Header.Set("User-Agent", cmp.Or(src.feed.UserAgent, f.fetch.UserAgent))
	req.Header.Set("Accept", acceptHeader)
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return f.failure(ctx, fctx, timeout, err)
	}
	defer resp.Body.Close()

	age := maxAge(resp.Header.Get("Cache-Control"))
	moved := permanentTarget(resp)
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return download{outcome: outcomeNotModified, maxAge: age, movedTo: moved}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// A little draining lets the connection be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		dl := download{outcome: outcomeHTTPError, err: &HTTPError{
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			URL:        config.RedactURL(resp.Request.URL.String()),
		}}
		switch resp.StatusCode {
		case http.StatusGone:
			dl.outcome = outcomeGone
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if at, ok := retryAfter(resp.Header.Get("Retry-After"), f.now()); ok {
				dl.outcome, dl.retryAt = outcomeRateLimited, at
				// Before the host's slot is released, so that no sibling
				// source starts in between.
				f.deferHost(ctx, host, at)
				f.log.Warn("host asked to wait: deferring all its sources",
					slog.String("host", host),
					slog.String("feed_url", src.shown),
					slog.Time("until", at))
			}
		}
		return dl
	}
	body, err := readBody(resp, f.fetch.MaxBody)
	if errors.Is(err, ErrBodyTooLarge) {
		return download{outcome: outcomeTooLarge, err: err}
	}
	if err != nil {
		return f.failure(ctx, fctx, timeout, err)
	}
	sum := sha256.Sum256(body)
	dl := download{
		outcome:      outcomeOK,
		body:         body,
		contentType:  resp.Header.Get("Content-Type"),
		finalURL:     resp.Request.URL,
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
		bodyHash:     hex.EncodeToString(sum[:]),
		links:        resp.Header.Values("Link"),
		maxAge:       age,
		movedTo:      moved,
	}
	if dl.etag == "" && dl.lastModified == "" && dl.bodyHash == prev.BodyHash {
		return download{outcome: outcomeNotModified, maxAge: age, movedTo: moved}
	}
	return dl
}

// failure classifies the error of a request or body read made under fctx,
// a child of the pass's ctx bounded by timeout.
func (f *Fetcher) failure(ctx, fctx context.Context, timeout time.Duration, err error) download {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err // the URL is named by the caller
	}
	if ctx.Err() != nil {
		return download{outcome: outcomeCanceled, err: context.Cause(ctx)}
	}
	if pe, ok := errors.AsType[*PrivateRedirectError](err); ok {
		return download{outcome: outcomeRefused, err: pe}
	}
	switch {
	case errors.Is(err, ErrTooManyRedirects):
		return download{outcome: outcomeHTTPError, err: err}
	case errors.Is(fctx.Err(), context.DeadlineExceeded):
		return download{outcome: outcomeTimeout, err: fmt.Errorf("no complete answer within %s: %w", timeout, err)}
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return download{outcome: outcomeTimeout, err: err}
	}
	return download{outcome: outcomeNetwork, err: err}
}

// readBody reads the whole body of resp, failing with ErrBodyTooLarge as soon
// as more than limit bytes arrive. resp.Body is already decompressed when the
// transport asked for gzip, so the limit bounds the decompressed size.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	tooLarge := fmt.Errorf("%w: more than %d bytes (fetch.max_body)", ErrBodyTooLarge, limit)
	if resp.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, resp.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, tooLarge
	}
	return body, err
}
