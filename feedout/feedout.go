// Package feedout serves the merged feeds over HTTP: one document per
// category and format at /feeds/{slug}.atom, .rss and .json ("all" merges
// every source), paged per RFC 5005; an HTML index at / with feed
// autodiscovery, a page of latest entries per category at /c/{slug}, an
// OPML subscription list at /opml and a health check at /healthz.
//
// Documents are rendered from a page of the store's time index and cached
// per (category, format, page) until the category's stored Updated time or
// article count changes, within a byte budget (Options.CacheSize).
// Responses carry a strong ETag and Last-Modified, answer conditional
// requests with 304 and are gzip-compressed (once per change) when the
// client accepts it.
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
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tributary/tributary/config"
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

// neverUpdated is the updated time (Atom updated, RSS lastBuildDate,
// Last-Modified) of a feed or page of a category that never held an
// article: the Unix epoch, the same on every instance and across restarts,
// which every reader we test with accepts.
var neverUpdated = time.Unix(0, 0).UTC()

// Store is what feedout reads from a store, whatever its backend: pages of
// a category's articles, newest first, addressed by storage.Cursor values
// (40 bytes, ordered byte-wise, as Page returns them), the categories with
// their counts, and a version. Implementations must be safe for concurrent
// use and must return copies that stay valid after the call.
type Store interface {
	// ViewPage returns one page of the union of the categories slugs.
	ViewPage(ctx context.Context, slugs []string, q storage.PageQuery) (storage.Page, error)
	Categories(ctx context.Context) ([]storage.CategoryInfo, error)
	// Version changes whenever the store's content changes.
	Version(ctx context.Context) (uint64, error)
}

// Options configure the Handler.
type Options struct {
	// Title is the aggregate's title; empty means "tributary".
	Title string
	// Language is the BCP 47 tag of the articles' language, published in
	// every document (see FeedMeta.Language); empty publishes none.
	Language string
	// BaseURL is the public absolute URL, without trailing slash, for self
	// links and feed ids; a trailing slash is removed.
	BaseURL string
	// PageSize is the number of entries per feed document; not positive
	// means DefaultPageSize.
	PageSize int
	// MaxPerSource, when positive, caps the entries of one source in a feed
	// document (storage.PageQuery.MaxPerSource); otherwise no cap.
	MaxPerSource int
	// CacheSize bounds the bytes of the cached documents, plain and gzip
	// encodings counted; not positive means DefaultCacheSize. The newest
	// page of every category and format is kept even beyond it.
	CacheSize int64
	// Categories are the configured categories: they are served (possibly
	// empty) even before any article is filed in them, and their Name is
	// used in feed titles.
	Categories []storage.Category
	// SourceURLs maps the configured URL of each source to the URL
	// published for it (config.Feed.PublishedURL); a source not in it is
	// published as its URL without secrets (config.RedactURL).
	SourceURLs map[string]string
	// Views are the configured views, served like categories under their
	// slugs; a view's slug must differ from every category's.
	Views []config.View
	// AccessKeys holds the access key (config.AccessKey) of every private
	// category and view by slug: such a feed is served, and listed, only
	// to requests that carry ?key= with its key; to any other it is an
	// unknown slug. Keys never appear in logs.
	AccessKeys map[string]string
	// Hub is the absolute URL of the WebSub hub of every feed, published as
	// a link rel="hub" in each document and, with the self link, in the
	// HTTP Link header of each feed response; empty publishes none.
	Hub string
	// Health reports whether the daemon is healthy; nil means always.
	Health func(ctx context.Context) error
	// Logger receives request errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. It places the windows of
	// views; nothing else served depends on it, so that every instance
	// over one store serves the same documents (a category that never
	// held an article dates from neverUpdated).
	Now func() time.Time
}

// handler serves the feeds; see NewHandler.
type handler struct {
	store      Store
	title      string
	language   string
	baseURL    string
	hub        string
	pageSize   int
	perSource  int
	configured map[string]storage.Category
	sourceURLs map[string]string
	views      map[string]*config.View
	viewList   []config.View
	keys       map[string]string
	health     func(ctx context.Context) error
	log        *slog.Logger
	now        func() time.Time
	mux        *http.ServeMux

	maxLimit int

	indexTmpl, categoryTmpl *template.Template

	cache *docCache // by pageRequest.cacheKey

	mu    sync.Mutex
	infos *storedInfos // the last Categories read
}

// storedInfos is the category listing read at one store version.
type storedInfos struct {
	version uint64
	infos   []storage.CategoryInfo
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
	tick    int64 // for a view with a window: the clock's tick (viewTick)
}

// equal reports whether v and o are the same stored state.
func (v version) equal(o version) bool {
	return v.updated.Equal(o.updated) && v.count == o.count && v.tick == o.tick
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
	cacheSize := opts.CacheSize
	if cacheSize <= 0 {
		cacheSize = DefaultCacheSize
	}
	h := &handler{
		store:      store,
		title:      cmp.Or(opts.Title, defaultTitle),
		language:   opts.Language,
		baseURL:    strings.TrimRight(opts.BaseURL, "/"),
		hub:        opts.Hub,
		pageSize:   pageSize,
		perSource:  opts.MaxPerSource,
		configured: make(map[string]storage.Category, len(opts.Categories)),
		sourceURLs: opts.SourceURLs,
		views:      make(map[string]*config.View, len(opts.Views)),
		viewList:   opts.Views,
		keys:       opts.AccessKeys,
		health:     opts.Health,
		log:        logger,
		now:        now,
		mux:        http.NewServeMux(),
		maxLimit:   max(pageSize, maxLimitFloor),
		cache:      newDocCache(cacheSize),
	}
	for _, c := range opts.Categories {
		h.configured[c.Slug] = c
	}
	for i := range h.viewList {
		h.views[h.viewList[i].Slug] = &h.viewList[i]
	}
	h.indexTmpl, h.categoryTmpl = parseTemplates()
	h.mux.HandleFunc("GET /feeds/{file}", h.serveFeed)
	h.mux.HandleFunc("GET /healthz", h.serveHealth)
	h.mux.HandleFunc("GET /{$}", h.serveIndex)
	h.mux.HandleFunc("GET /c/{slug}", h.serveCategoryPage)
	h.mux.HandleFunc("GET /opml", h.serveOPML)
	h.mux.HandleFunc("GET /", serveNotFound)
	return h
}

// ServeHTTP refuses requests with a body (413: every route is a GET) and
// dispatches the others to their route.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		w.Header().Set("Connection", "close")
		http.Error(w, "request body not allowed", http.StatusRequestEntityTooLarge)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// serveNotFound answers any unknown path with a small text 404.
func serveNotFound(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "not found", http.StatusNotFound)
}

// serveFeed answers GET /feeds/{slug}.{atom,rss,json}[?limit=&before=|after=&since=&q=&key=].
// An unknown slug, and a private one without its key, get the same 404;
// only then is the query checked (a 400 names the parameter at fault).
func (h *handler) serveFeed(w http.ResponseWriter, r *http.Request) {
	slug, f, ok := splitFeedFile(r.PathValue("file"))
	if !ok {
		http.Error(w, "feed not found", http.StatusNotFound)
		return
	}
	ctx := r.Context()
	infos, err := h.storedCategories(ctx)
	if err != nil {
		h.fail(ctx, w, "list categories", slug, err)
		return
	}
	def, ver, ok := h.lookup(slug, infos)
	if !ok || !h.allowed(slug, r.URL.Query().Get("key")) {
		http.Error(w, "feed not found", http.StatusNotFound)
		return
	}
	req, err := parsePageQuery(r.URL.RawQuery, def)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.slug, req.format = slug, f
	if _, private := h.keys[slug]; private {
		req.key = h.keys[slug]
	}
	doc, err := h.document(ctx, def, ver, req)
	if err != nil {
		h.fail(ctx, w, "render", slug, err)
		return
	}
	if h.hub != "" {
		self := req.url(h.baseURL, req.query(req.before, req.after))
		w.Header().Add("Link", "<"+h.hub+">; rel=\"hub\"")
		w.Header().Add("Link", "<"+self+">; rel=\"self\"")
	}
	serveDocument(w, r, doc, f.contentType)
}

// storedCategories returns the store's category listing, read again only
// when the store's version changed: most requests cost one empty read
// transaction. The result is shared and must not be modified.
func (h *handler) storedCategories(ctx context.Context) ([]storage.CategoryInfo, error) {
	v, err := h.store.Version(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	cached := h.infos
	h.mu.Unlock()
	if cached != nil && cached.version == v {
		return cached.infos, nil
	}
	infos, err := h.store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.infos = &storedInfos{version: v, infos: infos}
	h.mu.Unlock()
	return infos, nil
}

// serveDocument writes doc (gzipped when r accepts it) with its validators
// and X-Content-Type-Options: nosniff (a browser must not read a feed that
// carries a source's HTML as a page), answering conditional and HEAD
// requests (see writeBody).
func serveDocument(w http.ResponseWriter, r *http.Request, doc *document, contentType string) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", cacheControl)
	hdr.Add("Vary", "Accept-Encoding")
	body, etag := doc.plain, doc.plainTag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = doc.gzipped, doc.gzipTag
		hdr.Set("Content-Encoding", "gzip")
	}
	writeBody(w, r, etag, doc.modified, body)
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

// lookup finds slug among the served feeds (views, "all" and the
// categories) and returns it with the stored state of its articles (zero
// when it holds none).
func (h *handler) lookup(slug string, infos []storage.CategoryInfo) (feedDef, version, bool) {
	if v, ok := h.views[slug]; ok {
		d := h.withhold(viewDef(v))
		return d, h.viewVersion(d, infos), true
	}
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
		return h.withhold(h.categoryDef(cat)), version{updated: info.Updated, count: info.Count}, true
	}
	return h.withhold(h.categoryDef(cat)), version{}, ok
}

// withhold returns d leaving out the stories filed only in private
// categories when d is public and merges categories ("all" or a view).
func (h *handler) withhold(d feedDef) feedDef {
	if _, private := h.keys[d.slug]; !private && len(h.keys) > 0 && (d.view != nil || d.slug == storage.AllSlug) {
		d.withheld = h.keys
	}
	return d
}

// document returns the document req asks for of cat at version ver, from
// the cache when it was rendered at that version. An archive page is
// looked up, and rendered, under the canonical cursor of its real first
// entry (see handler.canonical), so that the many cursors that select one
// page share one document.
func (h *handler) document(ctx context.Context, def feedDef, ver version, req pageRequest) (*document, error) {
	now := h.now()
	req, err := h.canonical(ctx, def, req, now)
	if err != nil {
		return nil, err
	}
	key := req.cacheKey()
	if doc := h.cache.get(key); doc != nil && doc.version.equal(ver) {
		return doc, nil
	}
	doc, err := h.render(ctx, def, ver, req, now)
	if err != nil {
		return nil, err
	}
	h.cache.put(key, req.newest(), doc)
	return doc, nil
}

// render reads the page req asks for of def at now and renders its
// document in both encodings.
func (h *handler) render(ctx context.Context, def feedDef, ver version, req pageRequest, now time.Time) (*document, error) {
	page, err := h.store.ViewPage(ctx, def.slugs, def.pageQuery(req, now))
	if err != nil {
		return nil, fmt.Errorf("page of %s: %w", def.slug, err)
	}
	articles := publishSources(page.Articles[:min(len(page.Articles), req.limit)], h.sourceURLs)

	// The feed changed when its newest entry did, or when the category did
	// (an article removed leaves the newest entry as it was); a category that
	// never held an article dates from neverUpdated.
	modified := newestUpdated(articles)
	if ver.updated.After(modified) {
		modified = ver.updated
	}
	if modified.IsZero() {
		modified = neverUpdated
	}
	meta := h.feedMeta(def, modified, req, page)

	var plain bytes.Buffer
	if err := req.format.write(&plain, meta, articles); err != nil {
		return nil, err
	}
	return newDocument(ver, modified, plain.Bytes())
}

// newDocument returns the document of body: its gzip encoding, compressed
// once here, and the strong ETags of both. The document keeps copies of
// their exact size: a bytes.Buffer's slice may hold twice its length, which
// the cache would keep unseen.
func newDocument(ver version, modified time.Time, body []byte) (*document, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(body)
	if err := errors.Join(err, zw.Close()); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	return &document{
		version:  ver,
		modified: modified,
		plain:    bytes.Clone(body),
		plainTag: strconv.Quote(tag),
		gzipped:  bytes.Clone(gz.Bytes()),
		gzipTag:  strconv.Quote(tag + "-gz"),
	}, nil
}

// feedMeta describes the document of page of def, updated at updated.
// The feed id is the same for every page and format of a feed (the Atom
// URL of its newest page, without query); the self link is the page's own
// URL, and it, the paging links and the page link carry the access key of
// a private feed.
func (h *handler) feedMeta(def feedDef, updated time.Time, req pageRequest, page storage.Page) FeedMeta {
	first := req.url(h.baseURL, req.query(nil, nil))
	meta := FeedMeta{
		ID:           h.baseURL + "/feeds/" + def.slug + atomExt,
		Title:        h.categoryTitle(storage.Category{Slug: def.slug, Name: def.name}),
		Language:     h.language,
		SelfURL:      req.url(h.baseURL, req.query(req.before, req.after)),
		AlternateURL: h.baseURL + "/c/" + def.slug + keyQuery(req.key),
		Updated:      updated,
		Author:       h.title,
		FirstURL:     first,
		Ranked:       def.byCoverage(),
		HubURL:       h.hub,
	}
	if page.HasOlder && page.Oldest != nil {
		meta.NextURL = req.url(h.baseURL, req.query(page.Oldest, nil))
	}
	if page.HasNewer {
		if page.Newest != nil {
			meta.PreviousURL = req.url(h.baseURL, req.query(nil, page.Newest))
		} else {
			meta.PreviousURL = first
		}
	}
	return meta
}

// categoryTitle is the feed title of cat: the aggregate's title, then the
// category's name unless cat is "all".
func (h *handler) categoryTitle(cat storage.Category) string {
	if cat.Slug == storage.AllSlug {
		return h.title
	}
	return h.title + ": " + cmp.Or(cat.Name, cat.Slug)
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
	w.Header().Set("X-Content-Type-Options", "nosniff")
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
