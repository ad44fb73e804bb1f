package storage

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tributary/tributary/kv"
)

func TestCheckDetectsCorruption(t *testing.T) {
	a := testArticle("a", hour(8), "world")
	b := testArticle("b", hour(10), "business", "world")
	ghost := testArticle("ghost", hour(9), "world")
	tests := []struct {
		name    string
		corrupt func(tx kv.Tx) error
		want    []string // each must be in the error; none means no error
	}{
		{
			name:    "consistent",
			corrupt: func(kv.Tx) error { return nil },
		},
		{
			name: "entry for a missing article",
			corrupt: func(tx kv.Tx) error {
				return index(tx, "world").Put(indexKey(ghost.Published, ghost.ID), nil)
			},
			want: []string{"index world: entry " + ghost.ID + " at 2025-08-17T09:00:00Z: no such article", "category world: count 2, index holds 3"},
		},
		{
			name: "undecodable key",
			corrupt: func(tx kv.Tx) error {
				return index(tx, AllSlug).Put([]byte("bad"), nil)
			},
			want: []string{"index all: index key 626164: want 40 bytes, have 3"},
		},
		{
			name: "entry at the wrong time",
			corrupt: func(tx kv.Tx) error {
				if err := index(tx, "world").Delete(indexKey(a.Published, a.ID)); err != nil {
					return err
				}
				return index(tx, "world").Put(indexKey(hour(11), a.ID), nil)
			},
			want: []string{"index world: entry " + a.ID + " at 2025-08-17T11:00:00Z: article is published at 2025-08-17T08:00:00Z"},
		},
		{
			name: "entry missing",
			corrupt: func(tx kv.Tx) error {
				return index(tx, "business").Delete(indexKey(b.Published, b.ID))
			},
			want: []string{"article " + b.ID + ": indexed 0 times in business", "category business: count 1, index holds 0"},
		},
		{
			name: "entry in a category the article is not in",
			corrupt: func(tx kv.Tx) error {
				return index(tx, "business").Put(indexKey(a.Published, a.ID), nil)
			},
			want: []string{"index business: entry " + a.ID + " at 2025-08-17T08:00:00Z: article is not in category business"},
		},
		{
			name: "index without category record",
			corrupt: func(tx kv.Tx) error {
				return tx.Bucket([]byte(bucketCategories)).Delete([]byte("world"))
			},
			want: []string{"index world: 2 entries but no category record"},
		},
		{
			name: "wrong count",
			corrupt: func(tx kv.Tx) error {
				val, _ := json.Marshal(categoryMeta{Name: "World", Count: 7})
				return tx.Bucket([]byte(bucketCategories)).Put([]byte("world"), val)
			},
			want: []string{"category world: count 7, index holds 2"},
		},
		{
			name: "article stored under another id",
			corrupt: func(tx kv.Tx) error {
				val, _ := json.Marshal(a)
				return tx.Bucket([]byte(bucketArticles)).Put([]byte(b.ID), val)
			},
			want: []string{"article " + b.ID + ": stored with id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newBackendStore(t, Options{Now: testNow})
			save(t, s, a, b)
			if err := s.db.Update(t.Context(), tt.corrupt); err != nil {
				t.Fatal(err)
			}
			err := s.Check(t.Context())
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Check: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check found nothing, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check: %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// index returns the index bucket of slug, for corrupting it.
func index(tx kv.Tx, slug string) kv.Bucket {
	return tx.Bucket([]byte(bucketIndex)).Bucket([]byte(slug))
}
