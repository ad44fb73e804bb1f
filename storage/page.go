package storage

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
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
	// index entries. It applies to pages walked backwards (no After).
	MaxPerSource int
}

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

// Page returns one page of the category slug (AllSlug for every article)
// by walking its time index from the query's cursor: the cost depends on
// the page size, not on the category size. An unknown slug gives an empty
// page. A cursor of the wrong length is an error wrapping ErrInvalidCursor.
// Safe for concurrent use.
func (s *Store) Page(ctx context.Context, slug string, q PageQuery) (Page, error) {
	if err := ctx.Err(); err != nil {
		return Page{}, err
	}
	for _, c := range []Cursor{q.Before, q.After} {
		if c != nil && len(c) != tsLen+idLen {
			return Page{}, fmt.Errorf("page of category %s: cursor of %d bytes: %w", slug, len(c), ErrInvalidCursor)
		}
	}
	var p Page
	err := s.db.View(func(tx *bolt.Tx) error {
		idx := tx.Bucket([]byte(bucketIndex)).Bucket([]byte(slug))
		if idx == nil || q.Limit <= 0 {
			return nil
		}
		arts := tx.Bucket([]byte(bucketArticles))
		var keys [][]byte
		var newer, older bool
		if q.MaxPerSource > 0 && q.After == nil {
			var err error
			keys, p.Articles, newer, older, err = walkCapped(idx.Cursor(), arts, q)
			if err != nil {
				return err
			}
		} else {
			keys, newer, older = walkIndex(idx.Cursor(), q)
			for _, k := range keys {
				a, err := indexedArticle(arts, k)
				if err != nil {
					return err
				}
				p.Articles = append(p.Articles, a)
			}
		}
		p.HasNewer, p.HasOlder = newer, older
		if len(keys) > 0 {
			p.Newest = bytes.Clone(keys[0])
			p.Oldest = bytes.Clone(keys[len(keys)-1])
		}
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("page of category %s: %w", slug, err)
	}
	if p.Articles == nil {
		p.Articles = []Article{}
	}
	return p, nil
}

// indexedArticle returns the article the index key k points at.
func indexedArticle(arts *bolt.Bucket, k []byte) (Article, error) {
	_, id, err := splitIndexKey(k)
	if err != nil {
		return Article{}, err
	}
	a, found, err := getArticle(arts, id)
	if err != nil {
		return Article{}, err
	}
	if !found {
		return Article{}, fmt.Errorf("index entry %s: no such article", id)
	}
	return a, nil
}

// walkCapped is walkIndex backwards with q.MaxPerSource: it reads the
// articles as it walks and skips those of a source already at the cap,
// reading at most perSourceScan × q.Limit entries. It returns the keys and
// articles kept, newest first.
func walkCapped(c *bolt.Cursor, arts *bolt.Bucket, q PageQuery) (keys [][]byte, kept []Article, newer, older bool, err error) {
	k, newer := startBackward(c, q.Before)
	perSource := make(map[string]int)
	for read := 0; k != nil && len(kept) < q.Limit && read < perSourceScan*q.Limit; k, _ = c.Prev() {
		read++
		a, err := indexedArticle(arts, k)
		if err != nil {
			return nil, nil, false, false, err
		}
		if perSource[a.Source.FeedURL] >= q.MaxPerSource {
			continue
		}
		perSource[a.Source.FeedURL]++
		keys = append(keys, k)
		kept = append(kept, a)
	}
	return keys, kept, newer, k != nil, nil
}

// walkIndex returns up to q.Limit index keys of the page q selects, newest
// first, and whether keys exist newer than and older than the page. The
// keys are only valid inside the transaction of c.
func walkIndex(c *bolt.Cursor, q PageQuery) (keys [][]byte, newer, older bool) {
	if q.Before == nil && q.After != nil {
		// Forward from the cursor, then reverse.
		k, _ := c.Seek(q.After)
		if k != nil && bytes.Equal(k, q.After) {
			k, _ = c.Next()
		}
		for ; k != nil && len(keys) < q.Limit; k, _ = c.Next() {
			keys = append(keys, k)
		}
		newer = k != nil
		slices.Reverse(keys)
		first, _ := c.First()
		older = first != nil && bytes.Compare(first, q.After) <= 0
		return keys, newer, older
	}
	k, newer := startBackward(c, q.Before)
	for ; k != nil && len(keys) < q.Limit; k, _ = c.Prev() {
		keys = append(keys, k)
	}
	return keys, newer, k != nil
}

// startBackward positions c on the newest key of a backward page: the last
// key, or the one just below before when it is set, and reports whether
// keys exist at or above before.
func startBackward(c *bolt.Cursor, before Cursor) (k []byte, newer bool) {
	if before == nil {
		k, _ = c.Last()
		return k, false
	}
	// Seek lands on the first key >= before; the page starts below it.
	at, _ := c.Seek(before)
	if at == nil {
		k, _ = c.Last()
		return k, false
	}
	k, _ = c.Prev()
	return k, true
}
