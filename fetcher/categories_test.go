package fetcher

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func TestCategorize(t *testing.T) {
	configured := []config.Category{
		// Declared with a hyphen: this spelling names the slug everywhere.
		{Name: "U.S.-Russia Relations", Slug: "u-s-russia-relations", Match: []*regexp.Regexp{regexp.MustCompile(`(?i)\bkremlin\b`)}},
		{Name: "Markets", Slug: "markets", Match: []*regexp.Regexp{regexp.MustCompile(`(?i)\bstocks?\b`), regexp.MustCompile(`(?i)\bbonds?\b`)}},
		{Name: "World"}, // slug derived when config left it empty
	}
	c := newCategorizer(configured)
	tests := []struct {
		name     string
		src      config.Feed
		itemCats []string
		text     string
		want     []storage.Category
	}{
		{name: "nothing", text: "no match here", want: nil},
		{
			name: "source categories as configured",
			src:  config.Feed{Categories: []string{"World", "Business"}},
			want: []storage.Category{{Slug: "business", Name: "Business"}, {Slug: "world", Name: "World"}},
		},
		{
			name:     "item categories ignored without source_categories",
			itemCats: []string{"Politics"},
			want:     nil,
		},
		{
			name:     "item categories: trimmed, deduplicated, empty and all skipped",
			src:      config.Feed{SourceCategories: true},
			itemCats: []string{"  Politics ", "politics", "", "  ", "---", "All", "Foreign Policy & International Relations"},
			want: []storage.Category{
				{Slug: "foreign-policy-international-relations", Name: "Foreign Policy & International Relations"},
				{Slug: "politics", Name: "Politics"},
			},
		},
		{
			name:     "declared name wins over the item's spelling",
			src:      config.Feed{SourceCategories: true},
			itemCats: []string{"U.S.–Russia Relations"},
			want:     []storage.Category{{Slug: "u-s-russia-relations", Name: "U.S.-Russia Relations"}},
		},
		{
			name:     "first spelling seen names an undeclared slug",
			src:      config.Feed{Categories: []string{"Tech News"}, SourceCategories: true},
			itemCats: []string{"tech news", "TECH-NEWS"},
			want:     []storage.Category{{Slug: "tech-news", Name: "Tech News"}},
		},
		{
			name: "match rules, any regex",
			text: "Title: the Kremlin said bonds fell",
			want: []storage.Category{{Slug: "markets", Name: "Markets"}, {Slug: "u-s-russia-relations", Name: "U.S.-Russia Relations"}},
		},
		{
			name:     "union of all three, sorted by slug",
			src:      config.Feed{Categories: []string{"World"}, SourceCategories: true},
			itemCats: []string{"Markets", "Zeta"},
			text:     "stocks and the Kremlin",
			want: []storage.Category{
				{Slug: "markets", Name: "Markets"},
				{Slug: "u-s-russia-relations", Name: "U.S.-Russia Relations"},
				{Slug: "world", Name: "World"},
				{Slug: "zeta", Name: "Zeta"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.categorize(tt.src, tt.itemCats, tt.text)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("categorize (-want +got):\n%s", diff)
			}
		})
	}
}
