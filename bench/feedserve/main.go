// Command feedserve serves one 50-entry category feed for the HTTP load
// benchmark (bench/run.sh): it fills a bbolt store in a temporary directory
// with 50 articles filed in "world", serves the real feedout handler on
// -addr with the daemon's server timeouts until SIGINT or SIGTERM, and
// removes the store on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tributary/tributary/feedout"
	"github.com/tributary/tributary/storage"
)

// entries is the size of the served category.
const entries = 50

func main() {
	addr := flag.String("addr", "127.0.0.1:8931", "loopback address to serve on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "feedserve:", err)
		os.Exit(1)
	}
}

// run fills a temporary store and serves it on addr until ctx is done.
func run(ctx context.Context, addr string) (err error) {
	dir, err := os.MkdirTemp("", "feedserve-")
	if err != nil {
		return fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	store, err := storage.Open(filepath.Join(dir, "tributary.db"), storage.Options{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	if _, err := store.SaveArticles(ctx, articles()); err != nil {
		return err
	}
	world := storage.Category{Slug: "world", Name: "World"}
	h := feedout.NewHandler(store, feedout.Options{
		Title:      "Bench News",
		BaseURL:    "http://" + addr,
		PageSize:   entries,
		Categories: []storage.Category{world},
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "feedserve: serving http://%s/feeds/world.atom\n", addr)
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// articles returns the 50 articles of the feed: realistic sizes, one
// minute apart, from three sources.
func articles() []storage.Article {
	world := storage.Category{Slug: "world", Name: "World"}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]storage.Article, 0, entries)
	for i := range entries {
		at := start.Add(time.Duration(i) * time.Minute)
		src := i % 3
		link := fmt.Sprintf("https://src%d.example/news/2026/03/01/story-%d.html", src, i)
		out = append(out, storage.Article{
			ID:        fmt.Sprintf("%032x", i+1),
			GUID:      link,
			Title:     fmt.Sprintf("Story %d: talks resume as markets & policy makers wait", i),
			Link:      link,
			Published: at,
			Updated:   at,
			Author:    "María Paula Mijares Torres",
			Summary:   fmt.Sprintf("<p>Summary of story %d &amp; what it means.</p>", i),
			Content: fmt.Sprintf("<p>Story %d opens with a paragraph of context about the talks.</p>"+
				"<p>A second paragraph quotes <a href=\"https://src.example/?a=1&amp;b=2\">an official</a> "+
				"and adds figures &#8212; 3%% growth, 2 &lt; 3.</p><p>A closing paragraph.</p>", i),
			Categories: []storage.Category{world},
			Source: storage.Source{
				FeedURL: fmt.Sprintf("https://src%d.example/feed.xml", src),
				ID:      fmt.Sprintf("https://src%d.example/feed.xml", src),
				Title:   fmt.Sprintf("Source %d", src),
				Link:    fmt.Sprintf("https://src%d.example/", src),
			},
			FirstSeen: at,
		})
	}
	return out
}
