package feedout

import (
	"cmp"
	"crypto/subtle"
	"slices"
	"strings"
	"time"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// viewTick is how long the document of a view with a window is kept: the
// window moves with the clock, so its document is rendered again at most
// once per tick even when nothing was stored.
const viewTick = time.Minute

// feedDef is one served feed: "all", a category or a view, with what its
// documents are made from.
type feedDef struct {
	slug, name string
	// slugs are the categories whose indexes the feed walks.
	slugs []string
	// view is the configured view; nil for "all" and categories.
	view               *config.View
	pageSize, maxLimit int
	perSource          int
	// withheld are the private feeds' slugs when d is a public feed that
	// merges categories ("all" or a view): a story filed only in private
	// categories is left out of it.
	withheld map[string]string
}

// cursorLen is the length of the paging cursors of d's documents.
func (d feedDef) cursorLen() int {
	if d.byCoverage() {
		return storage.CoverageCursorLen
	}
	return storage.CursorLen
}

// byCoverage reports whether d is ordered by coverage.
func (d feedDef) byCoverage() bool {
	return d.view != nil && d.view.Sort == config.SortCoverage
}

// categoryDef is the feedDef of the category (or "all") cat.
func (h *handler) categoryDef(cat storage.Category) feedDef {
	return feedDef{
		slug: cat.Slug, name: cat.Name, slugs: []string{cat.Slug},
		pageSize: h.pageSize, maxLimit: h.maxLimit, perSource: h.perSource,
	}
}

// viewDef is the feedDef of the view v.
func viewDef(v *config.View) feedDef {
	slugs := v.Categories
	if len(slugs) == 0 {
		slugs = []string{storage.AllSlug}
	}
	return feedDef{
		slug: v.Slug, name: v.Name, slugs: slugs, view: v,
		pageSize: v.PageSize, maxLimit: max(v.PageSize, maxLimitFloor), perSource: v.MaxPerSource,
	}
}

// pageQuery is the storage query of the page req asks for of d at now.
func (d feedDef) pageQuery(req pageRequest, now time.Time) storage.PageQuery {
	q := storage.PageQuery{
		Limit: req.limit, Before: req.before, After: req.after,
		MaxPerSource: d.perSource, Since: req.since, ByCoverage: d.byCoverage(),
	}
	var keep []func(storage.Article) bool
	if v := d.view; v != nil {
		q.MinSources = v.MinSources
		if v.Window > 0 {
			if start := now.Add(-v.Window); start.After(q.Since) {
				q.Since = start
			}
		}
		if len(v.Sources) > 0 {
			keep = append(keep, carriedBy(v.Sources))
		}
		if v.Include != nil || v.Exclude != nil {
			keep = append(keep, func(a storage.Article) bool {
				text := ruleText(a)
				return (v.Include == nil || v.Include.MatchString(text)) && (v.Exclude == nil || !v.Exclude.MatchString(text))
			})
		}
	}
	if len(req.words) > 0 {
		keep = append(keep, hasWords(req.words))
	}
	if len(d.withheld) > 0 {
		keep = append(keep, filedInPublic(d.withheld))
	}
	if len(keep) > 0 {
		q.Keep = func(a storage.Article) bool {
			for _, k := range keep {
				if !k(a) {
					return false
				}
			}
			return true
		}
	}
	return q
}

// carriedBy returns a filter that keeps the stories any of the sources
// (configured feed URLs) carried: the story's own source or a copy's.
func carriedBy(sources []string) func(storage.Article) bool {
	return func(a storage.Article) bool {
		if slices.Contains(sources, a.Source.FeedURL) {
			return true
		}
		return slices.ContainsFunc(a.Via, func(c storage.Copy) bool { return slices.Contains(sources, c.Source.FeedURL) })
	}
}

// filedInPublic returns a filter that keeps the stories filed in at least
// one category whose slug is not private, or in none: a private category's
// stories stay out of the public feeds that merge categories.
func filedInPublic(private map[string]string) func(storage.Article) bool {
	return func(a storage.Article) bool {
		return len(a.Categories) == 0 || slices.ContainsFunc(a.Categories, func(c storage.Category) bool {
			_, hidden := private[c.Slug]
			return !hidden
		})
	}
}

// ruleText is what a view's include and exclude match, as the rules of
// sources and categories do: the title, text, link, author and category
// names of the story, one per line.
func ruleText(a storage.Article) string {
	parts := []string{a.Title, articleText(a), a.Link, a.Author}
	for _, c := range a.Categories {
		parts = append(parts, c.Name)
	}
	return strings.Join(parts, "\n")
}

// articleText is the plain text of a's content, else of its summary.
func articleText(a storage.Article) string {
	return excerpt(cmp.Or(a.Content, a.Summary), maxMatchText)
}

// maxMatchText bounds, in runes, the text a rule or ?q= is matched against.
const maxMatchText = 1 << 16

// hasWords returns a filter that keeps the articles whose title or text
// holds every word (lower case), ignoring case.
func hasWords(words []string) func(storage.Article) bool {
	return func(a storage.Article) bool {
		text := strings.ToLower(a.Title + "\n" + articleText(a))
		for _, w := range words {
			if !strings.Contains(text, w) {
				return false
			}
		}
		return true
	}
}

// viewVersion returns the stored state a document of the view d depends
// on: that of "all" (every change of the store touches it) and, with a
// window, the current tick of the clock (the window moves with it).
func (h *handler) viewVersion(d feedDef, infos []storage.CategoryInfo) version {
	var ver version
	for _, info := range infos {
		if info.Slug == storage.AllSlug {
			ver = version{updated: info.Updated, count: info.Count}
		}
	}
	if d.view != nil && d.view.Window > 0 {
		ver.tick = h.now().Truncate(viewTick).Unix()
	}
	return ver
}

// allowed reports whether the feed slug may be served to a request with
// the access key key: a public feed always, a private one only with its
// key, compared in constant time.
func (h *handler) allowed(slug, key string) bool {
	want, private := h.keys[slug]
	if !private {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(key), []byte(want)) == 1
}
