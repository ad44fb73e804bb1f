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

// categoryView is a category as the HTML pages show it.
type categoryView struct {
	Slug, Name              string
	Count                   int
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

// view returns how the pages show info.
func (h *handler) view(info storage.CategoryInfo) categoryView {
	v := categoryView{
		Slug:    info.Slug,
		Name:    info.Name,
		Count:   info.Count,
		Updated: info.Updated,
		PageURL: h.baseURL + "/c/" + url.PathEscape(info.Slug),
	}
	if !info.Updated.IsZero() {
		v.UpdatedISO, v.UpdatedText = htmlTime(info.Updated)
	}
	for _, f := range formats() {
		v.Feeds = append(v.Feeds, feedLink{
			Label:     formatLabel(f),
			URL:       h.baseURL + "/feeds/" + url.PathEscape(info.Slug) + f.ext,
			MediaType: f.mediaType,
			TypeAttr:  template.HTMLAttr(`type="` + f.mediaType + `"`),
		})
	}
	return v
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

// serveIndex answers GET /: every category with its count, last update
// and feed links, with autodiscovery links for feed readers.
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	infos, err := h.listCategories(ctx)
	if err != nil {
		h.fail(ctx, w, "list categories", "", err)
		return
	}
	data := indexData{Title: h.title, OPMLURL: h.baseURL + "/opml"}
	var modified time.Time
	for _, info := range infos {
		data.Categories = append(data.Categories, h.view(info))
		if info.Updated.After(modified) {
			modified = info.Updated
		}
	}
	h.servePage(w, r, h.indexTmpl, data, modified)
}

// serveCategoryPage answers GET /c/{slug}: the category's newest entries.
func (h *handler) serveCategoryPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug := r.PathValue("slug")
	infos, err := h.listCategories(ctx)
	if err != nil {
		h.fail(ctx, w, "list categories", slug, err)
		return
	}
	i := slices.IndexFunc(infos, func(c storage.CategoryInfo) bool { return c.Slug == slug })
	if i < 0 {
		http.Error(w, "category not found", http.StatusNotFound)
		return
	}
	page, err := h.store.Page(ctx, slug, storage.PageQuery{Limit: h.pageSize})
	if err != nil {
		h.fail(ctx, w, "page", slug, err)
		return
	}
	data := categoryData{Title: h.title, IndexURL: h.baseURL + "/", Category: h.view(infos[i])}
	for _, a := range page.Articles {
		e := entryView{
			Title:      a.Title,
			Link:       safeHTTPURL(a.Link),
			Author:     a.Author,
			Source:     a.Source.Title,
			SourceLink: safeHTTPURL(config.RedactURL(a.Source.Link)),
			Excerpt:    excerpt(cmp.Or(a.Summary, a.Content), excerptLen),
		}
		e.PublishedISO, e.PublishedText = htmlTime(a.Published)
		data.Entries = append(data.Entries, e)
	}
	h.servePage(w, r, h.categoryTmpl, data, infos[i].Updated)
}

// servePage renders tmpl with data and serves it with a strong ETag and
// the security headers of a page (setPageHeaders).
func (h *handler) servePage(w http.ResponseWriter, r *http.Request, tmpl *template.Template, data any, modified time.Time) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		h.fail(r.Context(), w, "render page", r.URL.Path, fmt.Errorf("template %s: %w", tmpl.Name(), err))
		return
	}
	doc, err := newDocument(version{}, cmp.Or(modified, h.started), buf.Bytes())
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
