package storage

import (
	"fmt"
	"testing"
)

func TestSourceArticleCounts(t *testing.T) {
	s := openTestStore(t)
	counts := func() string {
		t.Helper()
		m, err := s.SourceArticleCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(m)
	}
	if got := counts(); got != "map[]" {
		t.Errorf("empty store: %s", got)
	}
	other := "https://other.example/feed"
	fromOther := func(a Article) Article {
		a.Source = Source{FeedURL: other, ID: other, Title: "Other"}
		return a
	}
	a, b := testArticle("a", hour(1), "world"), testArticle("b", hour(2), "world")
	c := fromOther(testArticle("c", hour(3), "tech"))
	steps := []struct {
		name string
		arts []Article
		want string
	}{
		{"first save", []Article{a, b, c}, fmt.Sprintf("map[%s:2 %s:1]", testFeed, other)},
		{"same again", []Article{a, b, c}, fmt.Sprintf("map[%s:2 %s:1]", testFeed, other)},
		{"an edit is not a new article", []Article{func() Article { x := a; x.Title = "edited"; return x }()}, fmt.Sprintf("map[%s:2 %s:1]", testFeed, other)},
		{"source changed", []Article{fromOther(b)}, fmt.Sprintf("map[%s:1 %s:2]", testFeed, other)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			save(t, s, st.arts...)
			if got := counts(); got != st.want {
				t.Errorf("counts = %s, want %s", got, st.want)
			}
		})
	}
}
