package fetcher

import (
	"regexp"
	"slices"
	"testing"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func TestRules(t *testing.T) {
	feed := normRSS(
		`<item><title>Ukraine talks</title><guid>1</guid><link>https://example.com/world/1</link><dc:creator>Jane Roe</dc:creator><category>Politics</category></item>`,
		`<item><title>Cricket</title><guid>2</guid><link>https://example.com/sport/2</link><category>Sport</category></item>`,
		`<item><title>Press release</title><guid>3</guid><link>https://example.com/pr/3</link><dc:creator>PR Desk</dc:creator></item>`,
	)
	re := regexp.MustCompile
	cats := []config.Category{
		{Name: "World", Slug: "world", Include: re(`(?i)ukraine`)},
		{Name: "Sport", Slug: "sport", Exclude: re(`(?i)cricket`)},
	}
	tests := []struct {
		name     string
		src      config.Feed
		wantKept []string
		wantCats map[string][]string
	}{
		{"include on link", config.Feed{Include: re(`/world/|/sport/`)}, []string{"1", "2"}, nil},
		{"exclude on author", config.Feed{Exclude: re(`PR Desk`)}, []string{"1", "2"}, nil},
		{"include on a category", config.Feed{SourceCategories: true, Include: re(`(?m)^Sport$`)}, []string{"2"}, nil},
		{"category_map and category rules", config.Feed{SourceCategories: true, CategoryMap: map[string]string{"politics": "World"}},
			[]string{"1", "2", "3"}, map[string][]string{"1": {"world"}, "2": nil, "3": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.URL = "https://example.com/feed"
			out := newNormalizer(cats).normalize(normParse(t, feed), tt.src, normURL(t, tt.src.URL), normNow)
			var kept []string
			for _, a := range out.Articles {
				kept = append(kept, a.GUID)
				if want, ok := tt.wantCats[a.GUID]; ok {
					var got []string
					for _, c := range a.Categories {
						got = append(got, c.Slug)
					}
					if !slices.Equal(got, want) {
						t.Errorf("item %s categories %v, want %v", a.GUID, got, want)
					}
				}
			}
			if !slices.Equal(kept, tt.wantKept) {
				t.Errorf("kept %v, want %v", kept, tt.wantKept)
			}
		})
	}
}

func TestFeedVerdict(t *testing.T) {
	text := ruleText("Title", "Text", "https://example.com/a", "Jane", []storage.Category{{Slug: "world", Name: "World"}})
	tests := []struct {
		name string
		src  config.Feed
		kept bool
		rule string
	}{
		{"no rules", config.Feed{}, true, "kept: no feed rule drops it"},
		{"include matches", config.Feed{Include: regexp.MustCompile(`Jane`)}, true, "kept: feed include 'Jane' matches"},
		{"include misses", config.Feed{Include: regexp.MustCompile(`Bob`)}, false, "dropped: feed include 'Bob' does not match"},
		{"exclude on category", config.Feed{Exclude: regexp.MustCompile(`(?m)^World$`)}, false, "dropped: feed exclude '(?m)^World$' matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := feedVerdict(tt.src, text)
			if v.Kept != tt.kept || v.Rule != tt.rule {
				t.Errorf("feedVerdict = %t %q, want %t %q", v.Kept, v.Rule, tt.kept, tt.rule)
			}
		})
	}
}
