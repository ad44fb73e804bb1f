package fetcher

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

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
	// outcomeCanceled: the pass's context ended first; nothing is stored.
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
}

// fetchSource fetches src once, saves its articles and its new state, and
// returns the Result. prev is the stored state (zero when none).
func (f *Fetcher) fetchSource(ctx context.Context, src *source, prev storage.SourceState) Result {
	start := f.now()
	res := Result{FeedURL: src.feed.URL}
	dl := f.get(ctx, src, prev)
	outcome, err := dl.outcome, dl.err
	var norm normalized
	if outcome == outcomeOK {
		feed, perr := parseBody(f.parser, dl.body, dl.contentType, dl.finalURL)
		switch {
		case errors.Is(perr, ErrNotFeed):
			outcome, err = outcomeNotFeed, perr
		case perr != nil:
			outcome, err = outcomeParseError, perr
		default:
			norm = f.norm.normalize(feed, src.feed, dl.finalURL, f.now())
			res.Filtered = norm.Filtered
		}
	}
	if outcome == outcomeCanceled {
		res.Outcome, res.Err = outcome, fmt.Errorf("fetch %s: %w", src.feed.URL, err)
		res.Title = cmp.Or(src.feed.Title, prev.Title)
		res.Duration = f.now().Sub(start)
		return res
	}
	// The pass may be cancelled from here on; what was fetched is still
	// stored, and the state always matches the articles saved.
	sctx := context.WithoutCancel(ctx)
	if err == nil && len(norm.Articles) > 0 {
		sr, serr := f.store.SaveArticles(sctx, norm.Articles)
		if serr != nil {
			outcome, err = outcomeStoreError, fmt.Errorf("save articles: %w", serr)
		}
		res.New, res.Updated, res.Unchanged = sr.New, sr.Updated, sr.Unchanged
	}
	now := f.now()
	st := nextState(src, prev, dl, norm, outcome, err, now)
	if perr := f.store.PutSourceState(sctx, st); perr != nil {
		outcome, err = outcomeStoreError, errors.Join(err, fmt.Errorf("save source state: %w", perr))
	}
	res.Outcome = outcome
	res.Title = cmp.Or(src.feed.Title, st.Title)
	if err != nil {
		res.Err = fmt.Errorf("fetch %s: %w", src.feed.URL, err)
	}
	res.Duration = now.Sub(start)
	return res
}

// nextState returns the source state after a fetch that ended with outcome
// and err at now.
func nextState(src *source, prev storage.SourceState, dl download, norm normalized, outcome string, err error, now time.Time) storage.SourceState {
	st := prev
	st.FeedURL = src.feed.URL
	st.LastFetch = now
	st.Outcome = outcome
	if err != nil {
		st.LastError = err.Error()
		st.ConsecutiveFailures++
		st.NextDue = backoff(src.sched, st.ConsecutiveFailures, now)
		return st
	}
	st.LastSuccess = now
	st.LastError = ""
	st.ConsecutiveFailures = 0
	st.NextDue = src.sched.Next(now)
	if outcome == outcomeOK {
		st.ETag, st.LastModified, st.BodyHash = dl.etag, dl.lastModified, dl.bodyHash
		st.Title = cmp.Or(norm.Title, st.Title)
	}
	return st
}

// get makes the conditional GET for src under the per-host limit and the
// per-source timeout and reads the body. Its outcome is outcomeOK with the
// body, outcomeNotModified, or a failure.
func (f *Fetcher) get(ctx context.Context, src *source, prev storage.SourceState) download {
	release, err := f.hosts.acquire(ctx, src.host)
	if err != nil {
		return download{outcome: outcomeCanceled, err: err}
	}
	defer release()

	fctx, cancel := context.WithTimeout(ctx, f.fetch.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, src.feed.URL, nil)
	if err != nil {
		return download{outcome: outcomeNetwork, err: err}
	}
	req.Header.Set("User-Agent", f.fetch.UserAgent)
	req.Header.Set("Accept", acceptHeader)
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return f.failure(ctx, fctx, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotModified:
		return download{outcome: outcomeNotModified}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// A little draining lets the connection be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return download{outcome: outcomeHTTPError, err: &HTTPError{
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			URL:        resp.Request.URL.String(),
		}}
	}
	body, err := readBody(resp, f.fetch.MaxBody)
	if errors.Is(err, ErrBodyTooLarge) {
		return download{outcome: outcomeTooLarge, err: err}
	}
	if err != nil {
		return f.failure(ctx, fctx, err)
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
	}
	if dl.etag == "" && dl.lastModified == "" && dl.bodyHash == prev.BodyHash {
		return download{outcome: outcomeNotModified}
	}
	return dl
}

// failure classifies the error of a request or body read made under fctx,
// a child of the pass's ctx.
func (f *Fetcher) failure(ctx, fctx context.Context, err error) download {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err // the URL is named by the caller
	}
	switch {
	case ctx.Err() != nil:
		return download{outcome: outcomeCanceled, err: context.Cause(ctx)}
	case errors.Is(err, ErrTooManyRedirects):
		return download{outcome: outcomeHTTPError, err: err}
	case errors.Is(fctx.Err(), context.DeadlineExceeded):
		return download{outcome: outcomeTimeout, err: fmt.Errorf("no complete answer within %s: %w", f.fetch.Timeout, err)}
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

// hostLimiter bounds the requests in flight to each host.
type hostLimiter struct {
	limit int
	mu    sync.Mutex
	sems  map[string]chan struct{}
}

func newHostLimiter(limit int) *hostLimiter {
	return &hostLimiter{limit: limit, sems: make(map[string]chan struct{})}
}

// acquire waits for a free slot for host and returns the function that
// frees it, or ctx's error.
func (h *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	h.mu.Lock()
	sem, ok := h.sems[host]
	if !ok {
		sem = make(chan struct{}, h.limit)
		h.sems[host] = sem
	}
	h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
