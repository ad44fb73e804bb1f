package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/story"
)

func TestSaveAndLatest(t *testing.T) {
	s := openTestStore(t)
	res := save(t, s,
		testArticle("a", hour(8), "world"),
		testArticle("b", hour(10), "business", "world"),
		testArticle("c", hour(12), "business"),
		testArticle("d", hour(9)),
		testArticle("e", time.Time{}, "world"), // no date: published when first seen (now)
	)
	if diff := cmp.Diff(SaveResult{New: 5}, res); diff != "" {
		t.Errorf("SaveArticles (-want +got):\n%s", diff)
	}
	tests := []struct {
		name  string
		slug  string
		limit int
		want  []string
	}{
		{"all", AllSlug, 10, []string{"e", "c", "b", "d", "a"}},
		{"all limited", AllSlug, 2, []string{"e", "c"}},
		{"category", "world", 10, []string{"e", "b", "a"}},
		{"other category", "business", 10, []string{"c", "b"}},
		{"limit one", "world", 1, []string{"e"}},
		{"limit zero", AllSlug, 0, []string{}},
		{"negative limit", AllSlug, -1, []string{}},
		{"unknown slug", "sports", 10, []string{}},
		{"empty slug", "", 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, latest(t, s, tt.slug, tt.limit)); diff != "" {
				t.Errorf("Latest(%q, %d) (-want +got):\n%s", tt.slug, tt.limit, diff)
			}
		})
	}

	want := []CategoryInfo{
		{Category: Category{Slug: AllSlug, Name: AllSlug}, Count: 5, Updated: testNow()},
		{Category: Category{Slug: "business", Name: "BUSINESS"}, Count: 2, Updated: testNow()},
		{Category: Category{Slug: "world", Name: "WORLD"}, Count: 3, Updated: testNow()},
	}
	if diff := cmp.Diff(want, categories(t, s)); diff != "" {
		t.Errorf("Categories (-want +got):\n%s", diff)
	}

	in := testArticle("b", hour(10), "business", "world")
	got, found, err := s.Article(t.Context(), in.ID)
	if err != nil || !found {
		t.Fatalf("Article = found %t, %v", found, err)
	}
	in.FirstSeen = testNow()
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("Article (-want +got):\n%s", diff)
	}
	if _, found, err := s.Article(t.Context(), story.ItemKey(testFeed, "nope", "", "", "")); err != nil || found {
		t.Errorf("Article of unknown id = found %t, %v; want false, nil", found, err)
	}
}

func TestLatestTiesAreDeterministic(t *testing.T) {
	s := openTestStore(t)
	var arts []Article
	for _, name := range []string{"p", "q", "r", "s"} {
		arts = append(arts, testArticle(name, hour(10)))
	}
	save(t, s, arts...)
	slices.SortFunc(arts, func(x, y Article) int { return strings.Compare(y.ID, x.ID) })
	want := guids(arts)
	for range 3 {
		if diff := cmp.Diff(want, latest(t, s, AllSlug, 10)); diff != "" {
			t.Fatalf("Latest with equal Published times, want descending IDs (-want +got):\n%s", diff)
		}
	}
}

func TestCategoriesOfEmptyStore(t *testing.T) {
	s := openTestStore(t)
	want := []CategoryInfo{{Category: Category{Slug: AllSlug, Name: AllSlug}}}
	if diff := cmp.Diff(want, categories(t, s)); diff != "" {
		t.Errorf("Categories (-want +got):\n%s", diff)
	}
}

func TestSaveUnchangedWritesNothing(t *testing.T) {
	s := openTestStore(t)
	arts := []Article{
		testArticle("a", hour(8), "world"),
		testArticle("b", hour(10), "business", "world"),
		testArticle("c", hour(12)),
	}
	save(t, s, arts...)
	before := txID(t, s)

	again := slices.Clone(arts)
	again[0].FirstSeen = hour(13)                                    // not content
	again[1].Published = hour(10).In(time.FixedZone("EDT", -4*3600)) // same instant
	again[2].Categories = []Category{}                               // same as none
	res := save(t, s, again...)
	if diff := cmp.Diff(SaveResult{Unchanged: 3}, res); diff != "" {
		t.Errorf("SaveArticles (-want +got):\n%s", diff)
	}
	if _, err := s.SaveArticles(t.Context(), nil); err != nil {
		t.Errorf("SaveArticles(nil): %v", err)
	}
	if after := txID(t, s); after != before {
		t.Errorf("saving unchanged articles committed: transaction id %d → %d", before, after)
	}
}

func TestSaveEditsInPlace(t *testing.T) {
	base := func() []Article {
		return []Article{
			testArticle("a", hour(8), "business", "world"),
			testArticle("b", hour(10), "world"),
			testArticle("c", hour(12), "business"),
		}
	}
	tests := []struct {
		name   string
		edit   func(a []Article) []Article // returns the articles to save again
		want   SaveResult
		latest map[string][]string
		counts map[string]int
	}{
		{
			name: "title and updated changed",
			edit: func(a []Article) []Article {
				a[0].Title, a[0].Updated = "Story a, corrected", hour(14)
				return a[:1]
			},
			want:   SaveResult{Updated: 1},
			latest: map[string][]string{AllSlug: {"c", "b", "a"}, "world": {"b", "a"}, "business": {"c", "a"}},
			counts: map[string]int{AllSlug: 3, "business": 2, "world": 2},
		},
		{
			name: "published moves the article",
			edit: func(a []Article) []Article {
				a[0].Published, a[0].Updated = hour(13), hour(13)
				return a
			},
			want:   SaveResult{Updated: 1, Unchanged: 2},
			latest: map[string][]string{AllSlug: {"a", "c", "b"}, "world": {"a", "b"}, "business": {"a", "c"}},
			counts: map[string]int{AllSlug: 3, "business": 2, "world": 2},
		},
		{
			name: "category removed",
			edit: func(a []Article) []Article {
				a[0].Categories = a[0].Categories[:1] // business only
				return a[:1]
			},
			want:   SaveResult{Updated: 1},
			latest: map[string][]string{AllSlug: {"c", "b", "a"}, "world": {"b"}, "business": {"c", "a"}},
			counts: map[string]int{AllSlug: 3, "business": 2, "world": 1},
		},
		{
			name: "category emptied",
			edit: func(a []Article) []Article {
				a[0].Categories = a[0].Categories[1:] // world only
				a[2].Categories = nil
				return a
			},
			want:   SaveResult{Updated: 2, Unchanged: 1},
			latest: map[string][]string{AllSlug: {"c", "b", "a"}, "world": {"b", "a"}, "business": {}},
			counts: map[string]int{AllSlug: 3, "world": 2},
		},
		{
			name: "category added while moving",
			edit: func(a []Article) []Article {
				a[1].Categories = []Category{{Slug: "science", Name: "Science"}, a[1].Categories[0]}
				a[1].Published = hour(7)
				return a[1:2]
			},
			want:   SaveResult{Updated: 1},
			latest: map[string][]string{AllSlug: {"c", "a", "b"}, "world": {"a", "b"}, "science": {"b"}},
			counts: map[string]int{AllSlug: 3, "business": 2, "science": 1, "world": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			save(t, s, base()...)
			edited := tt.edit(base())
			for i := range edited {
				edited[i].FirstSeen = hour(23) // must not replace the stored one
			}
			if diff := cmp.Diff(tt.want, save(t, s, edited...)); diff != "" {
				t.Errorf("SaveArticles (-want +got):\n%s", diff)
			}
			for slug, want := range tt.latest {
				if diff := cmp.Diff(want, latest(t, s, slug, 10)); diff != "" {
					t.Errorf("Latest(%q) (-want +got):\n%s", slug, diff)
				}
			}
			counts := make(map[string]int)
			for _, c := range categories(t, s) {
				counts[c.Slug] = c.Count
			}
			if diff := cmp.Diff(tt.counts, counts); diff != "" {
				t.Errorf("category counts (-want +got):\n%s", diff)
			}
			stored := make(map[string]Article)
			for _, a := range base() {
				stored[a.ID] = a
			}
			for _, e := range edited {
				got, _, err := s.Article(t.Context(), e.ID)
				if err != nil {
					t.Fatal(err)
				}
				e.FirstSeen = testNow()
				if !sameContent(e, stored[e.ID]) && !e.Updated.After(stored[e.ID].Updated) {
					e.Updated = testNow() // an edit without a newer date is stamped now
				}
				if diff := cmp.Diff(e, got); diff != "" {
					t.Errorf("stored article (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSaveUnknownTimes(t *testing.T) {
	s := openTestStore(t)
	undated := testArticle("a", time.Time{}, "world")
	undated.Updated = time.Time{}
	undated.FirstSeen = time.Time{}
	if diff := cmp.Diff(SaveResult{New: 1}, save(t, s, undated)); diff != "" {
		t.Fatalf("first save (-want +got):\n%s", diff)
	}
	got, _, err := s.Article(t.Context(), undated.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Published.Equal(testNow()) || !got.Updated.Equal(testNow()) || !got.FirstSeen.Equal(testNow()) {
		t.Fatalf("undated article stored with published %v, updated %v, first seen %v; want all %v",
			got.Published, got.Updated, got.FirstSeen, testNow())
	}

	// The same undated item fetched again later is not an edit.
	if diff := cmp.Diff(SaveResult{Unchanged: 1}, save(t, s, undated)); diff != "" {
		t.Errorf("re-save of undated item (-want +got):\n%s", diff)
	}

	// Its text edited, still without dates: stored in place, stamped now.
	edited := undated
	edited.Content = "<p>corrected</p>"
	if diff := cmp.Diff(SaveResult{Updated: 1}, save(t, s, edited)); diff != "" {
		t.Errorf("edit of undated item (-want +got):\n%s", diff)
	}
	got, _, err = s.Article(t.Context(), undated.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Content != edited.Content || !got.Published.Equal(testNow()) || got.Updated.Before(got.Published) {
		t.Errorf("after edit: content %q, published %v, updated %v", got.Content, got.Published, got.Updated)
	}
	// And the edited item fetched again is unchanged.
	if diff := cmp.Diff(SaveResult{Unchanged: 1}, save(t, s, edited)); diff != "" {
		t.Errorf("re-save after edit (-want +got):\n%s", diff)
	}
}

func TestSaveDuplicateIDsLastWins(t *testing.T) {
	s := openTestStore(t)
	first := testArticle("a", hour(8), "world")
	last := first
	last.Title = "Story a, second copy"
	last.Categories = []Category{{Slug: "business", Name: "BUSINESS"}}
	if diff := cmp.Diff(SaveResult{New: 1}, save(t, s, first, last)); diff != "" {
		t.Errorf("SaveArticles (-want +got):\n%s", diff)
	}
	got, _, err := s.Article(t.Context(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != last.Title {
		t.Errorf("stored title %q, want the last copy's %q", got.Title, last.Title)
	}
	if diff := cmp.Diff([]string{}, latest(t, s, "world", 10)); diff != "" {
		t.Errorf("Latest(world) (-want +got):\n%s", diff)
	}
}

func TestSaveNormalizes(t *testing.T) {
	s := openTestStore(t)
	edt := time.FixedZone("EDT", -4*3600)
	in := testArticle("a", time.Date(2025, 8, 17, 10, 26, 19, 0, edt))
	in.Categories = []Category{{"world", "World"}, {"business", "Business"}, {"world", "World again"}}
	save(t, s, in)
	got, _, err := s.Article(t.Context(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCats := []Category{{"business", "Business"}, {"world", "World"}}
	if diff := cmp.Diff(wantCats, got.Categories); diff != "" {
		t.Errorf("stored categories (-want +got):\n%s", diff)
	}
	if want := time.Date(2025, 8, 17, 14, 26, 19, 0, time.UTC); got.Published != want {
		t.Errorf("stored Published %v, want %v in UTC", got.Published, want)
	}
	if in.Categories[0].Name != "World" || len(in.Categories) != 3 {
		t.Errorf("SaveArticles modified the caller's categories: %v", in.Categories)
	}
}

func TestSaveRejectsInvalid(t *testing.T) {
	valid := testArticle("ok", hour(8), "world")
	tests := []struct {
		name string
		edit func(*Article)
		want string
	}{
		{"empty id", func(a *Article) { a.ID = "" }, "invalid id"},
		{"short id", func(a *Article) { a.ID = a.ID[:30] }, "invalid id"},
		{"upper-case id", func(a *Article) { a.ID = strings.ToUpper(a.ID) }, "invalid id"},
		{"non-hex id", func(a *Article) { a.ID = strings.Repeat("g", 32) }, "invalid id"},
		{"reserved slug", func(a *Article) { a.Categories = []Category{{AllSlug, "All"}} }, `invalid category slug "all"`},
		{"empty slug", func(a *Article) { a.Categories = []Category{{"", "Nameless"}} }, `invalid category slug ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			before := txID(t, s)
			bad := testArticle("bad", hour(9))
			tt.edit(&bad)
			res, err := s.SaveArticles(t.Context(), []Article{valid, bad})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SaveArticles: %v, want an error with %q", err, tt.want)
			}
			if res != (SaveResult{}) {
				t.Errorf("SaveArticles result %+v, want zero", res)
			}
			if after := txID(t, s); after != before {
				t.Errorf("rejected call committed: transaction id %d → %d", before, after)
			}
		})
	}
}

func TestSaveCancelled(t *testing.T) {
	s := openTestStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.SaveArticles(ctx, []Article{testArticle("a", hour(8))}); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveArticles with cancelled ctx: %v, want context.Canceled", err)
	}
	if got := latest(t, s, AllSlug, 10); len(got) != 0 {
		t.Errorf("cancelled save stored %v", got)
	}
}

func TestConcurrentSaveAndLatest(t *testing.T) {
	s := openTestStore(t)
	const writers, perWriter = 8, 40
	slugs := []string{"business", "science", "world"}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Writers overlap: writer w and w+1 share half their articles.
				n := w*perWriter/2 + i
				a := testArticle(fmt.Sprint("n", n), hour(0).Add(time.Duration(n)*time.Minute), slugs[n%len(slugs)])
				if _, err := s.SaveArticles(t.Context(), []Article{a}); err != nil {
					t.Errorf("SaveArticles: %v", err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 50 {
				arts, err := s.Latest(t.Context(), slugs[0], 20)
				if err != nil {
					t.Errorf("Latest: %v", err)
					return
				}
				if !slices.IsSortedFunc(arts, func(x, y Article) int { return y.Published.Compare(x.Published) }) {
					t.Errorf("Latest not newest first: %v", guids(arts))
				}
				if _, err := s.Categories(t.Context()); err != nil {
					t.Errorf("Categories: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 3 {
			if err := s.Check(t.Context()); err != nil {
				t.Errorf("Check during writes: %v", err)
			}
		}
	})
	wg.Wait()
	distinct := (writers-1)*perWriter/2 + perWriter
	if got := len(latest(t, s, AllSlug, 10*distinct)); got != distinct {
		t.Errorf("stored %d articles, want %d", got, distinct)
	}
}

// benchArticles returns n new articles named from start on, across three
// categories.
func benchArticles(start, n int) []Article {
	slugs := []string{"business", "science", "world"}
	arts := make([]Article, n)
	for i := range arts {
		k := start + i
		arts[i] = testArticle(fmt.Sprint("bench-", k), hour(0).Add(time.Duration(k)*time.Second), slugs[k%len(slugs)])
		arts[i].Content = strings.Repeat("<p>Lorem ipsum dolor sit amet.</p>", 60)
	}
	return arts
}

// benchStore opens a store for a benchmark; it is closed at the end.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "tributary.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func BenchmarkSaveArticles(b *testing.B) {
	const batch = 50
	s := benchStore(b)
	next := 0
	for b.Loop() {
		if _, err := s.SaveArticles(b.Context(), benchArticles(next, batch)); err != nil {
			b.Fatal(err)
		}
		next += batch
	}
}

func BenchmarkLatest(b *testing.B) {
	s := benchStore(b)
	for i := 0; i < 10_000; i += 500 {
		if _, err := s.SaveArticles(b.Context(), benchArticles(i, 500)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		arts, err := s.Latest(b.Context(), AllSlug, 50)
		if err != nil || len(arts) != 50 {
			b.Fatalf("Latest = %d articles, %v", len(arts), err)
		}
	}
}
