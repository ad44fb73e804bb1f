package fetcher

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzTextLines checks that the lines test-rules prints of an extracted
// text hold the same words as plainText, in order, none of them empty.
func FuzzTextLines(f *testing.F) {
	for _, name := range []string{"news-article.html", "allotment-blog.html", "landing.html"} {
		b, err := os.ReadFile(filepath.Join("..", "fulltext", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("a<img src=x>b<br>c<script>d</script>e&amp;f<p>g</p>")
	f.Fuzz(func(t *testing.T, fragment string) {
		lines := textLines(fragment)
		if slices.Contains(lines, "") {
			t.Errorf("textLines(%q) has an empty line: %q", fragment, lines)
		}
		got := strings.Fields(strings.Join(lines, " "))
		if want := strings.Fields(plainText(fragment)); !slices.Equal(got, want) {
			t.Errorf("textLines(%q) words %q, plainText words %q", fragment, got, want)
		}
	})
}
