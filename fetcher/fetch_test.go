package fetcher

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

func TestConditionalGET(t *testing.T) {
	const (
		etag = `W/"5e2-1a2b3c"`
		lm   = "Sun, 17 Aug 2025 14:26:19 GMT"
	)
	rss := fetchFixture(t, "livemint-world.rss")
	tests := []struct {
		name         string
		etag, lm     string
		wantINM      string
		wantIMS      string
		wantValidate bool // whether the second request carries validators
	}{
		{name: "etag and last-modified", etag: etag, lm: lm, wantINM: etag, wantIMS: lm, wantValidate: true},
		{name: "etag only", etag: etag, wantINM: etag, wantValidate: true},
		{name: "last-modified only", lm: lm, wantIMS: lm, wantValidate: true},
		{name: "no validators, same body", wantValidate: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFeedServer(t)
			u := srv.set("/world", route{body: rss, contentType: "application/rss+xml", etag: tt.etag, lastModified: tt.lm})
			store := newFakeStore()
			f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{})

			first := fetchOne(t, f, u)
			if first.Err != nil || first.Outcome != "ok" || first.New == 0 {
				t.Fatalf("first fetch: %+v", first)
			}
			st := store.state(t, u)
			if st.ETag != tt.etag || st.LastModified != tt.lm || st.BodyHash == "" {
				t.Errorf("stored validators = %q, %q, hash %q; want %q, %q, a hash", st.ETag, st.LastModified, st.BodyHash, tt.etag, tt.lm)
			}

			second := fetchOne(t, f, u)
			if second.Err != nil || second.Outcome != "not-modified" {
				t.Fatalf("second fetch: %+v, want not-modified", second)
			}
			if got := store.saves(); got != 1 {
				t.Errorf("SaveArticles called %d times, want 1", got)
			}
			reqs := srv.seen("/world")
			if len(reqs) != 2 {
				t.Fatalf("server saw %d requests, want 2", len(reqs))
			}
			for i, h := range reqs {
				if got := h.Get("User-Agent"); got != "tributary-test/1.0" {
					t.Errorf("request %d User-Agent = %q", i, got)
				}
				if !strings.Contains(h.Get("Accept"), "application/rss+xml") {
					t.Errorf("request %d Accept = %q", i, h.Get("Accept"))
				}
			}
			if h := reqs[0]; h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
				t.Errorf("first request has validators: %v", h)
			}
			h := reqs[1]
			if got := h.Get("If-None-Match"); got != tt.wantINM {
				t.Errorf("If-None-Match = %q, want %q", got, tt.wantINM)
			}
			if got := h.Get("If-Modified-Since"); got != tt.wantIMS {
				t.Errorf("If-Modified-Since = %q, want %q", got, tt.wantIMS)
			}
			st2 := store.state(t, u)
			if st2.ETag != st.ETag || st2.LastModified != st.LastModified || st2.BodyHash != st.BodyHash {
				t.Errorf("validators changed on not-modified: %+v -> %+v", st, st2)
			}
			if st2.Outcome != "not-modified" || st2.LastSuccess.IsZero() || st2.Title == "" {
				t.Errorf("state after not-modified = %+v", st2)
			}
		})
	}

	t.Run("no validators, changed body", func(t *testing.T) {
		srv := newFeedServer(t)
		u := srv.set("/world", route{body: rss})
		store := newFakeStore()
		f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{})
		if r := fetchOne(t, f, u); r.Outcome != "ok" {
			t.Fatalf("first fetch: %+v", r)
		}
		srv.set("/world", route{body: bytes.Replace(rss, []byte("<channel>"), []byte("<channel>\n<!-- v2 -->"), 1)})
		r := fetchOne(t, f, u)
		if r.Outcome != "ok" || r.Unchanged == 0 {
			t.Errorf("fetch of a changed body = %+v, want ok with unchanged items", r)
		}
		if got := store.saves(); got != 2 {
			t.Errorf("SaveArticles called %d times, want 2", got)
		}
	})
}

func TestHTTPStatusErrors(t *testing.T) {
	for _, code := range []int{http.StatusNotFound, http.StatusInternalServerError} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newFeedServer(t)
			u := srv.set("/feed", route{status: code})
			clock := newTestClock()
			store := newFakeStore()
			f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{Now: clock.Now})

			base := 15 * time.Minute
			for fails := 1; fails <= 8; fails++ {
				r := fetchOne(t, f, u)
				he, ok := errors.AsType[*HTTPError](r.Err)
				if !ok || he.StatusCode != code || he.URL != u {
					t.Fatalf("fetch %d: err = %v, want *HTTPError %d", fails, r.Err, code)
				}
				if r.Outcome != "http-error" || !strings.HasPrefix(r.Err.Error(), "fetch "+u+": ") {
					t.Errorf("fetch %d: outcome %q, err %q", fails, r.Outcome, r.Err)
				}
				st := store.state(t, u)
				if st.ConsecutiveFailures != fails || st.LastError == "" || st.Outcome != "http-error" {
					t.Errorf("fetch %d: state = %+v", fails, st)
				}
				wait := min(base<<(fails-1), 24*time.Hour)
				lo, hi := clock.Now().Add(wait*9/10), clock.Now().Add(wait*11/10)
				if st.NextDue.Before(lo) || st.NextDue.After(hi) {
					t.Errorf("fetch %d: NextDue in %v, want %v ±10%%", fails, st.NextDue.Sub(clock.Now()), wait)
				}
				if st.NextDue.Before(clock.Now().Add(base)) {
					t.Errorf("fetch %d: NextDue %v is before the next scheduled run", fails, st.NextDue)
				}
				clock.Advance(time.Hour)
			}
			if got := store.saves(); got != 0 {
				t.Errorf("SaveArticles called %d times on errors", got)
			}

			srv.set("/feed", route{body: fetchFixture(t, "perspectives.rss")})
			r := fetchOne(t, f, u)
			if r.Err != nil || r.Outcome != "ok" {
				t.Fatalf("recovery fetch: %+v", r)
			}
			st := store.state(t, u)
			if st.ConsecutiveFailures != 0 || st.LastError != "" || !inSlotRange(st.NextDue, clock.Now(), base) || !st.LastSuccess.Equal(clock.Now()) {
				t.Errorf("state after recovery = %+v, want failures reset and NextDue in its 15m slot", st)
			}
		})
	}
}

func TestOversizedBody(t *testing.T) {
	rss := fetchFixture(t, "perspectives.rss") // ~13 KB
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"content-length", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(rss)
		}},
		{"chunked", func(w http.ResponseWriter, _ *http.Request) {
			for chunk := range slices.Chunk(rss, 1000) {
				_, _ = w.Write(chunk)
				w.(http.Flusher).Flush()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			cfg := testConfig(feedsAt(srv.URL)...)
			cfg.Fetch.MaxBody = 4096
			store := newFakeStore()
			f := newTestFetcher(t, cfg, store, Options{})
			r := fetchOne(t, f, srv.URL)
			if !errors.Is(r.Err, ErrBodyTooLarge) || r.Outcome != "too-large" {
				t.Fatalf("result = %+v, want too-large", r)
			}
			if !strings.Contains(r.Err.Error(), "4096") {
				t.Errorf("error %q does not name the limit", r.Err)
			}
			if store.saves() != 0 || len(store.byTitle()) != 0 {
				t.Errorf("articles stored from an oversized body")
			}
		})
	}
}

func TestGzipBomb(t *testing.T) {
	// One gzip member of 1 MiB of zeros, repeated: gzip readers, net/http's
	// included, read concatenated members as one stream of 100 MiB.
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 1<<20))
	_ = zw.Close()
	bomb := bytes.Repeat(member.Bytes(), 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Errorf("request without Accept-Encoding gzip: %v", r.Header)
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb)
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(feedsAt(srv.URL)...)
	cfg.Fetch.MaxBody = 1 << 20
	store := newFakeStore()
	f := newTestFetcher(t, cfg, store, Options{})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := fetchOne(t, f, srv.URL)
	runtime.ReadMemStats(&after)
	if !errors.Is(r.Err, ErrBodyTooLarge) || r.Outcome != "too-large" {
		t.Fatalf("result = %+v, want too-large", r)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("fetching the bomb allocated %d MB, want far less than its 100 MB", alloc>>20)
	}
	if store.saves() != 0 {
		t.Errorf("articles stored from a gzip bomb")
	}
}

func TestTimeoutDoesNotDelayOthers(t *testing.T) {
	const timeout = 300 * time.Millisecond
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(stall.Close)
	trickle := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>`))
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
				_, _ = w.Write([]byte(" "))
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(trickle.Close)
	healthy := newFeedServer(t)
	good := healthy.set("/feed", route{body: fetchFixture(t, "livemint-world.rss")})

	cfg := testConfig(feedsAt(stall.URL+"/stall", trickle.URL+"/trickle", good)...)
	cfg.Fetch.Timeout = timeout
	cfg.Fetch.PerHost = 1 // all three are on 127.0.0.1: the limit must not serialise them behind the stall
	cfg.Feeds[2].URL = strings.Replace(good, "127.0.0.1", "localhost", 1)
	store := newFakeStore()
	f := newTestFetcher(t, cfg, store, Options{})

	start := time.Now()
	res, err := f.FetchNow(t.Context())
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res[:2] {
		if r.Outcome != "timeout" || r.Err == nil {
			t.Errorf("%s: %+v, want timeout", r.FeedURL, r)
		}
	}
	if elapsed > timeout+2*time.Second {
		t.Errorf("pass took %v with a %v timeout", elapsed, timeout)
	}
	if r := res[2]; r.Outcome != "ok" || r.New == 0 {
		t.Errorf("healthy source: %+v", r)
	} else if r.Duration > timeout {
		t.Errorf("healthy source took %v: delayed by the stalled ones", r.Duration)
	}
}

func TestRedirects(t *testing.T) {
	srv := newFeedServer(t)
	srv.set("/feed.xml", route{body: fetchFixture(t, "bloomberg-politics.atom"), contentType: "application/atom+xml"})
	moved := srv.set("/old", route{status: http.StatusMovedPermanently, location: "/feed.xml"})
	loop := srv.set("/a", route{status: http.StatusFound, location: "/b"})
	srv.set("/b", route{status: http.StatusFound, location: "/a"})
	for i := range 10 {
		srv.set(fmt.Sprintf("/chain/%d", i), route{status: http.StatusFound, location: fmt.Sprintf("/chain/%d", i+1)})
	}
	chain := srv.URL + "/chain/0"

	store := newFakeStore()
	f := newTestFetcher(t, testConfig(feedsAt(moved, loop, chain)...), store, Options{})
	res, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Err != nil || r.Outcome != "ok" || r.New == 0 {
		t.Errorf("301 to the feed: %+v", r)
	}
	for _, r := range res[1:] {
		if !errors.Is(r.Err, ErrTooManyRedirects) || r.Outcome != "http-error" {
			t.Errorf("%s: %+v, want too many redirects", r.FeedURL, r)
		}
	}
	if msg := res[1].Err.Error(); !strings.Contains(msg, "redirect loop at "+srv.URL+"/a") {
		t.Errorf("loop error = %q", msg)
	}
	if n := len(srv.seen("/chain/5")); n != 1 || len(srv.seen("/chain/6")) != 0 {
		t.Errorf("chain followed too far or not enough: /chain/5 seen %d times", n)
	}
}

func TestCharsets(t *testing.T) {
	const rssTmpl = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>%s</title><link>https://example.ru/</link>
<item><title>%s</title><link>https://example.ru/1</link><guid>1</guid><description>%s</description></item>
</channel></rss>`
	cp1251, err := charmap.Windows1251.NewEncoder().String(fmt.Sprintf(rssTmpl, "Новости", "Привет, мир", "Текст"))
	if err != nil {
		t.Fatal(err)
	}
	latin1Bytes := fmt.Sprintf(rssTmpl, "Caf\xe9 news", "Caf\xe9 cr\xe8me", "text")

	srv := newFeedServer(t)
	ru := srv.set("/ru", route{body: []byte(cp1251), contentType: "application/rss+xml; charset=windows-1251"})
	bad := srv.set("/bad", route{body: []byte(latin1Bytes), contentType: "application/rss+xml; charset=utf-8"})
	store := newFakeStore()
	f := newTestFetcher(t, testConfig(feedsAt(ru, bad)...), store, Options{})
	res, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || r.Outcome != "ok" || r.New != 1 {
			t.Errorf("%s: %+v", r.FeedURL, r)
		}
	}
	if res[0].Title != "Новости" {
		t.Errorf("windows-1251 feed title = %q", res[0].Title)
	}
	arts := store.byTitle()
	if _, ok := arts["Привет, мир"]; !ok {
		t.Errorf("no article titled Привет, мир; have %v", keys(arts))
	}
	var repaired bool
	for title := range arts {
		if strings.HasPrefix(title, "Caf") {
			repaired = utf8.ValidString(title) && strings.Contains(title, "cr")
		}
	}
	if !repaired {
		t.Errorf("invalid UTF-8 item not stored with a repaired title; have %q", keys(arts))
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestNotAFeed(t *testing.T) {
	srv := newFeedServer(t)
	page := srv.set("/blog", route{contentType: "text/html; charset=utf-8", body: []byte(`<!DOCTYPE html>
<html><head><title>Blog</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" href="https://example.com/atom">
<link rel="alternate" hreflang="de" href="/de/">
</head><body><p>Hello</p></body></html>`)})
	bare := srv.set("/bare", route{contentType: "text/html", body: []byte(`<html><head><title>x</title></head><body>nothing</body></html>`)})
	empty := srv.set("/empty", route{contentType: "application/rss+xml"})
	junk := srv.set("/junk", route{contentType: "text/plain", body: []byte("just some words")})

	store := newFakeStore()
	f := newTestFetcher(t, testConfig(feedsAt(page, bare, empty, junk)...), store, Options{})
	res, err := f.FetchNow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		outcome, msg string
		notFeed      bool
	}{
		{"not-a-feed", "fetch " + page + ": not a feed: the page advertises feeds: " + srv.URL + "/feed.xml, https://example.com/atom", true},
		{"not-a-feed", "fetch " + bare + ": not a feed (HTML page with no feed links)", true},
		{"parse-error", "fetch " + empty + ": empty response body", false},
		{"parse-error", "fetch " + junk + ": failed to detect feed type", false},
	}
	for i, w := range want {
		r := res[i]
		if r.Outcome != w.outcome || r.Err == nil || r.Err.Error() != w.msg || errors.Is(r.Err, ErrNotFeed) != w.notFeed {
			t.Errorf("%s: outcome %q, err %v; want %q, %q", r.FeedURL, r.Outcome, r.Err, w.outcome, w.msg)
		}
	}
	if store.saves() != 0 {
		t.Errorf("articles saved from non-feeds")
	}
}

func TestStoreErrors(t *testing.T) {
	srv := newFeedServer(t)
	u := srv.set("/feed", route{body: fetchFixture(t, "livemint-world.rss"), etag: `"e1"`})

	t.Run("save fails", func(t *testing.T) {
		store := newFakeStore()
		store.saveErr = errors.New("disk full")
		f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{})
		r := fetchOne(t, f, u)
		if r.Outcome != "store-error" || r.Err == nil || !strings.Contains(r.Err.Error(), "disk full") {
			t.Fatalf("result = %+v", r)
		}
		st := store.state(t, u)
		if st.ETag != "" || st.BodyHash != "" || st.ConsecutiveFailures != 1 {
			t.Errorf("state after a failed save = %+v: validators must not be kept", st)
		}
	})
	t.Run("state fails", func(t *testing.T) {
		store := newFakeStore()
		store.putErr = errors.New("disk full")
		f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{})
		r := fetchOne(t, f, u)
		if r.Outcome != "store-error" || r.New == 0 || len(store.byTitle()) == 0 {
			t.Fatalf("result = %+v: articles must be saved even when the state is not", r)
		}
	})
}
