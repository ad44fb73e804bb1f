package storage

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tributary/tributary/kv"

	"github.com/tributary/tributary/story"
)

// Buckets of story identity, created by the first write that needs them so
// that files written before they existed open unchanged; see doc.go.
const (
	bucketURLs       = "urls"       // identityKey(story.IdentityURL(link)) → story ID
	bucketAliases    = "aliases"    // item ID merged into a story → story ID
	bucketTombstones = "tombstones" // deleted story ID → BigEndian(deletion Unix ns) ‖ hashes; see delete.go
	bucketSketch     = "sketches"   // BigEndian(uint32 period) ‖ sketch key ‖ BigEndian(uint32 day) ‖ ID → empty; see signature.go
	bucketMembers    = "members"    // story ID → IDs of the items merged into it that have a signature record
)

// maxAliasHops bounds how many aliases resolveStory follows: a story
// absorbed into another (see unitePlan) becomes an alias itself, so an
// item may reach its story through a few of them.
const maxAliasHops = 16

// dayLen is the length of the day field of a sketch entry.
const dayLen = 4

// maxCandidates is how many candidates matchingStories reads per sketch
// key.
const maxCandidates = 32

// identityKey is the index key of a URL identity: the first 16 bytes of
// its SHA-256.
func identityKey(identity string) []byte {
	sum := sha256.Sum256([]byte("tributary-url-v1\x00" + identity))
	return sum[:16]
}

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
	// absorb are stored stories that a joins to story: a matches them
	// all, so they become one (see unitePlan).
	absorb []Article
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
// through the sketch index (story.SameStory) lands in it as a copy; anything
// else is new. A story of a's own source with another GUID is not a's
// story unless that GUID was renamed (see distinctItem). Without
// copies (the sketch log of a save) the near-duplicate lookup is skipped and an article it would
// have decided about is planned as new. It only reads tx.
func planArticle(tx kv.Tx, in *incoming, now time.Time, copies *sketchView) (plan, error) {
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
		target = lookup(tx, bucketURLs, identityKey(story.IdentityURL(a.Link)))
	}
	target = resolveStory(tx, target)
	if target != "" {
		if tombstoned(tx, target) && (aliased || !distinctFromDeleted(tx, in, target)) {
			return plan{kind: kindSuppressed, a: a, story: target}, nil
		}
		old, found, err := getArticle(arts, []byte(target))
		if err != nil {
			return plan{}, err
		}
		if found && !distinctItem(tx, in, old, aliased) && !weakIdentityMismatch(tx, in, old, aliased) {
			if old.Source.FeedURL == a.Source.FeedURL && story.IdentityURL(a.Link) == story.IdentityURL(old.Link) {
				if a.GUID != "" && old.GUID != "" {
					a.GUID = old.GUID // renamed: readers keep the id they know
				}
				p := updatePlan(a, old, now)
				p.a.ID = a.ID // the alias to record
				return p, nil
			}
			return copyPlan(newTimes(a, now), old, aliased), nil
		}
	}
	a = newTimes(a, now)
	if copies != nil {
		stories, err := matchingStories(tx, copies, in, a, newRecord(a, in.signature()))
		if err != nil {
			return plan{}, err
		}
		stories = slices.DeleteFunc(stories, func(s Article) bool { return distinctItem(tx, in, s, false) })
		if len(stories) > 0 {
			return unitePlan(a, stories), nil
		}
	}
	return plan{kind: kindNew, ch: &change{art: a}, a: a, story: a.ID}, nil
}

// distinctItem reports whether in and the stored story old are two items
// of one source: both have a GUID, the GUIDs differ, and old's GUID was not
// renamed to in's. Within one source a GUID names an item, whatever its
// link: podcast episodes, status page incidents or "#fragment" GUIDs that
// share one page are distinct items. A GUID counts as renamed when the
// call that brings in no longer carries old's GUID and in has old's text
// (the same text signature), or, for an item aliased to old by an earlier
// rename, as long as the call does not carry old's GUID: a feed that mints
// a new GUID on every fetch still gives one story. Without a GUID on
// either side, links and text decide as for items of different sources.
func distinctItem(tx kv.Tx, in *incoming, old Article, aliased bool) bool {
	if in.Source.FeedURL != old.Source.FeedURL || in.GUID == "" || old.GUID == "" || in.GUID == old.GUID {
		return false
	}
	if in.carried[old.GUID] {
		return true
	}
	return !aliased && !bytes.Equal(in.signature(), storedRecord(tx, old).Text())
}

// weakIdentityMismatch reports whether in, from another source than the
// stored story old, reached old only through a URL identity that folds
// away what tells items apart (a FeedBurner redirect link, whose token
// story.IdentityURL drops because it changes between fetches) while their texts
// are not the same story (story.Record.SameStory). Two posts of one blog that share a
// slug ("this-week-in-edge-rails" every week) share such an identity; the
// copy then goes through the near-duplicate lookup, which finds its own
// story whatever the order the items came in.
func weakIdentityMismatch(tx kv.Tx, in *incoming, old Article, aliased bool) bool {
	if aliased || in.Source.FeedURL == old.Source.FeedURL || !story.IsFeedBurnerLink(in.Link) && !story.IsFeedBurnerLink(old.Link) {
		return false
	}
	return !newRecord(in.Article, in.signature()).SameStory(storedRecord(tx, old))
}

// distinctFromDeleted reports whether in, an item whose link has the URL
// identity of the deleted story id, is another item of that story's source
// (distinctItem, told by the story's tombstone): a GUID and a text of its
// own. The other items of a podcast or a status page that share one link
// outlive the deletion of one of them.
func distinctFromDeleted(tx kv.Tx, in *incoming, id string) bool {
	v := lookup(tx, bucketTombstones, []byte(id))
	if len(v) < tombstoneLen || in.GUID == "" {
		return false
	}
	source := binary.BigEndian.Uint64([]byte(v[8:]))
	guid := binary.BigEndian.Uint64([]byte(v[16:]))
	text := binary.BigEndian.Uint64([]byte(v[24:]))
	return source == story.SourceHash(in.Source.FeedURL) && guid != 0 && guid != guidHash(in.GUID) &&
		text != textHash(in.signature())
}

// updatePlan is the plan for a, an edit of the stored story old (whose ID
// it takes): unchanged when only FirstSeen differs.
func updatePlan(a, old Article, now time.Time) plan {
	a.ID = old.ID
	a.Via = old.Via
	a.Categories = unionCategories(a.Categories, categoriesOfCopies(old))
	if len(old.Via) > 0 {
		a = withMedia(a, old) // the media its copies brought stay
	}
	a = inheritTimes(a, old)
	if a.FullText == "" && a.Source.FeedURL == old.Source.FeedURL {
		a.FullText = old.FullText // only new items fetch their page
	}
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

// unitePlan is the plan for a, a copy of every story of stories (sorted by
// storyBefore, at least one): a joins the first, and when it also matches
// the others they are one story after all (a chain: A matches B and B
// matches C, A not C), so the others are absorbed into the first: their
// copies join it and their IDs become aliases of it. Stories are thus the
// connected groups of matching items, whatever the order items arrive in.
func unitePlan(a Article, stories []Article) plan {
	story := stories[0]
	for _, o := range stories[1:] {
		story = absorbed(story, o)
	}
	p := mergePlan(a, story)
	p.absorb = stories[1:]
	if p.ch == nil && len(p.absorb) > 0 {
		p.ch = &change{art: story}
	}
	if p.ch != nil {
		p.ch.old = &stories[0]
	}
	return p
}

// absorbed returns the story s after the story o joined it: o's primary
// copy and every copy of o are copies of s.
func absorbed(s, o Article) Article {
	primary := o
	primary.Via = nil
	if p := mergePlan(primary, s); p.ch != nil {
		s = p.ch.art
	}
	for _, c := range o.Via {
		if c.Source.FeedURL != s.Source.FeedURL {
			s.Via = withVia(s.Via, "", c)
		}
	}
	return s
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
// a's source in Via (unless it already names it), a's categories and a's
// media (see withMedia). When
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
		merged = withMedia(merged, old)
	} else {
		if a.Source.FeedURL != old.Source.FeedURL &&
			!slices.ContainsFunc(old.Via, func(c Copy) bool { return c.Source.FeedURL == a.Source.FeedURL }) {
			merged.Via = withVia(old.Via, "", Copy{Source: a.Source, Link: a.Link})
		}
		merged = withMedia(merged, a)
	}
	merged.Categories = unionCategories(old.Categories, a.Categories)
	p := plan{kind: kindMerged, a: a, story: old.ID}
	if !sameContent(merged, old) {
		p.ch = &change{art: merged, old: &old}
	}
	return p
}

// withMedia returns story with the media of c, another copy of it: the
// enclosures of c whose URL story lacks follow story's own, and c's podcast
// metadata is taken when story has none. A podcast episode merged with a
// text copy of the same story stays playable, whichever copy is primary.
func withMedia(story, c Article) Article {
	encs := slices.Clone(story.Enclosures)
	for _, e := range c.Enclosures {
		if !slices.ContainsFunc(encs, func(x Enclosure) bool { return x.URL == e.URL }) {
			encs = append(encs, e)
		}
	}
	story.Enclosures = encs
	if story.Podcast == nil {
		story.Podcast = c.Podcast
	}
	return story
}

// demoted reports whether a, an item under the ID of the stored story old,
// is no longer its primary copy: an earlier copy from another source took
// its place (see mergePlan) and a's source is listed in Via.
func demoted(a, old Article) bool {
	return old.Source.FeedURL != a.Source.FeedURL &&
		slices.ContainsFunc(old.Via, func(c Copy) bool { return c.Source.FeedURL == a.Source.FeedURL })
}

// earlierCopy reports whether the copy a, from another source than the
// primary copy of the story old, comes before it: published earlier, or
// at the same instant from a feed URL that sorts first (a copy without a
// publication time counts as published when first seen, see newTimes).
// A copy of the primary's own source never does: its items are edits of
// the story or share it (see planArticle).
func earlierCopy(a, old Article) bool {
	if a.Source.FeedURL == old.Source.FeedURL {
		return false
	}
	if c := a.Published.Compare(old.Published); c != 0 {
		return c < 0
	}
	return a.Source.FeedURL < old.Source.FeedURL
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

// matchingStories looks the sketch keys of rec, the signature record of a,
// up in the sketch index, within story.DupWindow of a's Published day, and
// returns the stored stories that hold an item story.SameStory confirms (for an
// item of a's own source, only with a title similarity of
// story.DupSameSourceMinTitle or more), sorted by storyBefore: the first is the
// one published first, not the one found first, so that the story a copy
// joins does not depend on the order stories were stored in. The index
// holds the records of every item of a story, its copies included (see
// applyPlan), so a copy is found through any of them. Candidates are
// compared through their signature records; only the confirmed ones'
// stories are decoded. v is the sketch log of the save; the index's
// entries are those in.indexed holds if it is still valid. The work is bounded: a few cursor seeks and at most
// maxCandidates candidates per sketch key, whatever the store's size.
func matchingStories(tx kv.Tx, v *sketchView, in *incoming, a Article, rec story.Record) ([]Article, error) {
	sk := tx.Bucket([]byte(bucketSketch))
	arts := tx.Bucket([]byte(bucketArticles))
	tried := make(map[string]bool)
	var stories []Article
	day := dayOf(a.Published)
	vs := readIndexVersions(tx)
	memo := in.judged.usable(tx, rec)
	keys := rec.Keys()
	for i, key := range keys {
		indexed := in.indexedEntries(sk, vs, keys, i, day)
		for _, id := range sketchCandidates(tx, v, indexed, key, day) {
			if tried[id] || id == a.ID {
				continue
			}
			tried[id] = true
			same, err := isSameStory(tx, v, memo, rec, id)
			if err != nil {
				return nil, err
			}
			if !same {
				continue
			}
			sid := resolveStory(tx, id)
			if slices.ContainsFunc(stories, func(s Article) bool { return s.ID == sid }) {
				continue
			}
			story, ok, err := getArticle(arts, []byte(sid))
			if err != nil {
				return nil, err
			}
			if ok {
				stories = append(stories, story)
			}
		}
	}
	slices.SortFunc(stories, func(x, y Article) int {
		if storyBefore(x, y) {
			return -1
		}
		return 1
	})
	return stories, nil
}

// isSameStory reports whether the stored item id is the same story as
// the item of record rec (sameStory): memo's verdict if it has one that
// stands in the save of view v, else a comparison with id's signature
// record (computed from its article if it has none; false if neither
// exists).
func isSameStory(tx kv.Tx, v *sketchView, memo *candidateMemo, rec story.Record, id string) (bool, error) {
	if same, ok := memo.verdict(v, id); ok {
		return same, nil
	}
	cand, ok := lookupRecord(tx, id)
	if !ok {
		old, found, err := getArticle(tx.Bucket([]byte(bucketArticles)), []byte(id))
		if err != nil || !found {
			return false, err
		}
		cand = newRecord(old, textSignature(old))
	}
	return sameStory(rec, cand), nil
}

// resolveStory returns the ID of the story id stands for: id itself when
// it is a stored story or has no alias, else where its aliases lead.
func resolveStory(tx kv.Tx, id string) string {
	arts := tx.Bucket([]byte(bucketArticles))
	for range maxAliasHops {
		if id == "" || arts.Get([]byte(id)) != nil {
			return id
		}
		next := lookup(tx, bucketAliases, []byte(id))
		if next == "" {
			return id
		}
		id = next
	}
	return id
}

// storyBefore reports whether the story a was published before b, or at
// the same instant with a smaller ID.
func storyBefore(a, b Article) bool {
	if c := a.Published.Compare(b.Published); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// indexCandidates returns the entries of the sketch index sk (nil when
// there is none yet) of key whose day is within windowDays of day, ordered
// by day then ID, at most maxCandidates of them: a cursor seek in each of
// the one or two periods the window reaches.
func indexCandidates(sk kv.Bucket, key []byte, day uint32) []logEntry {
	if sk == nil {
		return nil
	}
	_, to := dayWindow(day)
	var found []logEntry
	for _, r := range sketchSeeks(key, day) {
		prefix := r.From[:len(r.From)-dayLen]
		c := sk.Cursor()
		for k, _ := c.Seek(r.From); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(found) == maxCandidates || len(k) != len(prefix)+dayLen+idLen || binary.BigEndian.Uint32(k[len(prefix):]) > to {
				break
			}
			found = append(found, logEntry{day: binary.BigEndian.Uint32(k[len(prefix):]), id: string(k[len(prefix)+dayLen:])})
		}
	}
	return found
}

// sketchCandidates returns the IDs of the sketch entries of key whose day
// is within windowDays of day, ordered by day then ID, at most
// maxCandidates of them: found, those of the sketch index
// (indexCandidates), and the live ones of the sketch log as v sees it (see
// bucketSketchLog), so that the candidates are those the index would give
// if every entry were in it.
func sketchCandidates(tx kv.Tx, v *sketchView, found []logEntry, key []byte, day uint32) []string {
	from, to := dayWindow(day)
	var logged []logEntry
	for period := from / sketchPeriodDays; period <= to/sketchPeriodDays; period++ {
		logged = v.appendLogged(logged, sketchPrefix(period, key), from, to)
	}
	slices.SortFunc(logged, compareLogEntries)
	ids := make([]string, 0, min(len(found)+len(logged), maxCandidates))
	var last logEntry
	for len(ids) < maxCandidates && (len(found) > 0 || len(logged) > 0) {
		var e logEntry
		if len(logged) == 0 || len(found) > 0 && compareLogEntries(found[0], logged[0]) <= 0 {
			e, found = found[0], found[1:]
		} else {
			e, logged = logged[0], logged[1:]
			if v.mayBeStale(e.id) && !liveEntry(tx, key, e.day, e.id) {
				continue
			}
		}
		if len(ids) > 0 && e == last {
			continue
		}
		ids, last = append(ids, e.id), e
	}
	return ids
}

// compareLogEntries orders sketch entries of one sketch key by day, then ID,
// as the sketch index does.
func compareLogEntries(x, y logEntry) int {
	if c := cmp.Compare(x.day, y.day); c != 0 {
		return c
	}
	return strings.Compare(x.id, y.id)
}

// dayWindow returns the first and last days of the sketch lookup window
// around day.
func dayWindow(day uint32) (from, to uint32) {
	return day - min(day, windowDays), day + min(windowDays, math.MaxUint32-day)
}

// sketchSeeks returns where sketchCandidates seeks the sketch entries of
// key around day: one range in each period the window reaches, from the
// period, key and first day of the window to the entries of the days
// after the window.
func sketchSeeks(key []byte, day uint32) []kv.Range {
	from, to := dayWindow(day)
	var out []kv.Range
	for period := from / sketchPeriodDays; period <= to/sketchPeriodDays; period++ {
		prefix := sketchPrefix(period, key)
		r := kv.Range{From: binary.BigEndian.AppendUint32(slices.Clip(prefix), from)}
		if to < math.MaxUint32 {
			r.To = binary.BigEndian.AppendUint32(slices.Clip(prefix), to+1)
		}
		out = append(out, r)
	}
	return out
}

// dayOf is the day number (Unix days) of t, clamped to the uint32 range.
func dayOf(t time.Time) uint32 {
	d := t.Unix() / 86400
	return uint32(max(0, min(d, 1<<32-1)))
}

// applyPlan writes p, the plan of in: the story change with its index
// entries (its counter changes go to cs), the story's signature record and
// sketch entries when its text or date changed, a new copy's own record
// and sketch entries (so that later items find the story through any of
// its copies), the stories p absorbs, then the identity entries (URL
// identity, alias).
func applyPlan(tx kv.Tx, v *sketchView, p plan, in *incoming, cs *counters) error {
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
			var old story.Record
			if ch.old != nil {
				old = storedRecord(tx, *ch.old)
			}
			next := newRecord(ch.art, in.signature())
			if err := writeRecord(tx, v, ch.art.ID, old, next); err != nil {
				return err
			}
		}
	}
	if p.kind == kindMerged {
		if err := addMember(tx, v, p.story, p.a, in); err != nil {
			return err
		}
	}
	for _, o := range p.absorb {
		if err := absorbStory(tx, o, p.story, cs); err != nil {
			return err
		}
	}
	if p.a.ID != p.story {
		if err := putIfAbsent(tx, bucketAliases, []byte(p.a.ID), p.story); err != nil {
			return err
		}
	}
	if p.a.Link != "" {
		if err := putIfAbsent(tx, bucketURLs, identityKey(story.IdentityURL(p.a.Link)), p.story); err != nil {
			return err
		}
	}
	return nil
}

// addMember writes the signature record and sketch entries of a, a copy
// merged into the story, under a's own ID, and lists a among the story's
// members, unless a is the story's own item, has a record already or has
// no publication time yet (a copy found by URL identity, not compared).
func addMember(tx kv.Tx, v *sketchView, story string, a Article, in *incoming) error {
	if a.ID == story || a.Published.IsZero() {
		return nil
	}
	if _, ok := lookupRecord(tx, a.ID); ok {
		return nil
	}
	if err := writeRecord(tx, v, a.ID, nil, newRecord(a, in.signature())); err != nil {
		return err
	}
	return addMembers(tx, story, []byte(a.ID))
}

// addMembers appends ids, concatenated IDs, to the members of story.
func addMembers(tx kv.Tx, story string, ids []byte) error {
	b, err := tx.CreateBucketIfNotExists([]byte(bucketMembers))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMembers, err)
	}
	if err := b.Put([]byte(story), slices.Concat(b.Get([]byte(story)), ids)); err != nil {
		return fmt.Errorf("put members of %s: %w", story, err)
	}
	return nil
}

// absorbStory removes the stored story o, which joined the story into:
// its article and index entries go (counted in cs and the source
// counters), its ID becomes an alias of into, and its members, itself
// included, become into's; their signature records stay, as records of
// into's copies.
func absorbStory(tx kv.Tx, o Article, into string, cs *counters) error {
	if cs.categories == nil {
		cs.categories = make(map[string]*categoryMeta)
	}
	if err := unfile(tx, o); err != nil {
		return err
	}
	for _, cat := range filedUnder(o) {
		delta(cs.categories, cat.Slug, "").Count--
	}
	if err := tx.Bucket([]byte(bucketArticles)).Delete([]byte(o.ID)); err != nil {
		return fmt.Errorf("delete absorbed article %s: %w", o.ID, err)
	}
	if err := addSourceCounts(tx, map[string]int64{o.Source.FeedURL: -1}); err != nil {
		return err
	}
	aliases, err := tx.CreateBucketIfNotExists([]byte(bucketAliases))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketAliases, err)
	}
	if err := aliases.Put([]byte(o.ID), []byte(into)); err != nil {
		return fmt.Errorf("alias absorbed story %s: %w", o.ID, err)
	}
	members := slices.Concat([]byte(o.ID), lookupBytes(tx, bucketMembers, o.ID))
	if b := tx.Bucket([]byte(bucketMembers)); b != nil {
		if err := b.Delete([]byte(o.ID)); err != nil {
			return fmt.Errorf("delete members of %s: %w", o.ID, err)
		}
	}
	return addMembers(tx, into, members)
}

// dropMembers removes the signature records and sketch entries of the
// members of the story id, and its members entry; their IDs go to stale.
func dropMembers(tx kv.Tx, id string, stale *staleMarks) error {
	b := tx.Bucket([]byte(bucketMembers))
	if b == nil {
		return nil
	}
	ids := slices.Clone(b.Get([]byte(id)))
	for m := range slices.Chunk(ids, idLen) {
		if err := dropRecordOf(tx, string(m), stale); err != nil {
			return err
		}
	}
	if err := b.Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete members of %s: %w", id, err)
	}
	return nil
}

// lookupBytes returns a copy of the value under key in the bucket name, or nil.
func lookupBytes(tx kv.Tx, name, key string) []byte {
	b := tx.Bucket([]byte(name))
	if b == nil {
		return nil
	}
	return slices.Clone(b.Get([]byte(key)))
}

// lookup returns the story ID stored under key in the bucket name, or "".
func lookup(tx kv.Tx, name string, key []byte) string {
	b := tx.Bucket([]byte(name))
	if b == nil {
		return ""
	}
	return string(b.Get(key))
}

// putIfAbsent stores key → id in the bucket name unless key is there.
func putIfAbsent(tx kv.Tx, name string, key []byte, id string) error {
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
func tombstoned(tx kv.Tx, id string) bool {
	return lookup(tx, bucketTombstones, []byte(id)) != ""
}
