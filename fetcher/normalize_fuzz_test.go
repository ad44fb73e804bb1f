package fetcher

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// normCorpusDir is the shared feed corpus, present in the project's work
// tree but not in every checkout.
var normCorpusDir = filepath.Join("..", "..", "shared", "corpus")

// normFileTimeout bounds the parse and normalisation of one corpus file.
const normFileTimeout = 20 * time.Second

// normHostileSeeds are small documents aimed at the normaliser's weak spots.
var normHostileSeeds = []string{
	`<rss version="2.0"><channel><title>x</title><item><title>&lt;script&gt;alert(1)&lt;/script&gt;T</title><description>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&lt;a href="javascript:alert(1)"&gt;j&lt;/a&gt;</description></item></channel></rss>`,
	`<rss version="2.0"><channel><item><description><![CDATA[<svg onload=alert(1)><script>x</script><SCRIPT SRC=//evil/x.js></SCRIPT><scr<script>ipt>alert(1)</script><iframe src="data:text/html,<script>alert(1)</script>"></iframe>]]></description></item></channel></rss>`,
	`<rss version="2.0"><channel><item><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[<p><b><i>unclosed<table><td>cell<pre><code>&lt;script&gt;]]></content:encoded><guid>g</guid><guid>g2</guid></item><item><guid>g</guid></item></channel></rss>`,
	`<rss version="2.0"><channel><item><pubDate>Mon, 01 Jan 3000 00:00:00 GMT</pubDate><link>//no-scheme/path</link></item><item><pubDate>not a date</pubDate><link>ftp://x/y</link></item><item><pubDate>Sun, 17 Aug 2025 10:26:19 EDT</pubDate><dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">1990-01-01</dc:date></item></channel></rss>`,
	`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/a/"><id>urn:x</id><entry><id> </id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>bold</b> title</div></title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><a href="b" onclick="x()">b</a><img src="c.png"/></div></content><updated>2000-01-01T00:00:00Z</updated><published>2001-01-01T00:00:00Z</published></entry></feed>`,
	`{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[{"id":"1","content_html":"<script>alert(1)</script><p onmouseover=x>p</p>","tags":["all","","A & B"]},{"content_text":"a < b & c"},null]}`,
	"<rss version=\"2.0\"><channel><item><title>\x01\x02 ctrl</title><description>\u00a0\u200b\ufeff</description><category>\u00e9t\u00e9</category></item></channel></rss>",
}

// normFuzzConfig is the source and the categories FuzzNormalize and the corpus
// walk normalise with: every rule switched on.
func normFuzzConfig() (config.Feed, []config.Category) {
	src := config.Feed{
		URL:              "https://fuzz.example/feed.xml",
		Categories:       []string{"World", "Fuzz Things"},
		SourceCategories: true,
		Exclude:          regexp.MustCompile(`(?i)\bsponsored\b`),
	}
	return src, normCategories()
}

// normCheckArticles returns what breaks the normaliser's promises in res.
func normCheckArticles(res normalized, now time.Time) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := make(map[string]bool)
	for i, a := range res.Articles {
		if !hexID.MatchString(a.ID) {
			bad("article %d: ID %q is not 32 hex digits", i, a.ID)
		}
		if seen[a.ID] {
			bad("article %d: duplicate ID %s", i, a.ID)
		}
		seen[a.ID] = true
		texts := []string{a.GUID, a.Title, a.Link, a.Author, a.Content, a.Summary, a.Source.ID, a.Source.Title, a.Source.Link}
		for _, c := range a.Categories {
			texts = append(texts, c.Slug, c.Name)
		}
		for _, s := range texts {
			if !utf8.ValidString(s) {
				bad("article %d: invalid UTF-8 in %q", i, s)
			}
		}
		if a.Title == "" {
			bad("article %d: empty title", i)
		}
		for _, h := range []string{a.Content, a.Summary} {
			if strings.Contains(strings.ToLower(h), "<script") {
				bad("article %d: <script in %q", i, h)
			}
		}
		if a.Link != "" && !strings.HasPrefix(a.Link, "http://") && !strings.HasPrefix(a.Link, "https://") {
			bad("article %d: link %q is not http(s)", i, a.Link)
		}
		for _, p := range normMediaProblems(a) {
			bad("article %d: %s", i, p)
		}
		if a.Published.After(now) {
			bad("article %d: published %v after now %v", i, a.Published, now)
		}
		if a.Updated.Before(a.Published) {
			bad("article %d: updated %v before published %v", i, a.Updated, a.Published)
		}
		if a.Published.Location() != time.UTC || a.Updated.Location() != time.UTC {
			bad("article %d: times not in UTC", i)
		}
		if !slices.IsSortedFunc(a.Categories, func(x, y storage.Category) int { return strings.Compare(x.Slug, y.Slug) }) {
			bad("article %d: categories not sorted: %v", i, a.Categories)
		}
		for j, c := range a.Categories {
			if c.Slug == "" || c.Slug == storage.AllSlug || (j > 0 && a.Categories[j-1].Slug == c.Slug) {
				bad("article %d: bad category %+v", i, c)
			}
		}
	}
	return problems
}

// normMediaProblems returns what breaks the promises on a's enclosures
// and podcast metadata: http(s) URLs, bounded durations, known values.
func normMediaProblems(a storage.Article) []string {
	var problems []string
	isHTTP := func(u string) bool { return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") }
	for _, e := range a.Enclosures {
		if !isHTTP(e.URL) || e.Length < 0 || e.Duration < 0 || e.Duration > maxDurationSeconds || strings.ContainsAny(e.Type, "<>") {
			problems = append(problems, fmt.Sprintf("bad enclosure %+v", e))
		}
	}
	if p := a.Podcast; p != nil {
		if p.Image != "" && !isHTTP(p.Image) || p.Episode < 0 || p.Season < 0 ||
			!slices.Contains([]string{"", "true", "false"}, p.Explicit) ||
			!slices.Contains([]string{"", "full", "trailer", "bonus"}, p.EpisodeType) {
			problems = append(problems, fmt.Sprintf("bad podcast metadata %+v", *p))
		}
	}
	return problems
}

// normCorpusFiles returns the regular files under dir, sorted; nil when dir
// does not exist.
func normCorpusFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasSuffix(path, "README.md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("walk corpus: %v", err)
	}
	return files
}

// errParserPanic marks a panic inside gofeed itself, not in normalize.
var errParserPanic = errors.New("gofeed panicked")

// normParseSafe parses data with p, turning a panic inside gofeed into an
// error wrapping errParserPanic: gofeed v1.4.2 panics on a JSON Feed with a
// null item or author (mmcdole/gofeed#355, fixed after v1.4.2 by #360).
func normParseSafe(p *gofeed.Parser, data []byte) (feed *gofeed.Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			feed, err = nil, fmt.Errorf("%w: %v", errParserPanic, r)
		}
	}()
	return p.Parse(bytes.NewReader(data))
}

func FuzzNormalize(f *testing.F) {
	for _, name := range []string{"livemint-world.rss", "bloomberg-politics.atom", "perspectives.rss"} {
		f.Add(normFixture(f, name))
	}
	for _, s := range normHostileSeeds {
		f.Add([]byte(s))
	}
	f.Add(podcastFixture(f, "show.rss"))
	if data, err := os.ReadFile(filepath.Join(normCorpusDir, "rss-parser", "itunes-missing-image.rss")); err == nil {
		f.Add(data)
	}
	// A few dozen corpus files when the corpus is there: the sanitiser's
	// hostile cases first, then a spread of the rest.
	files := normCorpusFiles(f, normCorpusDir)
	var seeds []string
	for _, p := range files {
		if strings.Contains(filepath.ToSlash(p), "wellformed/sanitize/") && len(seeds) < 24 {
			seeds = append(seeds, p)
		}
	}
	for i := 0; i < len(files); i += 200 {
		seeds = append(seeds, files[i])
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		if len(data) <= 256<<10 {
			f.Add(data)
		}
	}

	parser := gofeed.NewParser()
	parser.KeepOriginalFeed = true
	src, cats := normFuzzConfig()
	n := newNormalizer(cats)
	base := normURL(f, src.URL)
	f.Fuzz(func(t *testing.T, data []byte) {
		feed, err := normParseSafe(parser, data)
		if err != nil {
			return
		}
		res := n.normalize(feed, src, base, normNow)
		for _, p := range normCheckArticles(res, normNow) {
			t.Error(p)
		}
	})
}

func TestNormalizeCorpus(t *testing.T) {
	if _, err := os.Stat(normCorpusDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus missing under CI: %v", err)
		}
		t.Skipf("no corpus: %v", err)
	}
	if testing.Short() {
		t.Skip("corpus walk skipped in short mode")
	}
	files := normCorpusFiles(t, normCorpusDir)
	parser := gofeed.NewParser()
	parser.KeepOriginalFeed = true
	src, cats := normFuzzConfig()
	n := newNormalizer(cats)
	base := normURL(t, src.URL)

	type outcome struct {
		parseErr    bool
		parserPanic bool
		articles    int
		filtered    int
		problems    []string
	}
	var parsed, parseErrors, parserPanics, articles, filtered int
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		done := make(chan outcome, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- outcome{problems: []string{fmt.Sprintf("panic: %v", r)}}
				}
			}()
			feed, err := normParseSafe(parser, data)
			if err != nil {
				done <- outcome{parseErr: true, parserPanic: errors.Is(err, errParserPanic)}
				return
			}
			res := n.normalize(feed, src, base, normNow)
			done <- outcome{articles: len(res.Articles), filtered: res.Filtered, problems: normCheckArticles(res, normNow)}
		}()
		select {
		case o := <-done:
			for _, p := range o.problems {
				t.Errorf("%s: %s", path, p)
			}
			switch {
			case o.parserPanic:
				parserPanics++
			case o.parseErr:
				parseErrors++
			default:
				parsed++
				articles += o.articles
				filtered += o.filtered
			}
		case <-time.After(normFileTimeout):
			t.Fatalf("%s: no result after %v", path, normFileTimeout)
		}
	}
	t.Logf("corpus: %d files, %d parsed into %d articles (%d filtered), %d parse errors, %d gofeed panics", len(files), parsed, articles, filtered, parseErrors, parserPanics)
}
