package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// salvageStories is how many stories the salvage tests store.
const salvageStories = 1200

// fillStore writes a compacted store at path (every page in use) holding
// salvageStories generated stories of three sources, one copy merged
// into story 1 (an alias), story 0 deleted (a tombstone) and a state for
// each source. It returns the stored articles by ID and the states.
func fillStore(t testing.TB, path string) (map[string]Article, []SourceState) {
	t.Helper()
	s, err := Open(path, Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	var arts []Article
	for k := range salvageStories {
		arts = append(arts, benchStory(k, fmt.Sprintf("src%d.example", k%3)))
	}
	arts = append(arts, benchStory(1, "copy.example"))
	for i := 0; i < len(arts); i += 400 {
		if _, err := s.SaveArticles(t.Context(), arts[i:min(i+400, len(arts))]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete(t.Context(), arts[0].ID); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		st := SourceState{FeedURL: fmt.Sprintf("https://src%d.example/rss", i), Title: "Source", ETag: `"e"`,
			LastFetch: hour(12), NextDue: hour(13), Outcome: "ok"}
		if err := s.PutSourceState(t.Context(), st); err != nil {
			t.Fatal(err)
		}
	}
	stored := storedArticles(t, s)
	states, err := s.SourceStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Compact(path, Options{}); err != nil {
		t.Fatal(err)
	}
	return stored, states
}

// storedArticles returns every article of s by ID.
func storedArticles(t testing.TB, s *Store) map[string]Article {
	t.Helper()
	arts, err := s.Latest(t.Context(), AllSlug, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Article{}
	for _, a := range arts {
		out[a.ID] = a
	}
	return out
}

var (
	salvageFixtureOnce sync.Once
	salvageFixture     []byte
	salvageArticles    map[string]Article
	salvageStates      []SourceState
)

// salvageFile returns a fresh copy of the bytes of the fillStore fixture,
// built once per test binary, with its articles and states.
func salvageFile(t testing.TB) ([]byte, map[string]Article, []SourceState) {
	t.Helper()
	salvageFixtureOnce.Do(func() {
		path := filepath.Join(t.TempDir(), "fixture.db")
		salvageArticles, salvageStates = fillStore(t, path)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		salvageFixture = raw
	})
	if salvageFixture == nil {
		t.Fatal("no fixture")
	}
	return append([]byte(nil), salvageFixture...), salvageArticles, salvageStates
}

// pageSizeOf is the page size a bbolt file's first meta page records.
func pageSizeOf(raw []byte) int { return int(binary.NativeEndian.Uint32(raw[pageHeaderLen+8:])) }

// pagesOf lists the pages of raw with the given page flags.
func pagesOf(raw []byte, flags uint16) []int {
	size := pageSizeOf(raw)
	var ids []int
	for id := 2; (id+1)*size <= len(raw); id++ {
		p := raw[id*size:]
		if binary.NativeEndian.Uint64(p) == uint64(id) && binary.NativeEndian.Uint16(p[8:]) == flags {
			ids = append(ids, id)
		}
	}
	return ids
}

// pageEnd is the offset just past page id of raw and its overflow pages.
func pageEnd(raw []byte, id int) int {
	size := pageSizeOf(raw)
	overflow := int(binary.NativeEndian.Uint32(raw[id*size+12:]))
	return min((id+1+overflow)*size, len(raw))
}

// articleLeafPages lists, in file order, the leaf pages of raw that lie
// wholly in raw and hold at least one article.
func articleLeafPages(raw []byte) []int {
	var ids []int
	for _, id := range pagesOf(raw, rawLeafPage) {
		if articlesOnPage(raw, id) > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// articlesOnLeafPages counts the articles on the leaf pages that lie
// wholly in raw: what a salvage of raw can always read.
func articlesOnLeafPages(raw []byte) int {
	n := 0
	for _, id := range pagesOf(raw, rawLeafPage) {
		n += articlesOnPage(raw, id)
	}
	return n
}

// articlesOnPage counts the articles stored on leaf page id of raw, or 0
// when the page with its overflow runs past the end of raw.
func articlesOnPage(raw []byte, id int) int {
	size := pageSizeOf(raw)
	end := pageEnd(raw, id)
	overflow := int(binary.NativeEndian.Uint32(raw[id*size+12:]))
	if end < (id+1+overflow)*size {
		return 0
	}
	els, _, _ := elements(raw[id*size : end])
	n := 0
	for _, e := range els {
		if _, ok := decodeArticle(e.key, e.value); ok && !e.bucket {
			n++
		}
	}
	return n
}

// garble flips the element headers of every step-th page of ids.
func garble(raw []byte, ids []int, step int) []byte {
	size := pageSizeOf(raw)
	for i := 0; i < len(ids); i += step {
		for off := pageHeaderLen; off < 64; off++ {
			raw[ids[i]*size+off] ^= 0xa5
		}
	}
	return raw
}

func TestSalvage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(raw []byte) []byte
		// least is the fewest articles the salvage must recover; leastIn,
		// when set, counts those it must recover in the damaged file
		// (and least is then the fewest that count may be).
		least    int
		leastIn  func(damaged []byte) int
		complete bool // nothing is lost
		// lostStates: source states may be lost (they sit in the lost
		// half of a truncated file); every one salvaged must be intact.
		lostStates bool
	}{
		{name: "intact", damage: func(raw []byte) []byte { return raw }, least: salvageStories - 1, complete: true},
		// bbolt lays a compacted file out in an order that varies from run
		// to run (it spills a bucket's sub-buckets in map order), so the
		// cut is placed after the middle page of articles rather than at a
		// fixed offset, and every article on a kept page must come back.
		{name: "truncated mid-articles", damage: func(raw []byte) []byte {
			pages := articleLeafPages(raw)
			return raw[:pageEnd(raw, pages[len(pages)/2])]
		}, leastIn: articlesOnLeafPages, least: salvageStories / 4, lostStates: true},
		{name: "meta pages flipped", damage: func(raw []byte) []byte {
			size := pageSizeOf(raw)
			raw[pageHeaderLen+20] ^= 0xff
			raw[size+pageHeaderLen+20] ^= 0xff
			return raw
		}, least: salvageStories - 1},
		{name: "branch pages garbled", damage: func(raw []byte) []byte { return garble(raw, pagesOf(raw, rawBranchPage), 1) }, least: salvageStories / 2},
		{name: "leaf pages garbled", damage: func(raw []byte) []byte { return garble(raw, pagesOf(raw, rawLeafPage), 5) }, least: salvageStories / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, want, states := salvageFile(t)
			dir := t.TempDir()
			src, out := filepath.Join(dir, "damaged.db"), filepath.Join(dir, "salvaged.db")
			damaged := tt.damage(raw)
			if err := os.WriteFile(src, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			least := tt.least
			if tt.leastIn != nil {
				if least = tt.leastIn(damaged); least < tt.least {
					t.Fatalf("the damaged file keeps %d whole articles, the test needs at least %d", least, tt.least)
				}
			}
			rep, err := Salvage(t.Context(), src, out)
			if err != nil {
				t.Fatalf("Salvage: %v (report %+v)", err, rep)
			}
			t.Logf("recovered %d of %d articles, %d sources; %d problems", rep.Articles, len(want), rep.Sources, rep.LostCount)
			if (rep.LostCount == 0) != tt.complete || rep.Articles < least {
				t.Errorf("report %+v: want at least %d articles, complete %v", rep, least, tt.complete)
			}
			s := openTestFile(t, out) // its cleanup runs Check
			got := storedArticles(t, s)
			if len(got) != rep.Articles {
				t.Errorf("store holds %d articles, the report says %d", len(got), rep.Articles)
			}
			for id, a := range got {
				if diff := cmp.Diff(want[id], a); diff != "" {
					t.Errorf("article %s differs from the stored one (-stored +salvaged):\n%s", id, diff)
				}
			}
			gotStates, err := s.SourceStates(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if tt.lostStates {
				states = slices.DeleteFunc(slices.Clone(states), func(st SourceState) bool {
					return !slices.ContainsFunc(gotStates, func(g SourceState) bool { return g.FeedURL == st.FeedURL })
				})
			}
			if diff := cmp.Diff(states, gotStates, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("source states (-stored +salvaged):\n%s", diff)
			}
			// The deleted story stays deleted; the merged copy stays merged.
			deleted, copied := benchStory(0, "src0.example"), benchStory(1, "copy.example")
			res, err := s.SaveArticles(t.Context(), []Article{deleted, copied})
			if err != nil {
				t.Fatal(err)
			}
			if tt.complete && (res.Suppressed != 1 || res.New != 0) {
				t.Errorf("saving the deleted story and the merged copy again: %+v, want 1 suppressed, none new", res)
			}
		})
	}
}

func TestSalvageRefuses(t *testing.T) {
	raw, _, _ := salvageFile(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "tributary.db")
	if err := os.WriteFile(src, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	exists := filepath.Join(dir, "exists.db")
	if err := os.WriteFile(exists, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Salvage(t.Context(), src, exists); !errors.Is(err, fs.ErrExist) {
		t.Errorf("salvage into an existing file: %v, want fs.ErrExist", err)
	}
	s, err := Open(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.db")
	_, err = Salvage(t.Context(), src, out)
	s.Close()
	if !errors.Is(err, ErrLocked) {
		t.Errorf("salvage of a file in use: %v, want ErrLocked", err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, make([]byte, 64<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Salvage(t.Context(), garbage, out); !errors.Is(err, ErrNothingSalvaged) {
		t.Errorf("salvage of zeros: %v, want ErrNothingSalvaged", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed salvage left %s: %v", out, err)
	}
}

// FuzzSalvage damages the fixture store at an offset with a byte mask (and
// optionally truncates it there): Salvage never panics, and what it
// writes passes Check (Salvage checks it) and holds only stored articles.
func FuzzSalvage(f *testing.F) {
	for _, seed := range []struct {
		off      uint32
		mask     byte
		truncate bool
	}{
		{pageHeaderLen + 20, 0xff, false}, // meta page 0
		{4096*3 + 10, 0x7f, false},        // a page's element count
		{4096*5 + 20, 0xa5, false},        // an element's offset
		{4096 * 40, 0, true},
		{4096*9 + 8, 0x03, false}, // a page's type
	} {
		f.Add(seed.off, seed.mask, seed.truncate)
	}
	f.Fuzz(func(t *testing.T, off uint32, mask byte, truncate bool) {
		raw, want, _ := salvageFile(t)
		at := int(off) % len(raw)
		if truncate {
			raw = raw[:at]
		} else {
			for i := at; i < min(at+32, len(raw)); i++ {
				raw[i] ^= mask
			}
		}
		dir := t.TempDir()
		src, out := filepath.Join(dir, "damaged.db"), filepath.Join(dir, "salvaged.db")
		if err := os.WriteFile(src, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := Salvage(t.Context(), src, out)
		if errors.Is(err, ErrNothingSalvaged) {
			return
		}
		if err != nil {
			t.Fatalf("Salvage: %v", err)
		}
		if rep.Articles == 0 && rep.Sources == 0 {
			t.Fatalf("Salvage wrote a file with nothing in it: %+v", rep)
		}
		s := openTestFile(t, out)
		for id, a := range storedArticles(t, s) {
			if _, ok := want[id]; !ok {
				t.Errorf("salvaged article %s was never stored: %+v", id, a)
			}
		}
	})
}

// FuzzElements decodes arbitrary bytes as a page, seeded with real branch
// and leaf pages of the fixture: elements never panics, and every key and
// value it returns lies within the page.
func FuzzElements(f *testing.F) {
	raw, _, _ := salvageFile(f)
	size := pageSizeOf(raw)
	for _, flags := range []uint16{rawBranchPage, rawLeafPage} {
		for _, id := range pagesOf(raw, flags)[:2] {
			f.Add(raw[id*size : (id+1)*size])
		}
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		els, _, err := elements(p)
		if err != nil {
			return
		}
		for _, e := range els {
			if len(e.key)+len(e.value) > len(p) {
				t.Fatalf("element of %d+%d bytes in a page of %d", len(e.key), len(e.value), len(p))
			}
		}
	})
}
