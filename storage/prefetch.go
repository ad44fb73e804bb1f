package storage

import (
	"time"

	"github.com/tributary/tributary/kv"
	"github.com/tributary/tributary/story"
)

// prefetchIdentity asks the backend to read at once, one batch per
// bucket, the identity keys planArticle looks up for arts: their
// tombstones, articles and aliases and the URL identities of their links.
// On a backend whose every read is a round trip (kv.Prefetcher) this turns
// a few round trips an article into a few a chunk; bbolt ignores it.
func prefetchIdentity(tx kv.Tx, arts []*incoming) {
	ids := make([][]byte, 0, len(arts))
	var urls [][]byte
	for _, in := range arts {
		ids = append(ids, []byte(in.ID))
		if in.Link != "" {
			urls = append(urls, identityKey(story.IdentityURL(in.Link)))
		}
	}
	prefetchKeys(tx, bucketTombstones, ids)
	prefetchKeys(tx, bucketArticles, ids)
	prefetchKeys(tx, bucketAliases, ids)
	prefetchKeys(tx, bucketURLs, urls)
	prefetchKeys(tx, bucketSignatures, ids)
}

// prefetchFiling asks the backend to read, in the round trip of the
// identity keys (prefetchIdentity), what filing arts looks up: the index, coverage index and record of each of
// their categories, and their sources' article counts.
func prefetchFiling(tx kv.Tx, arts []*incoming) {
	slugs := [][]byte{[]byte(AllSlug)}
	var feeds [][]byte
	for _, in := range arts {
		for _, c := range in.Categories {
			slugs = append(slugs, []byte(c.Slug))
		}
		feeds = append(feeds, []byte(in.Source.FeedURL))
	}
	prefetchKeys(tx, bucketIndex, slugs)
	prefetchKeys(tx, bucketCoverage, slugs)
	prefetchKeys(tx, bucketCategories, slugs)
	prefetchKeys(tx, bucketSourceCounts, feeds)
}

// prefetchCopies asks the backend to read at once what the near-duplicate
// lookup (matchingStories) of the articles of arts with no stored
// identity reads: the sketch index entries of their sketch keys, unless
// the read transaction of the save found them (indexedEntries), the signature
// records of the candidates found there and in the sketch log as v sees
// it, then the articles, aliases and members of the candidates, but for
// those the read transaction found are not the same story (candidateMemo).
// It follows prefetchIdentity in a write transaction, whose reads of the
// identity keys it then makes from memory.
func prefetchCopies(tx kv.Tx, v *sketchView, arts []*incoming, now time.Time) {
	if _, ok := tx.Bucket([]byte(bucketArticles)).(kv.Prefetcher); !ok {
		return
	}
	type lookup struct {
		in   *incoming
		keys [][]byte
		day  uint32
		memo *candidateMemo
	}
	var (
		news  []lookup
		seeks []kv.Range
		stale [][]byte // IDs of entries of the log whose liveness is to check
	)
	vs := readIndexVersions(tx)
	for _, in := range arts {
		if knownIdentity(tx, in) {
			continue
		}
		a := newTimes(in.Article, now)
		rec := newRecord(a, in.signature())
		l := lookup{in: in, keys: rec.Keys(), day: dayOf(a.Published), memo: in.judged.usable(tx, rec)}
		news = append(news, l)
		for i, key := range l.keys {
			if !in.indexFresh(vs, l.keys, i, l.day) {
				seeks = append(seeks, sketchSeeks(key, l.day)...)
			}
			from, to := dayWindow(l.day)
			for period := from / sketchPeriodDays; period <= to/sketchPeriodDays; period++ {
				for _, e := range v.appendLogged(nil, sketchPrefix(period, key), from, to) {
					if v.mayBeStale(e.id) {
						stale = append(stale, []byte(e.id))
					}
				}
			}
		}
	}
	sk := tx.Bucket([]byte(bucketSketch))
	if sk != nil {
		kv.PrefetchSeeks(sk, seeks, maxCandidates+1)
	}
	prefetchKeys(tx, bucketSignatures, stale)
	var cands [][]byte
	for _, l := range news {
		for i, key := range l.keys {
			indexed := l.in.indexedEntries(sk, vs, l.keys, i, l.day)
			for _, id := range sketchCandidates(tx, v, indexed, key, l.day) {
				if same, ok := l.memo.verdict(v, id); !ok || same {
					cands = append(cands, []byte(id))
				}
			}
		}
	}
	for _, name := range []string{bucketSignatures, bucketArticles, bucketAliases, bucketMembers} {
		prefetchKeys(tx, name, cands)
	}
}

// knownIdentity reports whether planArticle finds in's story without the
// near-duplicate lookup: in is tombstoned, stored, aliased, or its link's
// URL identity is.
func knownIdentity(tx kv.Tx, in *incoming) bool {
	return tombstoned(tx, in.ID) || tx.Bucket([]byte(bucketArticles)).Get([]byte(in.ID)) != nil ||
		lookup(tx, bucketAliases, []byte(in.ID)) != "" ||
		in.Link != "" && lookup(tx, bucketURLs, identityKey(story.IdentityURL(in.Link))) != ""
}

// prefetchKeys asks the bucket name, if there is one, to read keys at once.
func prefetchKeys(tx kv.Tx, name string, keys [][]byte) {
	if b := tx.Bucket([]byte(name)); b != nil {
		kv.PrefetchKeys(b, keys)
	}
}
