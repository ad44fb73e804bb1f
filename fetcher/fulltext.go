package fetcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/fulltext"
	"github.com/tributary/tributary/storage"
)

// pageAccept is the Accept header of an article page request.
const pageAccept = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"

// errNoLonger is the failure of a page whose text is no longer than the
// feed's own: nothing is gained by replacing it.
var errNoLonger = errors.New("the page's text is no longer than the feed's")

// fullTextCount is what fetching the pages of one source's new items did.
type fullTextCount struct {
	ok, failed int
	// lastErr is the failure of the last item in feed order that failed,
	// nil when none did.
	lastErr error
}

// addFullTexts sets the FullText of each new article of src (one whose ID
// the store does not know yet) from its linked page, when src has
// fulltext. Re-fetched and edited items keep the text they were stored
// with. The pages are fetched concurrently, at most
// fetch.fulltext_concurrency at once across all sources, each under the
// per-host limits. A page that fails leaves the article with its feed
// text and is counted.
func (f *Fetcher) addFullTexts(ctx context.Context, src *source, arts []storage.Article) fullTextCount {
	if !src.feed.FullText.Enabled || len(arts) == 0 {
		return fullTextCount{}
	}
	ids := make([]string, len(arts))
	for i, a := range arts {
		ids[i] = a.ID
	}
	known, err := f.store.KnownItems(ctx, ids)
	if err != nil {
		f.log.Warn("cannot tell new items from known ones: no full text this time",
			slog.String("feed_url", src.shown), slog.Any("error", err))
		return fullTextCount{}
	}
	ctx = f.sourceOrigin(ctx, src) // one name lookup for all the pages
	errs := make([]error, len(arts))
	var wg sync.WaitGroup
	for i := range arts {
		if known[arts[i].ID] || arts[i].Link == "" {
			continue
		}
		wg.Go(func() { errs[i] = f.fullText(ctx, src, &arts[i]) })
	}
	wg.Wait()
	var count fullTextCount
	for i, err := range errs {
		switch {
		case err != nil:
			count.failed++
			count.lastErr = err
			f.log.Debug("full text not taken: the item keeps its feed text",
				slog.String("feed_url", src.shown), slog.String("link", arts[i].Link), slog.Any("error", err))
		case arts[i].FullText != "":
			count.ok++
		}
	}
	return count
}

// fullText fetches a's linked page and sets a.FullText to the sanitised
// text extracted from it, or returns why not. ctx carries src's origin
// (sourceOrigin).
func (f *Fetcher) fullText(ctx context.Context, src *source, a *storage.Article) error {
	select {
	case f.pages <- struct{}{}:
		defer func() { <-f.pages }()
	case <-ctx.Done():
		return fmt.Errorf("full text %s: %w", a.Link, ctx.Err())
	}
	pg, err := f.getPage(ctx, src, a.Link)
	if err != nil {
		return fmt.Errorf("full text %s: %w", a.Link, err)
	}
	raw, err := fulltext.Extract(pg.body, pg.contentType, pg.url, src.feed.FullText.Selector)
	if err != nil {
		return fmt.Errorf("full text %s: %w", a.Link, err)
	}
	text := sanitizeHTML(f.norm.policy, cutUTF8(raw, maxContentBytes), pg.url)
	if len(strings.Fields(plainText(text))) <= len(strings.Fields(plainText(cmp.Or(a.Content, a.Summary)))) {
		return fmt.Errorf("full text %s: %w", a.Link, errNoLonger)
	}
	a.FullText = text
	return nil
}

// page is an article page as fetched.
type page struct {
	body        []byte
	contentType string
	// url is the final URL, without userinfo: the base of relative links.
	url *url.URL
}

// getPage GETs the article page at link under the politeness of feeds:
// the per-host limit and spacing, a host's request to wait (a deferred
// host is not asked; a 429 or 503 with Retry-After defers it), the
// source's timeout, proxy and user agent, fetch.max_body, and the private
// address guard with the source as the origin ctx carries (sourceOrigin: a
// source on a public address cannot have a private page fetched). The source's credentials go only to
// its own scheme and host.
func (f *Fetcher) getPage(ctx context.Context, src *source, link string) (page, error) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return page{}, errors.New("not an http or https link")
	}
	host := strings.ToLower(u.Hostname())
	release, err := f.acquireHost(ctx, host)
	if err != nil {
		return page{}, err
	}
	defer release()
	if until, ok := f.hosts.deferred(host, f.now()); ok {
		return page{}, fmt.Errorf("host %s asked to wait until %s", host, until.Format("15:04:05Z07:00"))
	}
	timeout := src.feed.EffectiveTimeout(f.fetch.Timeout)
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(src.requestContext(fctx), http.MethodGet, link, nil)
	if err != nil {
		return page{}, err
	}
	req.Header.Set("User-Agent", cmp.Or(src.feed.UserAgent, f.fetch.UserAgent))
	req.Header.Set("Accept", pageAccept)
	resp, err := f.client.Do(req)
	if err != nil {
		return page{}, f.failure(ctx, fctx, timeout, err).err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		if c := resp.StatusCode; c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable {
			if at, ok := retryAfter(resp.Header.Get("Retry-After"), f.now()); ok {
				f.deferHost(ctx, host, at)
			}
		}
		return page{}, &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, URL: config.RedactURL(resp.Request.URL.String())}
	}
	body, err := readBody(resp, f.fetch.MaxBody)
	if err != nil {
		return page{}, f.failure(ctx, fctx, timeout, err).err
	}
	return page{body: body, contentType: resp.Header.Get("Content-Type"), url: withoutUserinfo(resp.Request.URL)}, nil
}

// withFullTextCounts returns st with the full-text counts of res added:
// the last failure is kept until a page gives its text again.
func withFullTextCounts(st storage.SourceState, res Result) storage.SourceState {
	st.FullTextFetched += res.FullText
	st.FullTextFailed += res.FullTextFailed
	switch {
	case res.FullTextErr != nil:
		st.FullTextError = config.RedactText(res.FullTextErr.Error())
	case res.FullText > 0:
		st.FullTextError = ""
	}
	return st
}
