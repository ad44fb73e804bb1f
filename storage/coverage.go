package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/tributary/tributary/kv"
)

// bucketCoverage holds the coverage index: one nested bucket per category
// slug (and AllSlug), keyed by coverageKey, so that the stories carried by
// the most sources are a reverse cursor walk, not a scan.
const bucketCoverage = "coverage"

// covLen is the length of the coverage prefix of a coverage index key.
const covLen = 2

// Coverage returns the number of distinct sources that carried the story
// a: its own source and the source of every copy merged into it (Via holds
// one copy per other source).
func Coverage(a Article) int {
	return 1 + len(a.Via)
}

// coverageKey is the coverage index key of a: its Coverage (big-endian
// uint16, capped), then its time index key, so that a walk from the end
// gives the most-carried stories first and, among equals, the newest.
func coverageKey(a Article) []byte {
	k := make([]byte, covLen, covLen+tsLen+idLen)
	binary.BigEndian.PutUint16(k, uint16(min(Coverage(a), math.MaxUint16)))
	return append(k, indexKey(a.Published, a.ID)...)
}

// splitCoverageKey returns the coverage and the time index key of k.
func splitCoverageKey(k []byte) (int, []byte) {
	return int(binary.BigEndian.Uint16(k)), k[covLen:]
}

// coverageLevel returns the smallest coverage key of coverage cov followed
// by the time index key of t (a zero Time: the level's first key).
func coverageLevel(cov int, tsKey []byte) []byte {
	k := make([]byte, covLen, covLen+tsLen+idLen)
	binary.BigEndian.PutUint16(k, uint16(min(max(cov, 0), math.MaxUint16)))
	return append(k, tsKey...)
}

// coverageIndex returns the coverage bucket of tx, creating it in a
// writable tx that lacks it.
func coverageIndex(tx kv.Tx) (kv.Bucket, error) {
	if b := tx.Bucket([]byte(bucketCoverage)); b != nil || !tx.Writable() {
		return b, nil
	}
	b, err := tx.CreateBucket([]byte(bucketCoverage))
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bucketCoverage, err)
	}
	return b, nil
}

// unfile removes a's entries from the time and coverage indexes of every
// category it is filed under.
func unfile(tx kv.Tx, a Article) error {
	index := tx.Bucket([]byte(bucketIndex))
	cov, err := coverageIndex(tx)
	if err != nil {
		return err
	}
	key, ck := indexKey(a.Published, a.ID), coverageKey(a)
	for _, cat := range filedUnder(a) {
		if err := unindex(index, cat.Slug, key); err != nil {
			return err
		}
		if err := unindex(cov, cat.Slug, ck); err != nil {
			return err
		}
	}
	return nil
}

// dropCoverageIndex deletes the coverage index of category slug, if any.
func dropCoverageIndex(tx kv.Tx, slug string) error {
	cov := tx.Bucket([]byte(bucketCoverage))
	if cov == nil {
		return nil
	}
	err := cov.DeleteBucket([]byte(slug))
	if err != nil && !errors.Is(err, kv.ErrBucketNotFound) {
		return fmt.Errorf("delete coverage index %s: %w", slug, err)
	}
	return nil
}

// buildCoverage writes the coverage index of every stored article when tx
// has none: a file written before the index existed gets it at its first
// Open by this version, in one transaction.
func buildCoverage(tx kv.Tx) error {
	if tx.Bucket([]byte(bucketCoverage)) != nil {
		return nil
	}
	cov, err := coverageIndex(tx)
	if err != nil {
		return err
	}
	return tx.Bucket([]byte(bucketArticles)).ForEach(func(k, _ []byte) error {
		a, _, err := getArticle(tx.Bucket([]byte(bucketArticles)), k)
		if err != nil {
			return err
		}
		ck := coverageKey(a)
		for _, cat := range filedUnder(a) {
			if err := reindex(cov, cat.Slug, ck); err != nil {
				return err
			}
		}
		return nil
	})
}
