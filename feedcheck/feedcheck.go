// Package feedcheck validates rendered feed documents the way their readers
// see them. Atom documents (Atom) are checked against the RFC 4287 RELAX NG
// schema and our judge overlay with jing, against the two Schematron rules
// of the schema that jing ignores, and through Debian's python3-feedparser,
// which must read the same ids, titles and links as encoding/xml. RSS
// documents (RSS) are checked against the rules of RSS 2.0 and through
// feedparser. JSON Feed documents (JSONFeed) are checked against JSON Feed
// 1.1 and read back through gofeed: Debian's feedparser 6.0 has no JSON Feed
// parser. It exists for tests.
//
// The external tools are optional on a developer's machine: when jing or
// feedparser is missing the check is skipped, unless the CI environment
// variable is set, where a missing tool fails the test.
package feedcheck

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/text/language"
)

// feedparserPython is the interpreter that has python3-feedparser (Debian);
// the python3 first on PATH may not.
const feedparserPython = "/usr/bin/python3"

// Feed is an Atom document as tests read it back.
type Feed struct {
	XMLName   xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Lang      string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"` // xml:lang
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Updated   string   `xml:"updated"`
	Authors   []Person `xml:"author"`
	Links     []Link   `xml:"link"`
	Generator string   `xml:"generator"`
	Entries   []Entry  `xml:"entry"`
}

// Entry is an atom:entry.
type Entry struct {
	ID         string     `xml:"id"`
	Title      string     `xml:"title"`
	Links      []Link     `xml:"link"`
	Published  string     `xml:"published"`
	Updated    string     `xml:"updated"`
	Authors    []Person   `xml:"author"`
	Categories []Category `xml:"category"`
	Content    *Text      `xml:"content"`
	Summary    *Text      `xml:"summary"`
	Source     *Source    `xml:"source"`
}

// Person is an atom:author.
type Person struct {
	Name string `xml:"name"`
}

// Link is an atom:link.
type Link struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
	// Length is the size in bytes of an enclosure; empty when not given.
	Length string `xml:"length,attr"`
}

// Category is an atom:category.
type Category struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr"`
}

// Text is an atom:content or atom:summary.
type Text struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

// Source is an atom:source.
type Source struct {
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Updated string `xml:"updated"`
	Links   []Link `xml:"link"`
}

// Alternate returns the href of the rel="alternate" (or rel-less) link.
func Alternate(links []Link) string {
	for _, l := range links {
		if l.Rel == "" || l.Rel == "alternate" {
			return l.Href
		}
	}
	return ""
}

// Parse decodes an Atom document, failing the test when it is not
// well-formed or not an atom:feed.
func Parse(t testing.TB, data []byte) Feed {
	t.Helper()
	var f Feed
	if err := xml.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse atom: %v\n%s", err, data)
	}
	return f
}

// checkSchematron checks the two rules of RFC 4287 Appendix B that jing
// ignores: the feed has an author or every entry has one, and every entry
// has an alternate link or a content element. It also checks what the W3C
// Feed Validator warns about: an entry id that repeats within the document
// (readers rely on ids to deduplicate), an entry without textual content
// (a non-blank content or a summary), an atom:source without the id,
// title and updated of its feed (RFC 4287 4.2.11 asks to preserve them)
// or whose id is not an absolute IRI,
// and an xml:lang that is not a well-formed, known BCP 47 tag.
func checkSchematron(t *testing.T, name string, f Feed) {
	t.Helper()
	checkLanguage(t, name, "xml:lang", f.Lang)
	ids := make(map[string]bool, len(f.Entries))
	for i, e := range f.Entries {
		if ids[e.ID] {
			t.Errorf("%s: entry %d: id %q repeats within the document", name, i, e.ID)
		}
		ids[e.ID] = true
		if len(f.Authors) == 0 && len(e.Authors) == 0 {
			t.Errorf("%s: entry %d (%s) has no author and the feed has none", name, i, e.ID)
		}
		if Alternate(e.Links) == "" && e.Content == nil {
			t.Errorf("%s: entry %d (%s) has neither alternate link nor content", name, i, e.ID)
		}
		if (e.Content == nil || strings.TrimSpace(e.Content.Value) == "") && e.Summary == nil {
			t.Errorf("%s: entry %d (%s) has no textual content: neither a non-blank content nor a summary", name, i, e.ID)
		}
		if s := e.Source; s != nil {
			if _, err := time.Parse(time.RFC3339, s.Updated); s.ID == "" || s.Title == "" || err != nil {
				t.Errorf("%s: entry %d (%s): source id %q, title %q, updated %q: all required", name, i, e.ID, s.ID, s.Title, s.Updated)
			}
			if u, err := url.Parse(s.ID); err != nil || !u.IsAbs() {
				t.Errorf("%s: entry %d (%s): source id %q is not an absolute IRI", name, i, e.ID, s.ID)
			}
		}
	}
}

// checkCharacters fails when data holds a C1 control character (U+0080 to
// U+009F): XML 1.0 discourages them and the W3C Feed Validator reports
// them as Windows-1252 text decoded as Latin-1.
func checkCharacters(t *testing.T, name string, data []byte) {
	t.Helper()
	if i := bytes.IndexFunc(data, func(r rune) bool { return 0x80 <= r && r <= 0x9F }); i >= 0 {
		t.Errorf("%s: C1 control character at byte %d: %q", name, i, data[i:min(len(data), i+8)])
	}
}

// checkLanguage fails when lang, the value of what, is set but is not a
// well-formed BCP 47 tag made of registered subtags that names a language
// (not und, not private use only). An empty lang passes: whether a
// language is expected is for the test to say.
func checkLanguage(t *testing.T, name, what, lang string) {
	t.Helper()
	if lang == "" {
		return
	}
	tag, err := language.Parse(lang)
	if err != nil {
		t.Errorf("%s: %s %q: %v", name, what, lang, err)
		return
	}
	if _, conf := tag.Base(); conf != language.Exact {
		t.Errorf("%s: %s %q names no language", name, what, lang)
	}
}

// requireTool skips the test when tool is missing outside CI and fails it
// in CI (the CI environment variable set).
func requireTool(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "" {
		t.Skipf("%s not available: %v", tool, err)
	}
	t.Fatalf("%s not available in CI: %v", tool, err)
	return ""
}

// specDir finds shared/spec by walking up from the working directory.
func specDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "spec")
		if _, err := os.Stat(filepath.Join(candidate, "atom.rnc")); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "" {
		t.Skip("shared/spec/atom.rnc not found above the working directory")
	}
	t.Fatal("shared/spec/atom.rnc not found above the working directory")
	return ""
}

// Atom checks Atom documents against the RFC 4287 schema and our
// judge overlay with jing, the Schematron rules in Go, and reads them with
// python feedparser, which must agree with encoding/xml on ids, titles,
// links and enclosures. docs maps a name to the document.
func Atom(t *testing.T, docs map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	parsed := make(map[string]Feed, len(docs))
	for name, data := range docs {
		f := Parse(t, data)
		checkCharacters(t, name, data)
		checkSchematron(t, name, f)
		parsed[name] = f
		path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".atom")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	t.Run("jing", func(t *testing.T) {
		jing := requireTool(t, "jing")
		spec := specDir(t)
		for _, schema := range []string{"atom.rnc", "atom-judge.rnc"} {
			t.Run(schema, func(t *testing.T) {
				t.Parallel() // jing is a JVM: start both at once
				args := append([]string{"-c", filepath.Join(spec, schema)}, paths...)
				out, err := exec.Command(jing, args...).CombinedOutput()
				if err != nil {
					t.Errorf("jing %s: %v\n%s", schema, err, jingErrors(out))
				}
			})
		}
	})
	t.Run("feedparser", func(t *testing.T) {
		checkFeedparser(t, dir, paths, parsed)
	})
}

// jingErrors drops the harmless warnings of Debian's jing wrapper.
func jingErrors(out []byte) string {
	var keep []string
	for line := range strings.Lines(string(out)) {
		if !strings.Contains(line, "[warning]") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

// feedparserScript prints, for each file argument, what feedparser read.
const feedparserScript = `
import json, sys
import feedparser
out = {}
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    out[path] = {
        "bozo": int(d.bozo),
        "error": str(d.get("bozo_exception", "")),
        "feed": {"id": d.feed.get("id", ""), "title": d.feed.get("title", ""), "link": d.feed.get("link", "")},
        "entries": [{
            "id": e.get("id", ""), "title": e.get("title", ""), "link": e.get("link", ""),
            "enclosures": [{"href": x.get("href", ""), "type": x.get("type", ""), "length": x.get("length", "")} for x in e.get("enclosures", [])],
            "itunes": {
                "duration": e.get("itunes_duration", ""), "episode": e.get("itunes_episode", ""),
                "season": e.get("itunes_season", ""), "episode_type": e.get("itunes_episodetype", ""),
                "image": (e.get("image") or {}).get("href", ""),
            },
        } for e in d.entries],
    }
json.dump(out, sys.stdout)
`

// fpItem is what feedparser reports of a feed or entry.
type fpItem struct {
	ID         string        `json:"id"`
	Title      string        `json:"title"`
	Link       string        `json:"link"`
	Enclosures []fpEnclosure `json:"enclosures"`
	ITunes     fpITunes      `json:"itunes"`
}

// fpEnclosure is an enclosure as feedparser reports it.
type fpEnclosure struct {
	Href   string `json:"href"`
	Type   string `json:"type"`
	Length string `json:"length"`
}

// fpITunes is what feedparser reports of an entry's iTunes podcast tags
// (feedparser 6.0 reads itunes:explicit only as yes/clean, so not ours).
type fpITunes struct {
	Duration    string `json:"duration"`
	Episode     string `json:"episode"`
	Season      string `json:"season"`
	EpisodeType string `json:"episode_type"`
	Image       string `json:"image"`
}

// fpDoc is what feedparser reports of one document.
type fpDoc struct {
	Bozo    int      `json:"bozo"`
	Error   string   `json:"error"`
	Feed    fpItem   `json:"feed"`
	Entries []fpItem `json:"entries"`
}

// requireFeedparser skips the test when python feedparser cannot be
// imported outside CI and fails it in CI.
func requireFeedparser(t *testing.T) {
	t.Helper()
	out, err := exec.Command(feedparserPython, "-c", "import feedparser").CombinedOutput()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "" {
		t.Skipf("python feedparser not available: %v\n%s", err, out)
	}
	t.Fatalf("python feedparser not available in CI: %v\n%s", err, out)
}

// runFeedparser reads paths with python feedparser and returns what it
// read of each, by path.
func runFeedparser(t *testing.T, paths []string) map[string]fpDoc {
	t.Helper()
	requireFeedparser(t)
	cmd := exec.Command(feedparserPython, append([]string{"-c", feedparserScript}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("feedparser: %v\n%s", err, stderr.Bytes())
	}
	var got map[string]fpDoc
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("feedparser output: %v\n%s", err, out)
	}
	return got
}

// atomEnclosures returns the rel="enclosure" links of links as feedparser
// reports them.
func atomEnclosures(links []Link) []fpEnclosure {
	var out []fpEnclosure
	for _, l := range links {
		if l.Rel == "enclosure" {
			out = append(out, fpEnclosure{Href: l.Href, Type: l.Type, Length: l.Length})
		}
	}
	return out
}

// checkFeedparser reads paths with python feedparser and compares with the
// documents as encoding/xml read them.
func checkFeedparser(t *testing.T, dir string, paths []string, parsed map[string]Feed) {
	t.Helper()
	got := runFeedparser(t, paths)
	for name, f := range parsed {
		path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".atom")
		doc := got[path]
		if doc.Bozo != 0 {
			t.Errorf("%s: feedparser bozo: %s", name, doc.Error)
		}
		want := fpDoc{Feed: fpItem{ID: f.ID, Title: f.Title, Link: Alternate(f.Links)}}
		for _, e := range f.Entries {
			// feedparser reads the id as the link of an entry without one.
			link := cmp.Or(Alternate(e.Links), e.ID)
			want.Entries = append(want.Entries, fpItem{ID: e.ID, Title: e.Title, Link: link, Enclosures: atomEnclosures(e.Links)})
		}
		doc.Error = ""
		if diff := gocmp.Diff(want, doc, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: feedparser read (-want +got):\n%s", name, diff)
		}
	}
}
