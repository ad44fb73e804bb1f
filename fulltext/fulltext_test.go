package fulltext_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary/tributary/fulltext"
)

// page reads a test page.
func page(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtract(t *testing.T) {
	tests := []struct {
		name, file, contentType, pageURL, selector string
		// keep must all be in the result, drop none of them.
		keep, drop []string
	}{
		{
			name: "readability keeps the article, not what surrounds it", file: "news-article.html",
			contentType: "text/html; charset=utf-8", pageURL: "https://courier.example/news/2026/harbour-cranes",
			keep: []string{
				"The first of four container cranes was lifted",
				"Harbour master Ilse Varga said",
				"Not everyone is pleased.",
				`src="https://courier.example/news/2026/images/crane-barge.jpg"`,
				`href="https://courier.example/news/harbour-board-budget"`,
			},
			drop: []string{"NAVIGATION-MENU", "COMMENT-TEXT", "FOOTER-TEXT", "RELATED-LINK", "NEWSLETTER-BOX",
				"TRACKING-SCRIPT", "ADVERTISEMENT", "Accept all cookies", "Post comment"},
		},
		{
			name: "a selector keeps each matching element, decoded from the page's charset", file: "allotment-blog.html",
			contentType: "text/html", pageURL: "http://allotment.example/2026/11/leeks.html", selector: "div.entry-content",
			keep: []string{"café owners in the village", "Second part: the onions failed again.",
				`href="../recipes/leek-soup.html"`},
			drop: []string{"SIDEBAR-ARCHIVE", "ENTRY-META", "FOOTER-TEXT", "Leeks in November"},
		},
		{
			name: "a group selector keeps an element inside another once", file: "news-article.html",
			contentType: "text/html", pageURL: "https://courier.example/a", selector: "article.story, .story-body p",
			keep: []string{"Harbour cranes return to Port Elwin after a decade", "Not everyone is pleased."},
			drop: []string{"COMMENT-TEXT", "FOOTER-TEXT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse(tt.pageURL)
			got, err := fulltext.Extract(page(t, tt.file), tt.contentType, u, tt.selector)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			for _, s := range tt.keep {
				if !strings.Contains(got, s) {
					t.Errorf("the extract lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tt.drop {
				if strings.Contains(got, s) {
					t.Errorf("the extract keeps %q:\n%s", s, got)
				}
			}
			if n := strings.Count(got, "Not everyone is pleased."); n > 1 {
				t.Errorf("a paragraph is kept %d times", n)
			}
		})
	}
}

func TestExtractNoText(t *testing.T) {
	u, _ := url.Parse("https://example.com/")
	for _, tt := range []struct{ name, file, selector string }{
		{"readability on a page without an article", "landing.html", ""},
		{"a selector matching nothing", "news-article.html", "div.no-such-class"},
		{"a selector matching only empty elements", "landing.html", "#app"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fulltext.Extract(page(t, tt.file), "text/html", u, tt.selector)
			if !errors.Is(err, fulltext.ErrNoText) {
				t.Errorf("Extract = %q, %v; want ErrNoText", got, err)
			}
		})
	}
}

func TestExtractInvalidSelector(t *testing.T) {
	u, _ := url.Parse("https://example.com/")
	if _, err := fulltext.Extract(page(t, "landing.html"), "", u, "div >"); err == nil || errors.Is(err, fulltext.ErrNoText) {
		t.Errorf("Extract with an invalid selector: %v, want a selector error", err)
	}
}

// FuzzExtract feeds arbitrary pages to both modes: no panic, and a result
// is either text or an error.
func FuzzExtract(f *testing.F) {
	for _, name := range []string{"news-article.html", "allotment-blog.html", "landing.html"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "text/html", "")
		f.Add(b, "text/html; charset=windows-1252", "div.entry-content, p")
	}
	f.Add([]byte("<p>"+strings.Repeat("<div>", 600)+"deep"), "", "div")
	u, _ := url.Parse("https://example.com/a/b")
	f.Fuzz(func(t *testing.T, page []byte, contentType, selector string) {
		if selector != "" && !validSelector(selector) {
			return
		}
		got, err := fulltext.Extract(page, contentType, u, selector)
		if err == nil && strings.TrimSpace(got) == "" {
			t.Errorf("Extract returned no text and no error")
		}
	})
}

// validSelector reports whether s is one of the selectors the fuzz test
// uses: config admits only valid ones.
func validSelector(s string) bool {
	return s == "div.entry-content, p" || s == "div"
}

// BenchmarkExtract measures the cost of extraction per page.
func BenchmarkExtract(b *testing.B) {
	u, _ := url.Parse("https://courier.example/news/2026/harbour-cranes")
	for _, bm := range []struct{ name, file, selector string }{
		{"readability", "news-article.html", ""},
		{"selector", "news-article.html", "div.story-body"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			p := page(b, bm.file)
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if _, err := fulltext.Extract(p, "text/html", u, bm.selector); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
