package feedout

import (
	"github.com/tributary/tributary/feedcheck"

	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

// writeFormat renders a case with the writer of the format with extension ext.
func writeFormat(t testing.TB, ext string, feed FeedMeta, articles []storage.Article) []byte {
	t.Helper()
	for _, f := range formats() {
		if f.ext == ext {
			var buf bytes.Buffer
			if err := f.write(&buf, feed, articles); err != nil {
				t.Fatalf("write %s: %v", ext, err)
			}
			return buf.Bytes()
		}
	}
	t.Fatalf("no format %s", ext)
	return nil
}

// caseNames lists the testdata/*.json golden cases.
func caseNames(t *testing.T) []string {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no testdata/*.json cases: %v", err)
	}
	var names []string
	for _, in := range inputs {
		names = append(names, strings.TrimSuffix(filepath.Base(in), ".json"))
	}
	return names
}

// TestWriteRSSAndJSONGolden renders every case as RSS and JSON Feed,
// compares with testdata/<case>.golden.rss and .golden.jsonfeed (rewritten by
// -update) and validates every document.
func TestWriteRSSAndJSONGolden(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{".rss", ".json"} {
		t.Run(ext, func(t *testing.T) {
			// JSON goldens end in .jsonfeed: testdata/*.json are the inputs.
			goldenExt := map[string]string{".rss": ".rss", ".json": ".jsonfeed"}[ext]
			docs := make(map[string][]byte)
			for _, name := range caseNames(t) {
				t.Run(name, func(t *testing.T) {
					c := loadCase(t, name)
					got := writeFormat(t, ext, c.Feed, c.Articles)
					docs[name] = got
					golden := filepath.Join("testdata", name+".golden"+goldenExt)
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
				if ext == ".rss" {
					feedcheck.RSS(t, docs)
				} else {
					feedcheck.JSONFeed(t, docs)
				}
			})
		})
	}
}

// TestFormatsCarryTheSameEntries checks that the three formats of one case
// hold the same entries, in the same order, with the HTML escaped exactly
// once: what a parser reads back is the stored HTML, byte for byte.
func TestFormatsCarryTheSameEntries(t *testing.T) {
	t.Parallel()
	for _, name := range caseNames(t) {
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, name)
			atom := feedcheck.Parse(t, writeFormat(t, atomExt, c.Feed, c.Articles))
			rss := feedcheck.ParseRSS(t, writeFormat(t, ".rss", c.Feed, c.Articles))
			jf := feedcheck.ParseJSONFeed(t, writeFormat(t, ".json", c.Feed, c.Articles))
			byID := map[string]storage.Article{}
			for _, a := range c.Articles {
				byID[a.ID] = a
			}
			if len(atom.Entries) != len(c.Articles) || len(rss.Channel.Items) != len(c.Articles) || len(jf.Items) != len(c.Articles) {
				t.Fatalf("entries: atom %d, rss %d, json %d; want %d", len(atom.Entries), len(rss.Channel.Items), len(jf.Items), len(c.Articles))
			}
			for i, e := range atom.Entries {
				it, ji := rss.Channel.Items[i], jf.Items[i]
				titles := []string{e.Title, it.Title, ji.Title}
				if titles[0] != titles[1] || titles[0] != titles[2] {
					t.Errorf("entry %d titles differ: %q", i, titles)
				}
				links := []string{feedcheck.Alternate(e.Links), it.Link, ji.URL}
				if links[0] != links[1] || links[0] != links[2] {
					t.Errorf("entry %d links differ: %q", i, links)
				}
				// One story, one id: the same in all three formats.
				if ids := []string{e.ID, it.GUID.Value, ji.ID}; ids[0] != ids[1] || ids[0] != ids[2] {
					t.Errorf("entry %d ids differ (atom, rss, json): %q", i, ids)
				}
				// The HTML read back is the article's, unescaped once.
				var content string
				if e.Content != nil && e.Content.Type == textHTML {
					content = e.Content.Value
				}
				// Without content or summary the headline is the text
				// content of Atom and the content_text of JSON Feed.
				if e.Content != nil && e.Content.Type == "text" && (e.Content.Value != e.Title || ji.ContentText == nil || *ji.ContentText != e.Title) {
					t.Errorf("entry %d: atom text content %q, json content_text %v, title %q", i, e.Content.Value, ji.ContentText, e.Title)
				}
				rssHTML := it.Description
				if it.Content != "" {
					rssHTML = it.Content
				}
				jsonHTML := ""
				if ji.ContentHTML != nil {
					jsonHTML = *ji.ContentHTML
				}
				if content != rssHTML || content != jsonHTML {
					t.Errorf("entry %d content differs:\natom %q\nrss  %q\njson %q", i, content, rssHTML, jsonHTML)
				}
				for _, html := range []string{content, rssHTML, jsonHTML} {
					if strings.Contains(html, "&amp;amp;") || strings.ContainsFunc(html, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }) {
						t.Errorf("entry %d: double escaping or control characters in %q", i, html)
					}
				}
			}
		})
	}
}

func TestWriteRSSPermalinkAndSource(t *testing.T) {
	t.Parallel()
	c := loadCase(t, "paged-enclosures")
	rss := feedcheck.ParseRSS(t, writeFormat(t, ".rss", c.Feed, c.Articles))
	it := rss.Channel.Items[0]
	got := []string{it.GUID.Value, it.GUID.IsPermaLink, it.Source.URL, it.Source.Title, it.Creator}
	want := []string{"urn:tributary:c6d7e8f90a1b2c3d4e5f60718293a4b5", "false", "https://pod.example/feed.xml", "The Pod", "Host"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
	var rels []string
	for _, l := range rss.Channel.AtomLinks {
		rels = append(rels, l.Rel)
	}
	if diff := cmp.Diff([]string{"self", "first", "previous", "next"}, rels); diff != "" {
		t.Errorf("atom:link rels (-want +got):\n%s", diff)
	}
	// RSS allows one enclosure: the first (Atom and JSON Feed carry all three).
	if len(it.Enclosures) != 1 || it.Enclosures[0].Length != "12345678" {
		t.Errorf("enclosures = %+v, want the first only", it.Enclosures)
	}
}

// FuzzStoryIDs renders two stories whose GUIDs come from a source as they
// are in all three formats: each story must have one id, the same in every
// format, and the two ids must differ.
func FuzzStoryIDs(f *testing.F) {
	for _, name := range []string{"repeated-guid", "same-guid-two-sources", "paged-enclosures"} {
		c := loadCase(f, name)
		for i := 1; i < len(c.Articles); i++ {
			f.Add(c.Articles[i-1].GUID, c.Articles[i].GUID, uint64(i), uint64(i+1))
		}
	}
	f.Add("1", "1", uint64(7), uint64(7))
	f.Fuzz(func(t *testing.T, guid1, guid2 string, key1, key2 uint64) {
		// Stored ids are 32 hex digits (story.ItemKey).
		id1, id2 := fmt.Sprintf("%032x", key1), fmt.Sprintf("%032x", key2)
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		articles := []storage.Article{
			{ID: id1, GUID: guid1, Title: "One", Link: "https://a.example/1", Published: at, Updated: at},
			{ID: id2, GUID: guid2, Title: "Two", Link: "https://b.example/1", Published: at.Add(-time.Hour), Updated: at},
		}
		feed := FeedMeta{ID: "https://news.example/feeds/all.atom", Title: "T", SelfURL: "https://news.example/feeds/all.atom", AlternateURL: "https://news.example/"}
		atom := feedcheck.Parse(t, writeFormat(t, atomExt, feed, articles))
		rss := feedcheck.ParseRSS(t, writeFormat(t, ".rss", feed, articles))
		jf := feedcheck.ParseJSONFeed(t, writeFormat(t, ".json", feed, articles))
		if len(atom.Entries) != 2 || len(rss.Channel.Items) != 2 || len(jf.Items) != 2 {
			t.Fatalf("entries: atom %d, rss %d, json %d; want 2", len(atom.Entries), len(rss.Channel.Items), len(jf.Items))
		}
		for i, e := range atom.Entries {
			ids := []string{e.ID, rss.Channel.Items[i].GUID.Value, jf.Items[i].ID}
			if ids[0] == "" || ids[0] != ids[1] || ids[0] != ids[2] {
				t.Errorf("entry %d ids (atom, rss, json): %q", i, ids)
			}
			if !isAbsoluteURI(ids[0]) {
				t.Errorf("entry %d id %q is not an absolute URI", i, ids[0])
			}
		}
		if atom.Entries[0].ID == atom.Entries[1].ID {
			t.Errorf("two stories share the id %q", atom.Entries[0].ID)
		}
	})
}

func TestFullTextPublished(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const feedText, fullText = "<p>The feed's summary.</p>", "<p>The whole article, from its page.</p>"
	articles := []storage.Article{{
		ID: fmt.Sprintf("%032x", 1), Title: "Cranes", Link: "https://a.example/1", Published: at, Updated: at,
		Content: feedText, FullText: fullText,
	}}
	feed := FeedMeta{ID: "https://news.example/feeds/all.atom", Title: "T", SelfURL: "https://news.example/feeds/all.atom", AlternateURL: "https://news.example/"}
	atom := feedcheck.Parse(t, writeFormat(t, atomExt, feed, articles))
	rss := feedcheck.ParseRSS(t, writeFormat(t, ".rss", feed, articles))
	jf := feedcheck.ParseJSONFeed(t, writeFormat(t, ".json", feed, articles))
	got := []string{atom.Entries[0].Content.Value, atom.Entries[0].Summary.Value,
		rss.Channel.Items[0].Content, rss.Channel.Items[0].Description,
		*jf.Items[0].ContentHTML, jf.Items[0].Summary}
	want := []string{fullText, feedText, fullText, feedText, fullText, "The feed's summary."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("content and summary in Atom, RSS, JSON Feed (-want +got):\n%s", diff)
	}
}
