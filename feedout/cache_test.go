package feedout

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

// sizedDoc is a document whose plain and gzip bodies count n bytes together.
func sizedDoc(n int) *document {
	return &document{plain: make([]byte, n/2), gzipped: make([]byte, n-n/2)}
}

func TestDocCacheBudget(t *testing.T) {
	t.Parallel()
	type op struct {
		key  string
		pin  bool
		size int // 0: get instead of put
	}
	tests := []struct {
		name      string
		budget    int64
		ops       []op
		wantKept  []string
		wantBytes int64
	}{
		{
			name:   "least recently used archive page goes first",
			budget: 300,
			ops: []op{
				{"a.atom?1", false, 98}, {"a.atom?2", false, 98}, {"a.atom?1", false, 0},
				{"a.atom?3", false, 98},
			},
			wantKept:  []string{"a.atom?1", "a.atom?3"},
			wantBytes: 2 * (98 + 8),
		},
		{
			name:      "pinned pages stay beyond the budget",
			budget:    100,
			ops:       []op{{"a.atom?1", false, 50}, {"a.atom", true, 90}, {"b.atom", true, 90}},
			wantKept:  []string{"a.atom", "b.atom"},
			wantBytes: 2 * (90 + 6),
		},
		{
			name:      "an archive page larger than the budget is not kept",
			budget:    100,
			ops:       []op{{"a.atom?1", false, 50}, {"a.atom?2", false, 101}},
			wantKept:  []string{"a.atom?1"},
			wantBytes: 50 + 8,
		},
		{
			name:      "a replaced page counts once",
			budget:    1000,
			ops:       []op{{"a.atom", true, 100}, {"a.atom", true, 200}, {"a.atom?1", false, 10}, {"a.atom?1", false, 20}},
			wantKept:  []string{"a.atom", "a.atom?1"},
			wantBytes: 200 + 6 + 20 + 8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newDocCache(tt.budget)
			keys := map[string]bool{}
			for _, o := range tt.ops {
				keys[o.key] = true
				if o.size == 0 {
					c.get(o.key)
					continue
				}
				c.put(o.key, o.pin, sizedDoc(o.size))
			}
			var kept []string
			for k := range keys {
				if c.get(k) != nil {
					kept = append(kept, k)
				}
			}
			slices.Sort(kept)
			if diff := cmp.Diff(tt.wantKept, kept); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			if docs, bytes := c.usage(); docs != len(tt.wantKept) || bytes != tt.wantBytes {
				t.Errorf("usage = %d documents, %d bytes; want %d, %d", docs, bytes, len(tt.wantKept), tt.wantBytes)
			}
		})
	}
}

// bigArticles returns n articles of about 12 KB of text each in cat, one
// minute apart.
func bigArticles(n int, cat storage.Category) []storage.Article {
	out := seqArticles(0, n, cat)
	para := "<p>" + strings.Repeat("A long paragraph of a long article, ", 30) + "</p>"
	for i := range out {
		// An opening of its own keeps each article a story of its own
		// (the repeated filler adds few distinct shingles to compare).
		out[i].Content = fmt.Sprintf("<p>Article %d.</p>%s%s", i, distinctText(i, 120), strings.Repeat(para, 11))
	}
	return out
}

// distinctText returns words words of paragraphs drawn by a generator
// seeded with seed, so that the texts of two seeds share no sentences.
func distinctText(seed, words int) string {
	var b strings.Builder
	x := uint32(seed)*2654435761 + 1
	for w := range words {
		if w%60 == 0 {
			b.WriteString("<p>")
		}
		x = x*1664525 + 1013904223
		fmt.Fprintf(&b, "w%s ", strconv.FormatUint(uint64(x>>20), 36))
		if w%60 == 59 {
			b.WriteString("</p>")
		}
	}
	b.WriteString("</p>")
	return b.String()
}

// forged returns a cursor no entry has that selects the page before a,
// as a's own cursor does: a's time with an ID below every stored one
// (IDs are hex digits), varied by salt.
func forged(a storage.Article, salt byte) string {
	c := storage.CursorOf(a)
	c[8], c[9] = 0, salt
	return base64.RawURLEncoding.EncodeToString(c)
}

func TestForgedCursorsShareOneDocument(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t, time.Now)
	world := storage.Category{Slug: "world", Name: "World"}
	arts := bigArticles(100, world)
	saveAll(t, store, arts)
	h := NewHandler(store, Options{BaseURL: "https://news.example.org", PageSize: 10}).(*handler)

	// 300 requests with distinct cursors, all landing on 3 pages.
	anchors := []int{90, 50, 10}
	bodies := map[int]map[string]bool{}
	for i := range 300 {
		n := anchors[i%3]
		rec := serve(h, "GET", "/feeds/world.atom?before="+forged(arts[n], byte(i/3)), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
		if bodies[n] == nil {
			bodies[n] = map[string]bool{}
		}
		bodies[n][rec.Body.String()] = true
	}
	for _, n := range anchors {
		if len(bodies[n]) != 1 {
			t.Errorf("cursors near article %d gave %d different documents, want 1", n, len(bodies[n]))
		}
		// The shared document is the page a paging link asks for.
		canonical := base64.RawURLEncoding.EncodeToString(storage.CursorOf(arts[n]))
		rec := serve(h, "GET", "/feeds/world.atom?before="+canonical, nil)
		if !bodies[n][rec.Body.String()] {
			t.Errorf("the page before article %d differs from the page of a forged cursor", n)
		}
	}
	if docs, _ := h.cache.usage(); docs != len(anchors) {
		t.Errorf("cache holds %d documents after 300 forged cursors on %d pages, want %d", docs, len(anchors), len(anchors))
	}
}

func TestForgedCursorsStayWithinCacheSize(t *testing.T) {
	t.Parallel()
	store := newBoltStore(t, time.Now)
	world := storage.Category{Slug: "world", Name: "World"}
	arts := bigArticles(320, world)
	saveAll(t, store, arts)
	const budget = 2 << 20
	h := NewHandler(store, Options{BaseURL: "https://news.example.org", PageSize: 40, CacheSize: budget}).(*handler)
	newest := serve(h, "GET", "/feeds/world.atom", nil)

	// 300 cursors on 300 distinct pages of up to 40 articles of 12 KB.
	peak := int64(0)
	for i := range 300 {
		rec := serve(h, "GET", "/feeds/world.atom?limit=40&before="+forged(arts[i+20], 0), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
		_, bytes := h.cache.usage()
		peak = max(peak, bytes)
	}
	if peak > budget {
		t.Errorf("cache peaked at %d bytes, budget %d", peak, budget)
	}
	t.Logf("cache peak %d bytes of %d", peak, budget)
	if h.cache.get("world.atom") == nil {
		t.Fatal("the newest page was evicted")
	}
	if rec := serve(h, "GET", "/feeds/world.atom", http.Header{"If-None-Match": {newest.Header().Get("ETag")}}); rec.Code != http.StatusNotModified {
		t.Errorf("newest page after the walk: status %d, want 304", rec.Code)
	}
}

// FuzzForgedCursor asks a feed for the page before or after any 40-byte
// cursor and checks the entries against a plain filter over every stored
// cursor: canonical cursors select exactly what the forged one selects.
func FuzzForgedCursor(f *testing.F) {
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	store := newBoltStore(f, func() time.Time { return clock })
	world := storage.Category{Slug: "world", Name: "World"}
	arts := seqArticles(0, 23, world)
	saveAll(f, store, arts)
	h := NewHandler(store, Options{BaseURL: "https://news.example.org", PageSize: 5})
	slices.SortFunc(arts, func(a, b storage.Article) int {
		return strings.Compare(string(storage.CursorOf(a)), string(storage.CursorOf(b)))
	})
	for _, a := range []storage.Article{arts[0], arts[11], arts[22]} {
		c := storage.CursorOf(a)
		f.Add([]byte(c), true)
		f.Add([]byte(c), false)
		low, _ := stepCursor(c, -1)
		f.Add([]byte(low), true)
	}
	f.Add(make([]byte, storage.CursorLen), true)
	f.Add([]byte(strings.Repeat("\xff", storage.CursorLen)), false)
	f.Fuzz(func(t *testing.T, raw []byte, before bool) {
		c := make([]byte, storage.CursorLen)
		copy(c, raw)
		param := "after"
		if before {
			param = "before"
		}
		rec := serve(h, "GET", "/feeds/world.json?"+param+"="+base64.RawURLEncoding.EncodeToString(c), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var doc struct {
			Items []struct {
				URL string `json:"url"`
			} `json:"items"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range doc.Items {
			got = append(got, it.URL)
		}
		if diff := cmp.Diff(wantPage(arts, c, before, 5), got); diff != "" {
			t.Errorf("%s=%x (-want +got):\n%s", param, c, diff)
		}
	})
}

// wantPage is the page before (or after) cursor c of arts, sorted by
// cursor: the links of the n entries nearest c on that side, newest first.
func wantPage(arts []storage.Article, c []byte, before bool, n int) []string {
	var side []storage.Article
	for _, a := range arts {
		k := string(storage.CursorOf(a))
		if before && k < string(c) || !before && k > string(c) {
			side = append(side, a)
		}
	}
	if before {
		side = side[max(0, len(side)-n):]
	} else {
		side = side[:min(n, len(side))]
	}
	var links []string
	for i := len(side) - 1; i >= 0; i-- {
		links = append(links, side[i].Link)
	}
	return links
}

// TestDocumentHoldsWhatTheCacheCounts checks that a document rendered into
// a growing buffer keeps no spare capacity (a bytes.Buffer doubles as it
// grows): the cache's budget is the memory its documents hold.
func TestDocumentHoldsWhatTheCacheCounts(t *testing.T) {
	var b bytes.Buffer
	line := bytes.Repeat([]byte("<entry>a line of a rendered feed</entry>\n"), 25)
	for b.Len() < 100<<10 {
		b.Write(line)
	}
	doc, err := newDocument(version{}, time.Now(), b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc.plain, b.Bytes()) {
		t.Fatal("the document's body differs from the rendering")
	}
	for name, p := range map[string][]byte{"plain": doc.plain, "gzip": doc.gzipped} {
		if cap(p) > len(p)+len(p)/8+8<<10 {
			t.Errorf("%s: %d bytes hold %d", name, len(p), cap(p))
		}
	}
	if got, want := cost("k", doc), int64(1+cap(doc.plain)+cap(doc.gzipped)); got != want {
		t.Errorf("cost = %d, want %d (the capacity held)", got, want)
	}
}
