// Package feedout serves the merged feeds over HTTP.
package feedout

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tributary/tributary/storage"
)

// Store is what feedout needs from storage.
type Store interface {
	Latest(ctx context.Context, slug string, limit int) ([]storage.Article, error)
	Categories(ctx context.Context) ([]storage.CategoryInfo, error)
}

var _ Store = (*storage.Store)(nil)

// Options configure the Handler.
type Options struct {
	// Title is the aggregate's title.
	Title string
	// BaseURL is the public URL, without trailing slash, for self links.
	BaseURL string
	// PageSize is the number of entries per feed document.
	PageSize int
	// Categories are the configured categories: they are served (possibly
	// empty) even before any article is filed in them.
	Categories []storage.Category
	// Health reports whether the daemon is healthy; nil means always.
	Health func(ctx context.Context) error
	// Logger receives request errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewHandler returns the HTTP handler serving GET /feeds/{slug}.atom and
// GET /healthz.
func NewHandler(store Store, opts Options) http.Handler { panic("unimplemented") }
