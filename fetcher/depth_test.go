package fetcher

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// nestedXML returns an RSS feed with one item holding an extension
// element nested depth deep.
func nestedXML(depth int) []byte {
	return []byte(`<?xml version="1.0"?><rss version="2.0" xmlns:x="urn:x"><channel><title>deep</title><item><title>t</title><link>http://deep.test/1</link>` +
		strings.Repeat("<x:a>", depth) + strings.Repeat("</x:a>", depth) + `</item></channel></rss>`)
}

// nestedJSON returns a JSON Feed whose one item holds an extension array
// nested depth deep.
func nestedJSON(depth int) []byte {
	return []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"deep","items":[{"id":"1","url":"http://deep.test/1","_x":` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}]}`)
}

func TestParseBodyNesting(t *testing.T) {
	// The channel and item take 3 levels of the 256 (rss, channel, item);
	// JSON's item array and object take 2 more after the root object.
	tests := []struct {
		name    string
		body    []byte
		tooDeep bool
	}{
		{"xml at the limit", nestedXML(MaxNesting - 3), false},
		{"xml one deeper", nestedXML(MaxNesting - 2), true},
		{"xml 100,000 deep", nestedXML(100000), true},
		{"json at the limit", nestedJSON(MaxNesting - 3), false},
		{"json one deeper", nestedJSON(MaxNesting - 2), true},
		{"brackets in a JSON string", []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"` + strings.Repeat("[{", 1000) + `","items":[]}`), false},
		{"markup in CDATA", []byte(`<rss version="2.0"><channel><title>t</title><item><description><![CDATA[` + strings.Repeat("<div>", 1000) + `]]></description></item></channel></rss>`), false},
		{"markup in a comment", []byte(`<rss version="2.0"><channel><!--` + strings.Repeat("<a>", 1000) + `--><title>t</title></channel></rss>`), false},
		{"markup in an attribute", []byte(`<rss version="2.0"><channel><title x="` + strings.Repeat("<a>", 1000) + `">t</title></channel></rss>`), false},
		{"stray quote hides nothing", []byte(`<rss version="2.0"><channel><title x'>t</title>` + strings.Repeat("<a>", 300) + `'</channel></rss>`), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseBody(newParser(), tc.body, "", nil)
			if got := errors.Is(err, ErrTooDeep); got != tc.tooDeep {
				t.Errorf("parseBody: error %v; too deep %v, want %v", err, got, tc.tooDeep)
			}
		})
	}
}

// TestParseBodyDeepHTMLIsNotFeed: an HTML page nested deeper than the
// limit is still reported as a page, with the feeds it advertises.
func TestParseBodyDeepHTMLIsNotFeed(t *testing.T) {
	page := []byte(`<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="http://x.test/feed"></head><body>` +
		strings.Repeat("<div>", 1000) + `</body></html>`)
	_, err := parseBody(newParser(), page, "text/html", nil)
	if !errors.Is(err, ErrNotFeed) || !strings.Contains(err.Error(), "http://x.test/feed") {
		t.Errorf("parseBody: %v, want a not-a-feed error naming http://x.test/feed", err)
	}
}

// TestHostileDeepFeed fetches the hostile document of the issue, 900,000
// nested <x:a> elements (9.9 MB, under the default max_body), into a real
// store: the source fails with a parse error naming the limit, and the
// fetch allocates a few times the body, not the gigabyte gofeed takes.
func TestHostileDeepFeed(t *testing.T) {
	body := nestedXML(900000)
	srv := newFeedServer(t)
	u := srv.set("/deep.rss", route{body: body})
	clock := newTestClock()
	store := newTestStore(t, clock.Now)
	f := newTestFetcher(t, testConfig(feedsAt(u)...), store, Options{Now: clock.Now})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := fetchOne(t, f, u)
	runtime.ReadMemStats(&after)
	if r.Outcome != "parse-error" || !errors.Is(r.Err, ErrTooDeep) {
		t.Fatalf("outcome %q, error %v; want parse-error, %v", r.Outcome, r.Err, ErrTooDeep)
	}
	if !strings.Contains(r.Err.Error(), "document nested deeper than 256 elements") {
		t.Errorf("error %q does not name the limit", r.Err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("body %d bytes, allocated %d MiB during the fetch", len(body), alloc>>20)
	if alloc > 8*uint64(len(body)) {
		t.Errorf("the fetch allocated %d MiB for a %d MiB body", alloc>>20, len(body)>>20)
	}
}

// refXMLDepth is the deepest element nesting of b as encoding/xml reads
// it in strict mode; false when it does not read b without error.
func refXMLDepth(b []byte) (int, bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return deepest, true
		}
		if err != nil {
			return 0, false
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			deepest = max(deepest, depth)
		case xml.EndElement:
			depth--
		}
	}
}

// refJSONDepth is the deepest nesting of objects and arrays of b as
// encoding/json reads it; false when b is not valid JSON.
func refJSONDepth(b []byte) (int, bool) {
	if !json.Valid(b) {
		return 0, false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return deepest, true
		}
		if err != nil {
			return 0, false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// checkDepthAgainstReference fails when the scanners and the standard
// decoders disagree on a document both decoders read without error.
func checkDepthAgainstReference(t *testing.T, b []byte) {
	t.Helper()
	const noLimit = 1 << 30
	if want, ok := refXMLDepth(b); ok {
		if got := xmlDepth(b, noLimit); got != want {
			t.Errorf("xmlDepth = %d, encoding/xml reads %d levels", got, want)
		}
	}
	if want, ok := refJSONDepth(b); ok {
		if got := jsonDepth(b, noLimit); got != want {
			t.Errorf("jsonDepth = %d, encoding/json reads %d levels", got, want)
		}
	}
}

// TestCorpusNesting: on every file of the shared corpus that the standard
// decoders read, the scanners find the same depth, and no real feed comes
// near the limit.
func TestCorpusNesting(t *testing.T) {
	files := normCorpusFiles(t, normCorpusDir)
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("corpus missing under CI")
		}
		t.Skip("no corpus")
	}
	deepest := 0
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkDepthAgainstReference(t, b)
		typ := gofeed.DetectFeedType(bytes.NewReader(b[:min(len(b), detectSize)]))
		deepest = max(deepest, nestingDepth(b, typ, MaxNesting))
	}
	t.Logf("%d corpus files, deepest nesting %d", len(files), deepest)
	if deepest > MaxNesting/4 {
		t.Errorf("a corpus file nests %d deep, near the limit %d", deepest, MaxNesting)
	}
}

func FuzzNestingDepth(f *testing.F) {
	f.Add(nestedXML(10))
	f.Add(nestedJSON(10))
	for _, s := range []string{
		`<!DOCTYPE r [<!ENTITY e "<a>"><!-- <b> -->]><r a='>' b="/>"><?p <c>?><![CDATA[<d>]]><e/></r>`,
		`<a><b></b><c/><!----></a>`,
		`{"a":"[{\"","b":[{},[]],"c":"\\"}`,
	} {
		f.Add([]byte(s))
	}
	files := normCorpusFiles(f, normCorpusDir)
	for i := 0; i < len(files); i += 100 {
		b, err := os.ReadFile(files[i])
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDepthAgainstReference(t, b)
		// The limit stops the scan as soon as it is passed.
		if d := xmlDepth(b, 3); d > 4 {
			t.Errorf("xmlDepth with limit 3 = %d", d)
		}
		if d := jsonDepth(b, 3); d > 4 {
			t.Errorf("jsonDepth with limit 3 = %d", d)
		}
	})
}
