package fetcher

import (
	"regexp"
	"slices"
	"strings"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// categorizer files articles into categories. It is built once from the
// configured categories and is read-only afterwards, so safe for concurrent use.
type categorizer struct {
	// names maps the slug of each configured category to its configured name,
	// which wins over any other spelling of the same slug.
	names map[string]string
	// rules are the configured categories that have match regexes.
	rules []categoryRule
	// filters are the include/exclude rules of configured categories, by slug.
	filters map[string]config.Category
}

// categoryRule files an article in slug when any of match finds its text.
type categoryRule struct {
	slug  string
	match []*regexp.Regexp
}

// newCategorizer returns a categorizer for the configured categories.
func newCategorizer(categories []config.Category) categorizer {
	c := categorizer{names: make(map[string]string, len(categories)), filters: make(map[string]config.Category)}
	for _, cat := range categories {
		slug := cat.Slug
		if slug == "" {
			slug = config.Slug(cat.Name)
		}
		if slug == "" || slug == storage.AllSlug {
			continue
		}
		if _, dup := c.names[slug]; !dup {
			c.names[slug] = cat.Name
		}
		if cat.Include != nil || cat.Exclude != nil {
			c.filters[slug] = cat
		}
		if len(cat.Match) > 0 {
			c.rules = append(c.rules, categoryRule{slug: slug, match: cat.Match})
		}
	}
	return c
}

// categorize returns the categories of an article of src, sorted by slug and
// without duplicates: the source's configured categories, the item's own
// categories itemCats when src.SourceCategories is set, and every configured
// category whose match rules find text (title and plain text of the item).
// A slug is named by its configured category when there is one, else by the
// first spelling seen. Names whose slug is empty or "all" are skipped.
// It returns nil when there is no category.
func (c categorizer) categorize(src config.Feed, itemCats []string, text string) []storage.Category {
	found := make(map[string]string)
	add := func(name string) {
		name = collapseSpace(name)
		slug := config.Slug(name)
		if slug == "" || slug == storage.AllSlug {
			return
		}
		if _, ok := found[slug]; ok {
			return
		}
		if declared, ok := c.names[slug]; ok {
			name = declared
		}
		found[slug] = name
	}
	for _, name := range src.Categories {
		add(name)
	}
	if src.SourceCategories {
		for _, name := range itemCats {
			if mapped, ok := src.CategoryMap[config.Slug(collapseSpace(name))]; ok {
				name = mapped
			}
			add(name)
		}
	}
	for _, r := range c.rules {
		if _, ok := found[r.slug]; ok {
			continue
		}
		if slices.ContainsFunc(r.match, func(re *regexp.Regexp) bool { return re.MatchString(text) }) {
			found[r.slug] = c.names[r.slug]
		}
	}
	if len(found) == 0 {
		return nil
	}
	cats := make([]storage.Category, 0, len(found))
	for slug, name := range found {
		cats = append(cats, storage.Category{Slug: slug, Name: name})
	}
	slices.SortFunc(cats, func(a, b storage.Category) int { return strings.Compare(a.Slug, b.Slug) })
	return cats
}
