package fetcher

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	rss, err := os.ReadFile("../testdata/today-news/livemint-world.rss")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/feed.rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(rss)
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><html><head><title>Home</title>
<link rel="alternate" type="application/atom+xml" href="/missing.atom">
<link rel="alternate" type="application/rss+xml" href="feed.rss"></head><body>hi</body></html>`))
	})
	mux.HandleFunc("/bare.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><html><head><title>Nothing</title></head><body>hi</body></html>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fc := testConfig().Fetch

	tests := []struct {
		name    string
		path    string
		want    Probed
		wantErr string
	}{
		{name: "feed", path: "/feed.rss", want: Probed{URL: srv.URL + "/feed.rss", Title: "Mint - World", Items: 2}},
		{name: "page with autodiscovery", path: "/page.html", want: Probed{URL: srv.URL + "/feed.rss", Title: "Mint - World", Items: 2, Discovered: true}},
		{name: "page without feeds", path: "/bare.html", wantErr: "not a feed (HTML page with no feed links)"},
		{name: "404", path: "/nope", wantErr: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Probe(t.Context(), srv.Client(), fc, srv.URL+tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Probe: %v, want error with %q", err, tt.wantErr)
				}
				if tt.name == "page without feeds" && !errors.Is(err, ErrNotFeed) {
					t.Errorf("error %v does not wrap ErrNotFeed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Probe = %+v, want %+v", got, tt.want)
			}
		})
	}
}
