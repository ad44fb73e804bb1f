package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"github.com/tributary/tributary/kv"

	"github.com/tributary/tributary/story"
)

// Delete removes the stories ids for good, in one transaction: each
// article with its index entries, category counts and sketch entries goes,
// and a tombstone (ID → deletion time) stays, so that SaveArticles never
// stores the story again, neither under its own ID nor through an item
// merged into it or sharing its URL identity (those still point at the
// tombstoned ID). An ID that is not stored is tombstoned all the same;
// invalid IDs are an error and nothing is deleted. It returns how many
// stored articles were removed. Callers deleting many stories (retention)
// should pass them in chunks of about a thousand per call to keep
// transactions short. Safe for concurrent use.
//
// Tombstones rather than last-seen times: a source keeps an item in its
// feed for as long as it likes, so "not seen since" cannot tell a purged
// story from one still served; a tombstone costs about 75 bytes per
// deleted story and answers exactly.
func (s *Store) Delete(ctx context.Context, ids ...string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if !validID(id) {
			return 0, fmt.Errorf("delete article %q: invalid id: want %d lower-case hex digits", id, idLen)
		}
	}
	removed := 0
	err := s.db.Update(ctx, func(tx kv.Tx) error {
		var err error
		removed, err = deleteStories(tx, ids, s.now().UTC())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete %d articles: %w", len(ids), err)
	}
	return removed, nil
}

// deleteStories deletes the stored stories ids with their index and
// sketch entries, counts their categories and sources down, and tombstones
// every id (stored or not) with the time now. It returns how many stories
// it deleted.
func deleteStories(tx kv.Tx, ids []string, now time.Time) (int, error) {
	tombs, err := tx.CreateBucketIfNotExists([]byte(bucketTombstones))
	if err != nil {
		return 0, fmt.Errorf("create bucket %s: %w", bucketTombstones, err)
	}
	arts := tx.Bucket([]byte(bucketArticles))
	index := tx.Bucket([]byte(bucketIndex))
	deltas := make(map[string]*categoryMeta)
	perSource := make(map[string]int64)
	removed := 0
	var stale staleMarks
	stamp := binary.BigEndian.AppendUint64(nil, keyTime(now))
	for _, id := range ids {
		old, found, err := getArticle(arts, []byte(id))
		if err != nil {
			return 0, err
		}
		tomb := stamp
		if found {
			tomb = tombstoneOf(tx, stamp, old)
			if err := deleteStory(tx, arts, old, deltas, &stale); err != nil {
				return 0, err
			}
			perSource[old.Source.FeedURL]--
			removed++
		}
		if err := tombs.Put([]byte(id), tomb); err != nil {
			return 0, fmt.Errorf("put tombstone %s: %w", id, err)
		}
	}
	if err := stale.log(tx); err != nil {
		return 0, err
	}
	if err := addSourceCounts(tx, perSource); err != nil {
		return 0, err
	}
	cats := tx.Bucket([]byte(bucketCategories))
	for _, slug := range slices.Sorted(maps.Keys(deltas)) {
		if err := applyCategory(tx, cats, index, slug, deltas[slug], now); err != nil {
			return 0, err
		}
	}
	return removed, nil
}

// tombstoneLen is the length of a tombstone of a stored story: the
// deletion time, then the FNV-64a hashes of its source's feed URL, of its
// GUID (0 without one) and of its text signature. Tombstones of IDs that
// were not stored, and those written by earlier versions, hold only the
// deletion time.
const tombstoneLen = 32

// tombstoneOf returns the tombstone of the stored story old deleted at
// stamp (see tombstoneLen): what tells another item of old's source from
// old under a new GUID once old is gone.
func tombstoneOf(tx kv.Tx, stamp []byte, old Article) []byte {
	v := binary.BigEndian.AppendUint64(slices.Clone(stamp), story.SourceHash(old.Source.FeedURL))
	v = binary.BigEndian.AppendUint64(v, guidHash(old.GUID))
	return binary.BigEndian.AppendUint64(v, textHash(storedRecord(tx, old).Text()))
}

// guidHash is the FNV-64a hash of a GUID, 0 for none.
func guidHash(guid string) uint64 {
	if guid == "" {
		return 0
	}
	return fnv64a([]byte(guid))
}

// textHash is the FNV-64a hash of a text signature.
func textHash(text []byte) uint64 {
	return fnv64a(text)
}

// fnv64a is the FNV-64a hash of b.
func fnv64a(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b) // a hash.Hash never fails
	return h.Sum64()
}

// deleteStory removes the stored article old, its time, coverage and sketch
// entries, its signature record and those of its copies, and counts its categories down in deltas.
func deleteStory(tx kv.Tx, arts kv.Bucket, old Article, deltas map[string]*categoryMeta, stale *staleMarks) error {
	if err := unfile(tx, old); err != nil {
		return err
	}
	for _, cat := range filedUnder(old) {
		delta(deltas, cat.Slug, "").Count--
	}
	if err := dropRecord(tx, old, stale); err != nil {
		return err
	}
	if err := dropMembers(tx, old.ID, stale); err != nil {
		return err
	}
	if err := arts.Delete([]byte(old.ID)); err != nil {
		return fmt.Errorf("delete article %s: %w", old.ID, err)
	}
	return nil
}
