package feedout

import (
	"github.com/tributary/tributary/feedcheck"

	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.{atom,rss,jsonfeed} files")

// goldenCase is the input of one golden test, testdata/<case>.json.
type goldenCase struct {
	Feed     FeedMeta          `json:"feed"`
	Articles []storage.Article `json:"articles"`
}

// loadCase reads testdata/<name>.json.
func loadCase(t testing.TB, name string) goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return c
}

// render runs WriteAtom into a byte slice.
func render(t testing.TB, feed FeedMeta, articles []storage.Article) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAtom(&buf, feed, articles); err != nil {
		t.Fatalf("WriteAtom: %v", err)
	}
	return buf.Bytes()
}

func TestWriteAtomGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.json cases")
	}
	docs := make(map[string][]byte)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, name)
			got := render(t, c.Feed, c.Articles)
			docs[name] = got
			golden := filepath.Join("testdata", name+".golden.atom")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", golden, diff)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		feedcheck.Atom(t, docs)
	})
}

func TestWriteAtomEntries(t *testing.T) {
	tests := []struct {
		name    string
		check   func(t *testing.T, f feedcheck.Feed)
		fixture string
	}{
		{
			name:    "newest published first",
			fixture: "category",
			check: func(t *testing.T, f feedcheck.Feed) {
				var got []string
				for _, e := range f.Entries {
					got = append(got, e.Published)
				}
				want := []string{"2026-03-01T07:15:00Z", "2026-02-28T09:30:00Z", "2026-02-27T18:00:00Z"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("published order (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "unique ids",
			fixture: "repeated-guid",
			check: func(t *testing.T, f feedcheck.Feed) {
				var got []string
				for _, e := range f.Entries {
					got = append(got, e.ID)
				}
				want := []string{
					"https://shared.example/story/1",
					"urn:tributary:8293a4b5c6d7e8f90a1b2c3d4e5f6071",
					"urn:tributary:93a4b5c6d7e8f90a1b2c3d4e5f607182",
					"urn:tributary:a4b5c6d7e8f90a1b2c3d4e5f60718293",
					"urn:tributary:93a4b5c6d7e8f90a1b2c3d4e5f607182-2",
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "source updated is the newest entry of that source",
			fixture: "same-guid-two-sources",
			check: func(t *testing.T, f feedcheck.Feed) {
				var got []string
				for _, e := range f.Entries {
					got = append(got, e.Source.Title+" "+e.Source.Updated)
				}
				want := []string{
					"Town Hall 2026-02-21T09:00:00Z", // its own edit
					"Sport Daily 2026-02-19T20:00:00Z",
					"Town Hall 2026-02-21T09:00:00Z", // the newer story of its source
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("sources (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "html content escaped once",
			fixture: "html-entities",
			check: func(t *testing.T, f feedcheck.Feed) {
				e := f.Entries[0]
				want := `<p>A &amp; B &lt;tag&gt; &#8212; caf&eacute; <a href="https://example.com/?a=1&amp;b=2">link</a></p>`
				if e.Content == nil || e.Content.Value != want || e.Content.Type != "html" {
					t.Errorf("content = %+v, want type html %q", e.Content, want)
				}
				if e.Summary == nil || e.Summary.Value != "<p>A &amp; B</p>" {
					t.Errorf("summary = %+v", e.Summary)
				}
				if want := `AT&T <b>raises</b> "prices" & 'fees'`; e.Title != want {
					t.Errorf("title = %q, want %q", e.Title, want)
				}
				if want := "https://example.com/a?x=1&y=2"; feedcheck.Alternate(e.Links) != want {
					t.Errorf("link = %q, want %q", feedcheck.Alternate(e.Links), want)
				}
			},
		},
		{
			name:    "no link means content",
			fixture: "no-link",
			check: func(t *testing.T, f feedcheck.Feed) {
				for _, e := range f.Entries {
					if len(e.Links) != 0 || e.Content == nil || e.Summary != nil {
						t.Errorf("entry %s: links %v, content %v, summary %v", e.ID, e.Links, e.Content, e.Summary)
					}
				}
			},
		},
		{
			name:    "control characters stripped",
			fixture: "control-chars",
			check: func(t *testing.T, f feedcheck.Feed) {
				e := f.Entries[0]
				got := []string{f.Title, e.ID, e.Title, e.Authors[0].Name, e.Content.Value, e.Categories[0].Label, e.Source.Title}
				want := []string{
					"Today News: World",
					"https://x.example/a",
					"Bell and NUL and tab\there\nnewline",
					"Esc Author",
					"<p>formfeed backspace, it’s “Windows-1252” read as Latin-1…</p>",
					"World",
					"X",
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("cleaned fields (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "empty category keeps its updated",
			fixture: "empty",
			check: func(t *testing.T, f feedcheck.Feed) {
				if len(f.Entries) != 0 || f.Updated != "2026-01-15T08:00:00Z" {
					t.Errorf("entries %d, updated %s", len(f.Entries), f.Updated)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadCase(t, tt.fixture)
			tt.check(t, feedcheck.Parse(t, render(t, c.Feed, c.Articles)))
		})
	}
}

func TestWriteAtomRawEscaping(t *testing.T) {
	c := loadCase(t, "html-entities")
	got := string(render(t, c.Feed, c.Articles))
	for _, want := range []string{
		`<content type="html">&lt;p&gt;A &amp;amp; B &amp;lt;tag&amp;gt; &amp;#8212; caf&amp;eacute;`,
		`<summary type="html">&lt;p&gt;A &amp;amp; B&lt;/p&gt;</summary>`,
		`<link href="https://example.com/a?x=1&amp;y=2" rel="alternate"></link>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("document lacks %s\n%s", want, got)
		}
	}
}

func TestWriteAtomUpdated(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 2, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		feed     time.Time
		articles []storage.Article
		want     string
		wantErr  bool
	}{
		{name: "given", feed: day(9), articles: []storage.Article{{ID: "a", Published: day(1), Updated: day(2)}}, want: "2026-02-09T00:00:00Z"},
		{name: "newest entry", articles: []storage.Article{{ID: "a", Published: day(1), Updated: day(5)}, {ID: "b", Published: day(3)}}, want: "2026-02-05T00:00:00Z"},
		{name: "updated before published", articles: []storage.Article{{ID: "a", Published: day(4), Updated: day(2)}}, want: "2026-02-04T00:00:00Z"},
		{name: "none", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteAtom(&buf, FeedMeta{ID: "urn:x", Updated: tt.feed}, tt.articles)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("WriteAtom: no error, wrote\n%s", buf.Bytes())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := feedcheck.Parse(t, buf.Bytes()).Updated; got != tt.want {
				t.Errorf("updated = %s, want %s", got, tt.want)
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteAtomWriteError(t *testing.T) {
	c := loadCase(t, "category")
	if err := WriteAtom(failWriter{}, c.Feed, c.Articles); err == nil {
		t.Error("WriteAtom to a failing writer: no error")
	}
}

func TestIsAbsoluteURI(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"https://example.com/a", true},
		{"tag:example.com,2026:1", true},
		{"urn:uuid:6f1c2b3a-1111-4222-8333-944445555666", true},
		{"x-y.z+w:opaque", true},
		{"", false},
		{"12345", false},
		{"/relative/path", false},
		{"example.com/a", false},
		{"urn:", false},
		{":nothing", false},
		{"1abc:x", false},
		{"ht tp://x", false},
		{"http://example.com/a b", false},
		{"http://example.com/\x7f", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := isAbsoluteURI(tt.in); got != tt.want {
				t.Errorf("isAbsoluteURI(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestXMLText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "U.S.–Russia", "U.S.–Russia"},
		{"whitespace kept", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"c0 controls", "a\x00b\x01c\x1fd\x0be", "abcde"},
		// C1 controls are Windows-1252 bytes read as Latin-1: repaired.
		{"c1 as windows-1252", "it\u0092s \u0093quoted\u0094\u0085", "it’s “quoted”…"},
		{"c1 undefined in windows-1252", "a\u0081b\u009dc", "abc"},
		{"nonchars", "a\uFFFEb\uFFFFc", "abc"},
		{"replacement char kept", "a\uFFFDb", "a\uFFFDb"},
		{"invalid utf-8", "a\xffb\xc3", "ab"},
		{"surrogate bytes", "a\xed\xa0\x80b", "ab"},
		{"astral", "😀", "😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := xmlText(tt.in); got != tt.want {
				t.Errorf("xmlText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsXMLChar(t *testing.T) {
	tests := []struct {
		r    rune
		want bool
	}{
		{'\t', true}, {'\n', true}, {'\r', true}, {0x00, false}, {0x1f, false}, {' ', true},
		{0xD7FF, true}, {0xD800, false}, {0xDFFF, false}, {0xE000, true}, {0xFFFD, true},
		{0xFFFE, false}, {0xFFFF, false}, {0x10000, true}, {0x10FFFF, true}, {0x110000, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%U", tt.r), func(t *testing.T) {
			if got := isXMLChar(tt.r); got != tt.want {
				t.Errorf("isXMLChar(%U) = %v, want %v", tt.r, got, tt.want)
			}
		})
	}
}

func FuzzWriteAtom(f *testing.F) {
	f.Add("U.S.–Russia", "<p>A &amp; B</p>", "María Paula Mijares Torres", "https://example.com/a?b=1&c=2", "tag:x,2026:1")
	f.Add("\x00\x1b]]>", "<![CDATA[x]]>", "\xff\xfe", "", "12345")
	f.Add("a\r\nb", "\uFFFE", "", "javascript:alert(1)", "urn:tributary:00")
	f.Fuzz(func(t *testing.T, title, content, author, link, guid string) {
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		a := storage.Article{
			ID: "0123456789abcdef0123456789abcdef", GUID: guid, Title: title, Link: link,
			Published: at, Updated: at, Author: author, Content: content, Summary: title,
			Categories: []storage.Category{{Slug: author, Name: title}},
			Source:     storage.Source{FeedURL: link, ID: guid, Title: author, Link: link},
		}
		var buf bytes.Buffer
		if err := WriteAtom(&buf, FeedMeta{ID: guid, Title: title, SelfURL: link, Author: author}, []storage.Article{a, a}); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, buf.Bytes())
			}
		}
		doc := feedcheck.Parse(t, buf.Bytes())
		if len(doc.Entries) != 2 || doc.Entries[0].ID == doc.Entries[1].ID {
			t.Fatalf("entries %+v: want two with distinct ids", doc.Entries)
		}
		if got, want := doc.Entries[0].Title, xmlText(title); got != want {
			t.Errorf("title round trip: got %q, want %q", got, want)
		}
		if got, want := feedcheck.Alternate(doc.Entries[0].Links), xmlText(link); got != want {
			t.Errorf("link round trip: got %q, want %q", got, want)
		}
	})
}

// benchArticles returns n articles like the category fixture's.
func benchArticles(t testing.TB, n int) []storage.Article {
	t.Helper()
	c := loadCase(t, "category")
	articles := make([]storage.Article, 0, n)
	for i := range n {
		a := c.Articles[i%len(c.Articles)]
		a.ID = fmt.Sprintf("%032x", i)
		a.GUID = fmt.Sprintf("https://example.com/story/%d", i)
		a.Published = a.Published.Add(-time.Duration(i) * time.Minute)
		a.Content = strings.Repeat(a.Content, 20)
		articles = append(articles, a)
	}
	return articles
}

func BenchmarkWriteAtom(b *testing.B) {
	articles := benchArticles(b, 50)
	feed := loadCase(b, "category").Feed
	for b.Loop() {
		if err := WriteAtom(io.Discard, feed, articles); err != nil {
			b.Fatal(err)
		}
	}
}
