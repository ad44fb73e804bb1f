// Package feedout serves the merged feeds over HTTP: one Atom 1.0 document
// per category at /feeds/{slug}.atom ("all" merges every source), plus a
// health check at /healthz.
//
// Documents are rendered by WriteAtom from the articles the Store returns and
// cached per category until the category's stored Updated time or article
// count changes. Responses carry a strong ETag and Last-Modified, answer
// conditional requests with 304 and are gzip-compressed when the client
// accepts it.
package feedout

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tributary/tributary/storage"
)

const (
	// DefaultPageSize is the number of entries per document when
	// Options.PageSize is not positive.
	DefaultPageSize = 50
	// defaultTitle is the aggregate's title when Options.Title is empty.
	defaultTitle = "tributary"
	// atomExt is the file extension of Atom documents.
	atomExt = ".atom"
	// atomContentType is the Content-Type of Atom documents.
	atomContentType = "application/atom+xml; charset=utf-8"
	// cacheControl lets readers and proxies reuse a document for a minute.
	cacheControl = "public, max-age=60"
)

// Store is what feedout needs from storage. Implementations must be safe for
// concurrent use and must return copies that stay valid after the call.
type Store interface {
	Latest(ctx context.Context, slug string, limit int) ([]storage.Article, error)
	Categories(ctx context.Context) ([]storage.CategoryInfo, error)
}

var _ Store = (*storage.Store)(nil)

// PerSourceStore is a Store that can cap the articles of one source in a
// document (Options.MaxPerSource) while walking its index.
type PerSourceStore interface {
	LatestPerSource(ctx context.Context, slug string, limit, maxPerSource int) ([]storage.Article, error)
}

var _ PerSourceStore = (*storage.Store)(nil)

// Options configure the Handler.
type Options struct {
	// Title is the aggregate's title; empty means "tributary".
	Title string
	// BaseURL is the public absolute URL, without trailing slash, for self
	// links and feed ids; a trailing slash is removed.
	BaseURL string
	// PageSize is the number of entries per feed document; not positive
	// means DefaultPageSize.
	PageSize int
	// MaxPerSource caps the entries of one source in a feed document when
	// positive and the Store is a PerSourceStore; otherwise no cap.
	MaxPerSource int
	// Categories are the configured categories: they are served (possibly
	// empty) even before any article is filed in them, and their Name is
	// used in feed titles.
	Categories []storage.Category
	// Health reports whether the daemon is healthy; nil means always.
	Health func(ctx context.Context) error
	// Logger receives request errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. It is read once, in NewHandler:
	// that instant is the updated time of a category that never held an
	// article, so its document stays the same for the handler's lifetime.
	Now func() time.Time
}

// handler serves the feeds; see NewHandler.
type handler struct {
	store      Store
	title      string
	baseURL    string
	pageSize   int
	perSource  int
	configured map[string]storage.Category
	health     func(ctx context.Context) error
	log        *slog.Logger
	started    time.Time
	mux        *http.ServeMux

	mu    sync.Mutex
	cache map[string]*document // by slug
}

// document is one rendered feed, immutable once built.
type document struct {
	version  version
	modified time.Time
	plain    []byte
	plainTag string
	gzipped  []byte
	gzipTag  string
}

// version identifies the stored state of a category a document was rendered
// from.
type version struct {
	updated time.Time
	count   int
}

// equal reports whether v and o are the same stored state.
func (v version) equal(o version) bool {
	return v.updated.Equal(o.updated) && v.count == o.count
}

// NewHandler returns the HTTP handler serving GET (and HEAD) /feeds/{slug}.atom
// and /healthz; other methods on these paths get 405. A slug is served when it
// is "all", a configured category or a category in the store; any other is a
// 404. The handler is safe for concurrent use and caches rendered documents
// for its lifetime; it reads the store on every feed request but renders a
// category again only after its stored Updated time or count changed.
func NewHandler(store Store, opts Options) http.Handler {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pageSize := opts.PageSize
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	h := &handler{
		store:      store,
		title:      cmp.Or(opts.Title, defaultTitle),
		baseURL:    strings.TrimRight(opts.BaseURL, "/"),
		pageSize:   pageSize,
		perSource:  opts.MaxPerSource,
		configured: make(map[string]storage.Category, len(opts.Categories)),
		health:     opts.Health,
		log:        logger,
		started:    now().UTC(),
		mux:        http.NewServeMux(),
		cache:      make(map[string]*document),
	}
	for _, c := range opts.Categories {
		h.configured[c.Slug] = c
	}
	h.mux.HandleFunc("GET /feeds/{file}", h.serveFeed)
	h.mux.HandleFunc("GET /healthz", h.serveHealth)
	return h
}

// ServeHTTP dispatches r to its route.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// serveFeed answers GET /feeds/{slug}.atom.
func (h *handler) serveFeed(w http.ResponseWriter, r *http.Request) {
	slug, ok := strings.CutSuffix(r.PathValue("file"), atomExt)
	if !ok || slug == "" {
		http.Error(w, "feed not found", http.StatusNotFound)
		return
	}
	ctx := r.Context()
	infos, err := h.store.Categories(ctx)
	if err != nil {
		h.fail(ctx, w, "list categories", slug, err)
		return
	}
	cat, ver, ok := h.lookup(slug, infos)
	if !ok {
		http.Error(w, "feed not found", http.StatusNotFound)
		return
	}
	doc, err := h.document(ctx, cat, ver)
	if err != nil {
		h.fail(ctx, w, "render", slug, err)
		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", atomContentType)
	hdr.Set("Cache-Control", cacheControl)
	hdr.Add("Vary", "Accept-Encoding")
	body, etag := doc.plain, doc.plainTag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = doc.gzipped, doc.gzipTag
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", doc.modified, bytes.NewReader(body))
}

// fail answers 500 and logs err of the step op: at Error level, or at Debug
// level when the request was canceled (the client went away).
func (h *handler) fail(ctx context.Context, w http.ResponseWriter, op, slug string, err error) {
	level := slog.LevelError
	if ctx.Err() != nil {
		level = slog.LevelDebug
	}
	h.log.Log(ctx, level, "serve feed failed", slog.String("op", op), slog.String("slug", slug), slog.Any("error", err))
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// lookup finds slug among the served categories and returns it with the
// stored state of its articles (zero when it holds none).
func (h *handler) lookup(slug string, infos []storage.CategoryInfo) (storage.Category, version, bool) {
	cat, ok := h.configured[slug]
	if slug == storage.AllSlug {
		cat, ok = storage.Category{Slug: slug}, true
	}
	for _, info := range infos {
		if info.Slug != slug {
			continue
		}
		if !ok {
			cat, ok = info.Category, true
		}
		return cat, version{updated: info.Updated, count: info.Count}, true
	}
	return cat, version{}, ok
}

// document returns the rendered feed of cat at version ver, from the cache
// when it was rendered at that version.
func (h *handler) document(ctx context.Context, cat storage.Category, ver version) (*document, error) {
	h.mu.Lock()
	doc := h.cache[cat.Slug]
	h.mu.Unlock()
	if doc != nil && doc.version.equal(ver) {
		return doc, nil
	}

	doc, err := h.render(ctx, cat, ver)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.cache[cat.Slug] = doc
	h.mu.Unlock()
	return doc, nil
}

// latest reads the newest articles of the category slug, at most
// h.perSource of one source when that is set and the store can.
func (h *handler) latest(ctx context.Context, slug string) ([]storage.Article, error) {
	if ps, ok := h.store.(PerSourceStore); ok && h.perSource > 0 {
		return ps.LatestPerSource(ctx, slug, h.pageSize, h.perSource)
	}
	return h.store.Latest(ctx, slug, h.pageSize)
}

// render reads the articles of cat and renders its document in both
// encodings.
func (h *handler) render(ctx context.Context, cat storage.Category, ver version) (*document, error) {
	articles, err := h.latest(ctx, cat.Slug)
	if err != nil {
		return nil, fmt.Errorf("latest %s: %w", cat.Slug, err)
	}
	articles = articles[:min(len(articles), h.pageSize)]

	// The feed changed when its newest entry did, or when the category did
	// (an article removed leaves the newest entry as it was); a category that
	// never held an article dates from the handler's start.
	modified := newestUpdated(articles)
	if ver.updated.After(modified) {
		modified = ver.updated
	}
	if modified.IsZero() {
		modified = h.started
	}
	meta := h.feedMeta(cat, modified)

	var plain bytes.Buffer
	if err := WriteAtom(&plain, meta, articles); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(plain.Bytes())
	if err := errors.Join(err, zw.Close()); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", cat.Slug, err)
	}

	sum := sha256.Sum256(plain.Bytes())
	tag := hex.EncodeToString(sum[:16])
	return &document{
		version:  ver,
		modified: modified,
		plain:    plain.Bytes(),
		plainTag: strconv.Quote(tag),
		gzipped:  gz.Bytes(),
		gzipTag:  strconv.Quote(tag + "-gz"),
	}, nil
}

// feedMeta describes the document of cat updated at updated.
func (h *handler) feedMeta(cat storage.Category, updated time.Time) FeedMeta {
	self := h.baseURL + "/feeds/" + cat.Slug + atomExt
	title := h.title
	if cat.Slug != storage.AllSlug {
		title += ": " + cmp.Or(cat.Name, cat.Slug)
	}
	return FeedMeta{
		ID:           self,
		Title:        title,
		SelfURL:      self,
		AlternateURL: h.baseURL + "/",
		Updated:      updated,
		Author:       h.title,
	}
}

// healthBody is the JSON answer of /healthz.
type healthBody struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// serveHealth answers GET /healthz: 200 while Options.Health succeeds, else
// 503 with its error.
func (h *handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	status, body := http.StatusOK, healthBody{Status: "ok"}
	if h.health != nil {
		if err := h.health(r.Context()); err != nil {
			status, body = http.StatusServiceUnavailable, healthBody{Status: "unhealthy", Error: err.Error()}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// A failed write means the client went away: nothing left to tell it.
	_ = json.NewEncoder(w).Encode(body)
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip:
// gzip (or x-gzip) listed with a non-zero quality, or "*" with a non-zero
// quality when gzip is not listed.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		switch name {
		case "gzip", "x-gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}
