package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/tributary/tributary/kv"
)

// Cursor is a position in a category's time index: the index key of one
// article (8 bytes of big-endian published Unix nanoseconds, then its ID).
// It stays meaningful after the article it names is removed, so paging by
// cursor is stable while articles come and go. Treat it as opaque bytes.
type Cursor []byte

// CursorOf returns the cursor of a stored article: its position in the
// index of every category it is filed in.
func CursorOf(a Article) Cursor {
	return indexKey(a.Published, a.ID)
}

// PageQuery selects one page of a category, newest first.
type PageQuery struct {
	// Limit is the maximum number of articles; <= 0 gives an empty page.
	Limit int
	// Before, when set, selects the newest articles strictly older than it
	// (the next page of an archive walk).
	Before Cursor
	// After, when set (and Before is not), selects the oldest articles
	// strictly newer than it, still returned newest first (the previous
	// page). With neither set the page is the newest articles.
	After Cursor
	// MaxPerSource, when > 0, skips the articles of a source (by
	// Source.FeedURL; a merged story counts for its first source) that
	// already has MaxPerSource on the page, so that one chatty source
	// cannot swamp it. The walk then reads at most perSourceScan × Limit
	// index entries that pass the filters below. It applies to pages walked
	// backwards (no After).
	MaxPerSource int
	// Since, when not zero, leaves out the articles published before it.
	Since time.Time
	// MinSources, when above 1, leaves out the stories carried by fewer
	// distinct sources (see Coverage).
	MinSources int
	// Keep, when set, leaves out the articles it returns false for. It runs
	// inside a read transaction: it must be fast and must not use the
	// Store. A filter that few articles pass makes the walk read further
	// (up to Since, or the whole index).
	Keep func(Article) bool
	// ByCoverage orders the page by Coverage, most first, then newest
	// first, walking the coverage index; Before and After are then
	// coverage cursors (CoverageCursorLen bytes) and Since bounds each
	// coverage level with one seek, so the walk reads the page's entries
	// and one more per level.
	ByCoverage bool
}

// CursorLen is the length of a time index cursor, and CoverageCursorLen
// that of a coverage index cursor (PageQuery.ByCoverage): a coverage
// count, then a time index cursor.
const (
	CursorLen         = tsLen + idLen
	CoverageCursorLen = covLen + tsLen + idLen
)

// Page is one page of a category, newest first.
type Page struct {
	// Articles are copies the caller owns.
	Articles []Article
	// Newest and Oldest are the cursors of the first and last article;
	// nil when the page is empty.
	Newest, Oldest Cursor
	// HasNewer and HasOlder report whether the category holds articles
	// newer than the page's first, older than its last (or, for an empty
	// page, on either side of the cursor).
	HasNewer, HasOlder bool
}

// Page returns one page of the category slug (AllSlug for every article):
// ViewPage of that one category.
func (s *Store) Page(ctx context.Context, slug string, q PageQuery) (Page, error) {
	return s.ViewPage(ctx, []string{slug}, q)
}

// ViewPage returns one page of the union of the categories slugs, each
// story once, by walking their time indexes (their coverage indexes with
// q.ByCoverage) from the query's cursor: the cost depends on the page size
// and on how many entries the filters of q leave out, not on the size of
// the categories. Unknown slugs give an empty page. A cursor of the wrong
// length is an error wrapping ErrInvalidCursor. Safe for concurrent use.
func (s *Store) ViewPage(ctx context.Context, slugs []string, q PageQuery) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	want := CursorLen
	if q.ByCoverage {
		want = CoverageCursorLen
	}
	for _, c := range []Cursor{q.Before, q.After} {
		if c != nil && len(c) != want {
			return Page{}, fmt.Errorf("page of %v: cursor of %d bytes: %w", slugs, len(c), ErrInvalidCursor)
		}
	}
	var p Page
	err := s.db.View(ctx, func(tx kv.Tx) error {
		top := tx.Bucket([]byte(bucketIndex))
		if q.ByCoverage {
			top = tx.Bucket([]byte(bucketCoverage))
		}
		var buckets []kv.Bucket
		for _, slug := range slugs {
			if b := top.Bucket([]byte(slug)); b != nil {
				buckets = append(buckets, b)
			}
		}
		if len(buckets) == 0 || q.Limit <= 0 {
			return nil
		}
		w := &walker{m: newMultiCursor(buckets), arts: tx.Bucket([]byte(bucketArticles)), q: q}
		if !q.Since.IsZero() {
			w.since = keyTime(q.Since)
		}
		var err error
		if q.Before == nil && q.After != nil {
			p, err = w.forward()
		} else {
			p, err = w.backward()
		}
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("page of %v: %w", slugs, err)
	}
	if p.Articles == nil {
		p.Articles = []Article{}
	}
	return p, nil
}

// indexedArticle returns the article the index key k (of the time or the
// coverage index) points at.
func indexedArticle(arts kv.Bucket, k []byte) (Article, error) {
	if len(k) < idLen {
		return Article{}, fmt.Errorf("index key %x: too short", k)
	}
	id := k[len(k)-idLen:]
	a, found, err := getArticle(arts, id)
	if err != nil {
		return Article{}, err
	}
	if !found {
		return Article{}, fmt.Errorf("index entry %s: no such article", id)
	}
	return a, nil
}

// walker reads one page of a multiCursor with the filters of q.
type walker struct {
	m     *multiCursor
	arts  kv.Bucket
	q     PageQuery
	since uint64 // keyTime of q.Since; 0 without
}

// split returns the coverage (0 in the time index) and the key time of k.
func (w *walker) split(k []byte) (cov int, ts uint64) {
	if w.q.ByCoverage {
		cov, k = splitCoverageKey(k)
	}
	return cov, binary.BigEndian.Uint64(k)
}

// backward walks from the newest key (or from just below q.Before).
func (w *walker) backward() (Page, error) {
	var p Page
	var k []byte
	if w.q.Before == nil {
		k = w.m.last()
	} else {
		p.HasNewer = w.m.seek(w.q.Before) != nil
		k = w.m.below(w.q.Before)
	}
	perSource := make(map[string]int)
	var keys [][]byte
	for read := 0; k != nil && len(p.Articles) < w.q.Limit; {
		if w.q.MaxPerSource > 0 && read >= perSourceScan*w.q.Limit {
			break
		}
		if k = w.inRange(k, true); k == nil {
			break
		}
		a, ok, err := w.admit(k)
		if err != nil {
			return Page{}, err
		}
		if ok {
			read++
			if w.q.MaxPerSource <= 0 || perSource[a.Source.FeedURL] < w.q.MaxPerSource {
				perSource[a.Source.FeedURL]++
				keys = append(keys, k)
				p.Articles = append(p.Articles, a)
			}
		}
		k = w.m.prev()
	}
	p.HasOlder = w.inRange(k, true) != nil
	p.setEnds(keys)
	return p, nil
}

// inRange returns k, or when the key alone shows that its entry is out of
// the window (Since) or below MinSources, the first key in the walk's
// direction that is not (nil when none is): a seek per coverage level in
// the coverage index, the end of the walk backwards in the time index.
func (w *walker) inRange(k []byte, backwards bool) []byte {
	since := indexKey(w.q.Since, "")
	for k != nil {
		cov, ts := w.split(k)
		switch {
		case w.q.ByCoverage && cov < w.q.MinSources && backwards:
			return nil // every lower level has fewer sources
		case w.q.ByCoverage && cov < w.q.MinSources:
			k = w.m.seek(coverageLevel(w.q.MinSources, since))
		case ts >= w.since:
			return k
		case !w.q.ByCoverage && backwards:
			return nil // every older entry is older still
		case !w.q.ByCoverage:
			k = w.m.seek(since)
		case backwards:
			k = w.m.below(coverageLevel(cov, nil)) // the rest of this level is older
		default:
			k = w.m.seek(coverageLevel(cov, since))
		}
	}
	return nil
}

// forward walks up from just above q.After, then returns the page newest
// first.
func (w *walker) forward() (Page, error) {
	var p Page
	var keys [][]byte
	k := w.m.seek(w.q.After)
	if k != nil && bytes.Equal(k, w.q.After) {
		k = w.m.next()
	}
	for k != nil && len(p.Articles) < w.q.Limit {
		if k = w.inRange(k, false); k == nil {
			break
		}
		a, ok, err := w.admit(k)
		if err != nil {
			return Page{}, err
		}
		if ok {
			keys = append(keys, k)
			p.Articles = append(p.Articles, a)
		}
		k = w.m.next()
	}
	p.HasNewer = w.inRange(k, false) != nil
	slices.Reverse(keys)
	slices.Reverse(p.Articles)
	first := w.m.first()
	p.HasOlder = first != nil && bytes.Compare(first, w.q.After) <= 0
	p.setEnds(keys)
	return p, nil
}

// admit reads the article of k and reports whether it passes the filters
// of the walk that need the article.
func (w *walker) admit(k []byte) (Article, bool, error) {
	a, err := indexedArticle(w.arts, k)
	if err != nil {
		return Article{}, false, err
	}
	if Coverage(a) < w.q.MinSources || (w.q.Keep != nil && !w.q.Keep(a)) {
		return Article{}, false, nil
	}
	return a, true, nil
}

// setEnds sets the page's cursors from its keys, newest first.
func (p *Page) setEnds(keys [][]byte) {
	if len(keys) > 0 {
		p.Newest = bytes.Clone(keys[0])
		p.Oldest = bytes.Clone(keys[len(keys)-1])
	}
}
