package storage

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tributary/tributary/kv"
)

// getArticle decodes the article id from the articles bucket b. The result
// shares no memory with the transaction.
func getArticle(b kv.Bucket, id []byte) (Article, bool, error) {
	raw := b.Get(id)
	if raw == nil {
		return Article{}, false, nil
	}
	var a Article
	if err := json.Unmarshal(raw, &a); err != nil {
		return Article{}, false, fmt.Errorf("decode article %s: %w", id, err)
	}
	return a, true, nil
}

// Latest returns up to limit articles of the category slug (AllSlug for
// every article), newest Published first; articles published at the same
// instant come in descending ID order. An unknown slug or a limit <= 0
// gives an empty slice. The articles are copies the caller owns. Safe for
// concurrent use.
func (s *Store) Latest(ctx context.Context, slug string, limit int) ([]Article, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []Article{}
	if limit <= 0 {
		return out, nil
	}
	err := s.db.View(ctx, func(tx kv.Tx) error {
		idx := tx.Bucket([]byte(bucketIndex)).Bucket([]byte(slug))
		if idx == nil {
			return nil
		}
		arts := tx.Bucket([]byte(bucketArticles))
		c := idx.Cursor()
		for k, _ := c.Last(); k != nil && len(out) < limit; k, _ = c.Prev() {
			_, id, err := splitIndexKey(k)
			if err != nil {
				return err
			}
			a, found, err := getArticle(arts, id)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("index entry %s: no such article", id)
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("latest %d of category %s: %w", limit, slug, err)
	}
	return out, nil
}

// Article returns the article with the given ID, and false when there is
// none. Safe for concurrent use.
func (s *Store) Article(ctx context.Context, id string) (Article, bool, error) {
	if err := ctx.Err(); err != nil {
		return Article{}, false, err
	}
	var a Article
	var found bool
	err := s.db.View(ctx, func(tx kv.Tx) error {
		var err error
		a, found, err = getArticle(tx.Bucket([]byte(bucketArticles)), []byte(id))
		return err
	})
	if err != nil {
		return Article{}, false, fmt.Errorf("get article %s: %w", id, err)
	}
	return a, found, nil
}

// Categories lists every category holding articles, sorted by slug. AllSlug
// (named "all") is always listed, with a zero Count in an empty store.
// Counts are exact: they are kept in the transactions that file articles.
// Safe for concurrent use.
func (s *Store) Categories(ctx context.Context) ([]CategoryInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []CategoryInfo
	err := s.db.View(ctx, func(tx kv.Tx) error {
		return tx.Bucket([]byte(bucketCategories)).ForEach(func(k, v []byte) error {
			var m categoryMeta
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode category %s: %w", k, err)
			}
			out = append(out, CategoryInfo{
				Category: Category{Slug: string(k), Name: m.Name},
				Count:    m.Count,
				Updated:  m.Updated,
			})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	if !slices.ContainsFunc(out, func(c CategoryInfo) bool { return c.Slug == AllSlug }) {
		out = append(out, CategoryInfo{Category: Category{Slug: AllSlug, Name: AllSlug}})
		slices.SortFunc(out, func(x, y CategoryInfo) int { return cmp.Compare(x.Slug, y.Slug) })
	}
	return out, nil
}
