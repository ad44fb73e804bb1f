package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/config"
)

// Probed is what Probe found at a URL.
type Probed struct {
	// URL is the feed's URL: the probed one, or the feed an HTML page
	// advertised (its first autodiscovery link that parses).
	URL string
	// Title is the feed's own title.
	Title string
	// Items is the number of items the feed lists now.
	Items int
	// Discovered is true when URL came from an HTML page's autodiscovery links.
	Discovered bool
}

// Probe fetches rawURL with the settings of fc and parses it as a feed. An
// HTML page is resolved to the first feed it advertises with
// <link rel="alternate" type="application/rss+xml"> (or Atom, or JSON
// Feed) that parses. A nil client builds one from fc, which refuses a
// redirect or an advertised link from a public address to a private one
// unless fc.AllowPrivateRedirects. Probe stores nothing. Its error names
// URLs without their secrets (config.RedactURL).
func Probe(ctx context.Context, client *http.Client, fc config.Fetch, rawURL string) (_ Probed, err error) {
	defer func() {
		if err != nil {
			err = redactedError{err}
		}
	}()
	if client == nil {
		client = newHTTPClient(fc, nil)
	}
	// One origin for the page and the feeds it advertises: a public page
	// cannot lead to a private address.
	ctx = withOrigin(ctx)
	body, contentType, final, err := probeGet(ctx, client, fc, rawURL)
	if err != nil {
		return Probed{}, err
	}
	p := newParser()
	feed, err := parseBody(p, body, contentType, final)
	if err == nil {
		return Probed{URL: rawURL, Title: feed.Title, Items: len(feed.Items)}, nil
	}
	if !errors.Is(err, ErrNotFeed) {
		return Probed{}, fmt.Errorf("probe %s: %w", rawURL, err)
	}
	links := feedLinks(body, final)
	if len(links) == 0 {
		return Probed{}, fmt.Errorf("probe %s: %w", rawURL, err)
	}
	var errs []error
	for _, link := range links {
		body, contentType, final, err := probeGet(ctx, client, fc, link)
		if err == nil {
			var f *gofeed.Feed
			if f, err = parseBody(p, body, contentType, final); err == nil {
				return Probed{URL: link, Title: f.Title, Items: len(f.Items), Discovered: true}, nil
			}
		}
		errs = append(errs, fmt.Errorf("advertised feed %s: %w", link, err))
	}
	return Probed{}, fmt.Errorf("probe %s: no advertised feed parses: %w", rawURL, errors.Join(errs...))
}

// probeGet GETs rawURL within fc.Timeout and returns the body (at most
// fc.MaxBody bytes), its Content-Type and the final URL after redirects.
func probeGet(ctx context.Context, client *http.Client, fc config.Fetch, rawURL string) ([]byte, string, *url.URL, error) {
	ctx, cancel := context.WithTimeout(ctx, fc.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", nil, fmt.Errorf("probe %s: %w", rawURL, err)
	}
	req.Header.Set("User-Agent", fc.UserAgent)
	req.Header.Set("Accept", acceptHeader)
	resp, err := client.Do(req)
	if pe, ok := errors.AsType[*PrivateRedirectError](err); ok {
		return nil, "", nil, fmt.Errorf("probe %s: %w", rawURL, pe)
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("probe %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, "", nil, fmt.Errorf("probe %s: %w", rawURL, &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, URL: resp.Request.URL.String()})
	}
	body, err := readBody(resp, fc.MaxBody)
	if err != nil {
		return nil, "", nil, fmt.Errorf("probe %s: %w", rawURL, err)
	}
	return body, resp.Header.Get("Content-Type"), resp.Request.URL, nil
}
