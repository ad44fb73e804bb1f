package feedout

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

// htmlContentType is the Content-Type of the HTML pages.
const htmlContentType = "text/html; charset=utf-8"

// excerptLen is the length, in runes, of an entry's text on its category page.
const excerptLen = 280

// parseTemplates parses the index and category page templates. They are
// compiled into the binary, so an error is a programming error.
func parseTemplates() (index, category *template.Template) {
	index = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/index.html")).Lookup("index.html")
	category = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/category.html")).Lookup("category.html")
	return index, category
}

// feedLink is a link to one format of a category's feed.
type feedLink struct {
	Label, URL, MediaType string
	// TypeAttr is the type attribute with its media type: html/template
	// would write the "+" of a plain string as "&#43;", which naive
	// autodiscovery code does not decode. It is built from constants only.
	TypeAttr template.HTMLAttr
}

// categoryView is a category or a view as the HTML pages show it.
type categoryView struct {
	Slug, Name string
	Count      int
	// Order, for a view, says how its entries are chosen and ordered
	// (its Count is not shown); empty for a category.
	Order                   string
	Updated                 time.Time
	UpdatedISO, UpdatedText string
	PageURL                 string
	Feeds                   []feedLink
}

// entryView is an article as its category page shows it.
type entryView struct {
	Title, Link, Author         string
	Source, SourceLink          string
	PublishedISO, PublishedText string
	Excerpt                     string
	// Coverage is the number of distinct sources that carried the story,
	// and Sources their titles, when more than one did.
	Coverage int
	Sources  []string
}

// indexData is the data of the index page.
type indexData struct {
	Title      string
	OPMLURL    string
	Categories []categoryView
}

// categoryData is the data of a category page.
type categoryData struct {
	Title    string
	IndexURL string
	Category categoryView
	Entries  []entryView
}

// listed is one feed of the index page and the OPML list: a category
// (with its stored counts) or a view.
type listed struct {
	info storage.CategoryInfo
	view *config.View
	key  string // the access key of a private feed, carried by its links
}

// listFeeds returns every feed served to a request with access key key:
// "all" first, then the configured and stored categories and the views by
// name, with the categories' stored counts. A private feed is listed only
// when key is its key.
func (h *handler) listFeeds(ctx context.Context, key string) ([]listed, error) {
	infos, err := h.listCategories(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]listed, 0, len(infos)+len(h.viewList))
	for _, info := range infos {
		out = append(out, listed{info: info})
	}
	for i := range h.viewList {
		v := &h.viewList[i]
		out = append(out, listed{info: storage.CategoryInfo{Category: storage.Category{Slug: v.Slug, Name: v.Name}}, view: v})
	}
	slices.SortStableFunc(out[1:], func(a, b listed) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.info.Name), strings.ToLower(b.info.Name)), cmp.Compare(a.info.Slug, b.info.Slug))
	})
	kept := out[:0]
	for _, l := range out {
		if !h.allowed(l.info.Slug, key) {
			continue
		}
		if _, private := h.keys[l.info.Slug]; private {
			l.key = key
		}
		kept = append(kept, l)
	}
	return kept, nil
}

// listCategories returns every served category: "all" first, then the
// configured and stored ones by name, with their stored counts.
func (h *handler) listCategories(ctx context.Context) ([]storage.CategoryInfo, error) {
	infos, err := h.storedCategories(ctx)
	if err != nil {
		return nil, err
	}
	bySlug := make(map[string]storage.CategoryInfo, len(infos)+len(h.configured))
	for slug, c := range h.configured {
		bySlug[slug] = storage.CategoryInfo{Category: c}
	}
	for _, info := range infos {
		if c, ok := h.configured[info.Slug]; ok {
			info.Name = cmp.Or(c.Name, info.Name)
		}
		bySlug[info.Slug] = info
	}
	all := bySlug[storage.AllSlug]
	all.Slug = storage.AllSlug
	all.Name = "All sources"
	delete(bySlug, storage.AllSlug)
	out := []storage.CategoryInfo{all}
	rest := make([]storage.CategoryInfo, 0, len(bySlug))
	for _, info := range bySlug {
		info.Name = cmp.Or(info.Name, info.Slug)
		rest = append(rest, info)
	}
	slices.SortFunc(rest, func(a, b storage.CategoryInfo) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Slug, b.Slug))
	})
	return append(out, rest...), nil
}

// view returns how the pages show l; its links carry l's access key.
func (h *handler) view(l listed) categoryView {
	info := l.info
	v := categoryView{
		Slug:    info.Slug,
		Name:    info.Name,
		Count:   info.Count,
		Updated: info.Updated,
		PageURL: h.baseURL + "/c/" + url.PathEscape(info.Slug) + keyQuery(l.key),
	}
	if l.view != nil {
		v.Order = viewOrder(l.view)
	}
	if !info.Updated.IsZero() {
		v.UpdatedISO, v.UpdatedText = htmlTime(info.Updated)
	}
	for _, f := range formats() {
		v.Feeds = append(v.Feeds, feedLink{
			Label:     formatLabel(f),
			URL:       h.baseURL + "/feeds/" + url.PathEscape(info.Slug) + f.ext + keyQuery(l.key),
			MediaType: f.mediaType,
			TypeAttr:  template.HTMLAttr(`type="` + f.mediaType + `"`),
		})
	}
	return v
}

// viewOrder describes how the view v chooses and orders its entries.
func viewOrder(v *config.View) string {
	parts := []string{"newest first"}
	if v.Sort == config.SortCoverage {
		parts[0] = "most sources first"
	}
	if v.MinSources > 1 {
		parts = append(parts, fmt.Sprintf("stories from at least %d sources", v.MinSources))
	}
	if v.Window > 0 {
		parts = append(parts, "published within "+v.Window.String())
	}
	return strings.Join(parts, " · ")
}

// formatLabel is the name a person knows a format by.
func formatLabel(f format) string {
	switch f.ext {
	case ".rss":
		return "RSS"
	case ".json":
		return "JSON Feed"
	}
	return "Atom"
}

// htmlTime returns t as an RFC 3339 machine time and a readable UTC time.
func htmlTime(t time.Time) (iso, text string) {
	t = t.UTC()
	return t.Format(time.RFC3339), t.Format("2 Jan 2006, 15:04 MST")
}

// serveIndex answers GET /[?key=]: every feed with its count, last
// update and feed links, with autodiscovery links for feed readers.
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	feeds, err := h.listFeeds(ctx, r.URL.Query().Get("key"))
	if err != nil {
		h.fail(ctx, w, "list categories", "", err)
		return
	}
	data := indexData{Title: h.title, OPMLURL: h.baseURL + "/opml" + keyQuery(keyOf(feeds))}
	var modified time.Time
	for _, l := range feeds {
		data.Categories = append(data.Categories, h.view(l))
		if l.info.Updated.After(modified) {
			modified = l.info.Updated
		}
	}
	h.servePage(w, r, h.indexTmpl, data, modified)
}

// keyOf returns the access key the private feeds among feeds were listed
// with; empty when none is private.
func keyOf(feeds []listed) string {
	for _, l := range feeds {
		if l.key != "" {
			return l.key
		}
	}
	return ""
}

// serveCategoryPage answers GET /c/{slug}[?key=]: the newest entries of a
// category, or the first page of a view. An unknown slug, and a private
// one without its key, get the same 404.
func (h *handler) serveCategoryPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug := r.PathValue("slug")
	key := r.URL.Query().Get("key")
	feeds, err := h.listFeeds(ctx, key)
	if err != nil {
		h.fail(ctx, w, "list categories", slug, err)
		return
	}
	i := slices.IndexFunc(feeds, func(l listed) bool { return l.info.Slug == slug })
	if i < 0 {
		http.Error(w, "category not found", http.StatusNotFound)
		return
	}
	infos, err := h.storedCategories(ctx)
	if err != nil {
		h.fail(ctx, w, "list categories", slug, err)
		return
	}
	def, _, _ := h.lookup(slug, infos)
	page, err := h.store.ViewPage(ctx, def.slugs, def.pageQuery(pageRequest{limit: def.pageSize}, h.now()))
	if err != nil {
		h.fail(ctx, w, "page", slug, err)
		return
	}
	data := categoryData{Title: h.title, IndexURL: h.baseURL + "/" + keyQuery(feeds[i].key), Category: h.view(feeds[i])}
	for _, a := range page.Articles {
		data.Entries = append(data.Entries, entryOf(a))
	}
	h.servePage(w, r, h.categoryTmpl, data, feeds[i].info.Updated)
}

// entryOf returns how a category page shows a.
func entryOf(a storage.Article) entryView {
	e := entryView{
		Title:      a.Title,
		Link:       safeHTTPURL(a.Link),
		Author:     a.Author,
		Source:     a.Source.Title,
		SourceLink: safeHTTPURL(config.RedactURL(a.Source.Link)),
		Excerpt:    excerpt(cmp.Or(a.Summary, a.Content), excerptLen),
	}
	e.PublishedISO, e.PublishedText = htmlTime(a.Published)
	if n := storage.Coverage(a); n > 1 {
		e.Coverage = n
		e.Sources = append(e.Sources, cmp.Or(a.Source.Title, config.RedactURL(a.Source.FeedURL)))
		for _, c := range a.Via {
			e.Sources = append(e.Sources, cmp.Or(c.Source.Title, config.RedactURL(c.Source.FeedURL)))
		}
	}
	return e
}

// servePage renders tmpl with data and serves it with a strong ETag and
// the security headers of a page (setPageHeaders).
func (h *handler) servePage(w http.ResponseWriter, r *http.Request, tmpl *template.Template, data any, modified time.Time) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		h.fail(r.Context(), w, "render page", r.URL.Path, fmt.Errorf("template %s: %w", tmpl.Name(), err))
		return
	}
	doc, err := newDocument(version{}, cmp.Or(modified, neverUpdated), buf.Bytes())
	if err != nil {
		h.fail(r.Context(), w, "render page", r.URL.Path, err)
		return
	}
	setPageHeaders(w.Header())
	serveDocument(w, r, doc, htmlContentType)
}

// safeHTTPURL returns s when it is an absolute http(s) URL, else "": the
// pages link only to the web.
func safeHTTPURL(s string) string {
	if isHTTPURL(s) {
		return s
	}
	return ""
}
