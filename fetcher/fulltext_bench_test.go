package fetcher

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tributary/tributary/config"
)

// BenchmarkFullTextPass measures what fulltext adds to a pass: one source
// of 50 new items, each linking to a 3.7 KB article page with navigation,
// comments and footer, fetched from loopback and stored in a real store,
// with fulltext off, with readability and with a selector. Each pass
// brings 50 items never seen before. The per-item cost of full text is
// (fulltext − off) / 50.
func BenchmarkFullTextPass(b *testing.B) {
	page, err := os.ReadFile(filepath.Join("..", "fulltext", "testdata", "news-article.html"))
	if err != nil {
		b.Fatal(err)
	}
	const items = 50
	for _, bm := range []struct {
		name string
		ft   config.FullText
	}{
		{"off", config.FullText{}},
		{"readability", config.FullText{Enabled: true}},
		{"selector", config.FullText{Enabled: true, Selector: "div.story-body"}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			var pass atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc("/page/", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write(page)
			})
			ts := httptest.NewServer(mux)
			b.Cleanup(ts.Close)
			srv := ts.URL
			mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, _ *http.Request) {
				n := pass.Add(1)
				var list []testItem
				for i := range items {
					id := fmt.Sprintf("p%d-i%d", n, i)
					list = append(list, testItem{id, "Story " + strings.ToUpper(id) + " about the harbour number " + id,
						srv + "/page/" + id, "Summary of " + id + "."})
				}
				w.Header().Set("Content-Type", "application/rss+xml")
				fmt.Fprint(w, rssOf("Bench", list...))
			})
			cfg := testConfig(config.Feed{URL: srv + "/feed.xml", FullText: bm.ft})
			f, err := New(cfg, newTestStore(b, nil), Options{})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				res, err := f.FetchNow(b.Context())
				if err != nil || res[0].New != items || res[0].FullText != items*boolInt(bm.ft.Enabled) {
					b.Fatalf("pass: %+v, %v", res, err)
				}
			}
		})
	}
}

// boolInt is 1 for true, 0 for false.
func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
