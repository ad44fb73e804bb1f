package storage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of story identity, created by the first write that needs them so
// that files written before they existed open unchanged; see doc.go.
const (
	bucketURLs       = "urls"       // identityKey(IdentityURL(link)) → story ID
	bucketAliases    = "aliases"    // item ID merged into a story → story ID
	bucketTombstones = "tombstones" // deleted story ID → BigEndian(deletion Unix ns)
	bucketSketch     = "sketch"     // sketch key ‖ BigEndian(uint32 day) ‖ ID → empty; see signature.go
)

// dayLen is the length of the day field of a sketch entry.
const dayLen = 4

// kind is what SaveArticles made of one article.
type kind int

const (
	kindNew kind = iota
	kindUpdated
	kindUnchanged
	kindMerged
	kindSuppressed
)

// plan is what SaveArticles does with one incoming article a.
type plan struct {
	kind kind
	// ch is the story to write (a itself, or the story a merges into);
	// nil when nothing changes.
	ch *change
	// a is the incoming article, with its times completed.
	a Article
	// story is the ID of the stored story a lands in.
	story string
}

// add counts k into r.
func (r *SaveResult) add(k kind) {
	switch k {
	case kindNew:
		r.New++
	case kindUpdated:
		r.Updated++
	case kindUnchanged:
		r.Unchanged++
	case kindMerged:
		r.Merged++
	case kindSuppressed:
		r.Suppressed++
	}
}

// planArticle decides what storing a means, in this order: a deleted
// (tombstoned) story is suppressed; a known ID, or an item merged before
// (aliases), lands in its story (as a copy when an earlier copy of another
// source has become the story's primary); an unknown ID whose link has the URL
// identity of a stored story lands in it (as an edit when it is the same
// source's item under a new key, else as a copy); a near-duplicate found
// through the sketch index (SameStory) lands in it as a copy; anything
// else is new. Without findCopies the near-duplicate lookup is skipped and
// an article it would have decided about is planned as new. It only reads tx.
func planArticle(tx *bolt.Tx, in *incoming, now time.Time, findCopies bool) (plan, error) {
	a := in.Article
	arts := tx.Bucket([]byte(bucketArticles))
	if tombstoned(tx, a.ID) {
		return plan{kind: kindSuppressed, a: a, story: a.ID}, nil
	}
	old, found, err := getArticle(arts, []byte(a.ID))
	if err != nil {
		return plan{}, err
	}
	if found {
		if demoted(a, old) {
			return copyPlan(a, old, true), nil
		}
		return updatePlan(a, old, now), nil
	}
	target := lookup(tx, bucketAliases, []byte(a.ID))
	aliased := target != ""
	if target == "" && a.Link != "" {
		target = lookup(tx, bucketURLs, identityKey(IdentityURL(a.Link)))
	}
	if target != "" {
		if tombstoned(tx, target) {
			return plan{kind: kindSuppressed, a: a, story: target}, nil
		}
		old, found, err := getArticle(arts, []byte(target))
		if err != nil {
			return plan{}, err
		}
		if found {
			if old.Source.FeedURL == a.Source.FeedURL && IdentityURL(a.Link) == IdentityURL(old.Link) {
				p := updatePlan(a, old, now)
				p.a.ID = a.ID // the alias to record
				return p, nil
			}
			return copyPlan(a, old, aliased), nil
		}
	}
	a = newTimes(a, now)
	if findCopies {
		copyOf, found, err := findCopy(tx, a, newRecord(a.Published, a.Source.FeedURL, in.signature()))
		if err != nil {
			return plan{}, err
		}
		if found {
			return mergePlan(a, copyOf), nil
		}
	}
	return plan{kind: kindNew, ch: &change{art: a}, a: a, story: a.ID}, nil
}

// updatePlan is the plan for a, an edit of the stored story old (whose ID
// it takes): unchanged when only FirstSeen differs.
func updatePlan(a, old Article, now time.Time) plan {
	a.ID = old.ID
	a.Via = old.Via
	a.Categories = unionCategories(a.Categories, categoriesOfCopies(old))
	a = inheritTimes(a, old)
	if sameContent(a, old) {
		return plan{kind: kindUnchanged, a: a, story: old.ID}
	}
	if !a.Updated.After(old.Updated) {
		// Edited without a newer date from the source: the edit
		// itself is the update readers must see.
		a.Updated = laterOf(now, old.Updated)
	}
	return plan{kind: kindUpdated, ch: &change{art: a, old: &old}, a: a, story: old.ID}
}

// categoriesOfCopies returns the categories old holds that came from its
// copies: all of them when it has copies (an edit of the first item must
// not drop a category a copy brought), none otherwise.
func categoriesOfCopies(old Article) []Category {
	if len(old.Via) == 0 {
		return nil
	}
	return old.Categories
}

// copyPlan is mergePlan for a copy that may have been merged before (seen
// again): then it is unchanged when it changes nothing.
func copyPlan(a, old Article, seenBefore bool) plan {
	p := mergePlan(a, old)
	if seenBefore && p.ch == nil {
		p.kind = kindUnchanged
	}
	return p
}

// mergePlan is the plan for a, a copy of the stored story old: old gains
// a's source in Via (unless it already names it) and a's categories. When
// a was published before old's primary copy (see earlierCopy), a becomes
// the primary: the story takes a's source, link, title, text and times,
// keeps its ID and FirstSeen, and old's source moves to Via. So whatever
// the order copies arrive in, a story is attributed to its earliest copy.
func mergePlan(a, old Article) plan {
	merged := old
	if earlierCopy(a, old) {
		merged = a
		merged.ID, merged.FirstSeen = old.ID, old.FirstSeen
		merged.Updated = laterOf(a.Updated, a.Published)
		merged.Via = withVia(old.Via, a.Source.FeedURL, Copy{Source: old.Source, Link: old.Link})
	} else if a.Source.FeedURL != old.Source.FeedURL &&
		!slices.ContainsFunc(old.Via, func(c Copy) bool { return c.Source.FeedURL == a.Source.FeedURL }) {
		merged.Via = withVia(old.Via, "", Copy{Source: a.Source, Link: a.Link})
	}
	merged.Categories = unionCategories(old.Categories, a.Categories)
	p := plan{kind: kindMerged, a: a, story: old.ID}
	if !sameContent(merged, old) {
		p.ch = &change{art: merged, old: &old}
	}
	return p
}

// demoted reports whether a, an item under the ID of the stored story old,
// is no longer its primary copy: an earlier copy from another source took
// its place (see mergePlan) and a's source is listed in Via.
func demoted(a, old Article) bool {
	return old.Source.FeedURL != a.Source.FeedURL &&
		slices.ContainsFunc(old.Via, func(c Copy) bool { return c.Source.FeedURL == a.Source.FeedURL })
}

// earlierCopy reports whether the copy a comes before the primary copy of
// the story old: published earlier, or at the same instant from a feed URL
// (then a link) that sorts first. A copy without a publication time never
// does.
func earlierCopy(a, old Article) bool {
	if a.Published.IsZero() {
		return false
	}
	if c := a.Published.Compare(old.Published); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.Source.FeedURL, old.Source.FeedURL); c != 0 {
		return c < 0
	}
	return a.Link < old.Link
}

// withVia returns via without the copies of the source drop, plus c
// unless c is of a source via already names, sorted by feed URL so that
// the order copies arrive in does not show.
func withVia(via []Copy, drop string, c Copy) []Copy {
	out := slices.DeleteFunc(slices.Clone(via), func(v Copy) bool { return v.Source.FeedURL == drop })
	if !slices.ContainsFunc(out, func(v Copy) bool { return v.Source.FeedURL == c.Source.FeedURL }) {
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(x, y Copy) int { return cmp.Compare(x.Source.FeedURL, y.Source.FeedURL) })
	return out
}

// unionCategories returns the categories of a and b sorted by slug without
// duplicates; a's name of a slug wins.
func unionCategories(a, b []Category) []Category {
	out := slices.Concat(a, b)
	slices.SortStableFunc(out, func(x, y Category) int { return cmp.Compare(x.Slug, y.Slug) })
	return slices.CompactFunc(out, func(x, y Category) bool { return x.Slug == y.Slug })
}

// findCopy looks the sketch keys of rec, the signature record of a, up in
// the sketch index, within DupWindow of a's Published day, and returns,
// of the stored stories that SameStory confirms (for a story of a's own
// source, only with a title similarity of DupSameSourceMinTitle or more),
// the one published first (ties by ID): not the first one found, so that
// the story a copy joins does not depend on the order stories were stored
// in. Candidates are compared through their signature records; only the
// confirmed ones are decoded. The work is bounded: a few cursor seeks and at
// most maxCandidates candidates per sketch key, whatever the store's size.
func findCopy(tx *bolt.Tx, a Article, rec sigRecord) (Article, bool, error) {
	sk := tx.Bucket([]byte(bucketSketch))
	if sk == nil {
		return Article{}, false, nil
	}
	day := dayOf(a.Published)
	span := uint32(DupWindow/(24*time.Hour)) + 1
	arts := tx.Bucket([]byte(bucketArticles))
	tried := make(map[string]bool)
	var best Article
	found := false
	for _, key := range rec.keys() {
		c := sk.Cursor()
		from := binary.BigEndian.AppendUint32(slices.Clone(key), day-min(day, span))
		n := 0
		for k, _ := c.Seek(from); k != nil && bytes.HasPrefix(k, key) && n < maxCandidates; k, _ = c.Next() {
			if len(k) != len(key)+dayLen+idLen || binary.BigEndian.Uint32(k[len(key):]) > day+span {
				break
			}
			n++
			id := string(k[len(key)+dayLen:])
			if tried[id] || id == a.ID {
				continue
			}
			tried[id] = true
			cand, ok := lookupRecord(tx, id)
			if !ok {
				old, found, err := getArticle(arts, []byte(id))
				if err != nil {
					return Article{}, false, err
				}
				if !found {
					continue
				}
				cand = newRecord(old.Published, old.Source.FeedURL, textSignature(old))
			}
			if cand.source() == rec.source() {
				if title, _, _ := similarity(rec, cand); title < DupSameSourceMinTitle {
					continue
				}
			}
			if !sameStory(rec, cand) {
				continue
			}
			story, ok, err := getArticle(arts, []byte(id))
			if err != nil {
				return Article{}, false, err
			}
			if ok && (!found || storyBefore(story, best)) {
				best, found = story, true
			}
		}
	}
	return best, found, nil
}

// storyBefore reports whether the story a was published before b, or at
// the same instant with a smaller ID.
func storyBefore(a, b Article) bool {
	if c := a.Published.Compare(b.Published); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// dayOf is the day number (Unix days) of t, clamped to the uint32 range.
func dayOf(t time.Time) uint32 {
	d := t.Unix() / 86400
	return uint32(max(0, min(d, 1<<32-1)))
}

// applyPlan writes p, the plan of in: the story change with its index
// entries (its counter changes go to cs), the story's signature record and
// sketch entries when its text or date changed, then the identity entries
// (URL identity, alias).
func applyPlan(tx *bolt.Tx, p plan, in *incoming, cs *counters) error {
	if p.kind == kindSuppressed {
		return nil
	}
	if ch := p.ch; ch != nil {
		if err := putChange(tx, *ch, cs); err != nil {
			return err
		}
		// A merge changes only Via and the categories of the stored
		// story: its record stays. Otherwise ch.art has in's text.
		if p.kind != kindMerged {
			var old sigRecord
			if ch.old != nil {
				old = storedRecord(tx, *ch.old)
			}
			next := newRecord(ch.art.Published, ch.art.Source.FeedURL, in.signature())
			if err := writeRecord(tx, ch.art.ID, old, next); err != nil {
				return err
			}
		}
	}
	if p.a.ID != p.story {
		if err := putIfAbsent(tx, bucketAliases, []byte(p.a.ID), p.story); err != nil {
			return err
		}
	}
	if p.a.Link != "" {
		if err := putIfAbsent(tx, bucketURLs, identityKey(IdentityURL(p.a.Link)), p.story); err != nil {
			return err
		}
	}
	return nil
}

// lookup returns the story ID stored under key in the bucket name, or "".
func lookup(tx *bolt.Tx, name string, key []byte) string {
	b := tx.Bucket([]byte(name))
	if b == nil {
		return ""
	}
	return string(b.Get(key))
}

// putIfAbsent stores key → id in the bucket name unless key is there.
func putIfAbsent(tx *bolt.Tx, name string, key []byte, id string) error {
	b, err := tx.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	if b.Get(key) != nil {
		return nil
	}
	if err := b.Put(key, []byte(id)); err != nil {
		return fmt.Errorf("put %s entry of %s: %w", name, id, err)
	}
	return nil
}

// tombstoned reports whether the story id was deleted.
func tombstoned(tx *bolt.Tx, id string) bool {
	return lookup(tx, bucketTombstones, []byte(id)) != ""
}
