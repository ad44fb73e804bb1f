package storage

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tributary/tributary/kv"
)

// idLen is the length of an article ID: 16 bytes in lower-case hex.
const idLen = 32

// categoryMeta is the value of a category in the categories bucket.
type categoryMeta struct {
	Name    string    `json:"name"`
	Count   int       `json:"count"`
	Updated time.Time `json:"updated"`
}

// change is one article SaveArticles writes: new when old is nil.
type change struct {
	art Article
	old *Article
}

// SaveArticles stores articles: new ones are inserted, changed ones rewritten
// in place (keeping the stored ID and FirstSeen), identical ones skipped.
// Zero times mean "unknown": a new article's zero FirstSeen becomes the
// store clock's now and its zero Published becomes FirstSeen; an existing
// article keeps its stored Published when the new one is zero, and its
// stored Updated unless the new one is later. An article whose content
// changed without a later Updated gets Updated = now. Every ID must
// be 32 lower-case hex digits (see story.ItemKey) and no category may be empty or
// AllSlug; otherwise nothing is stored. When an ID appears more than once the
// last copy wins and is counted once. The writes go in transactions of at
// most SaveChunk articles, each article whole in one of them, so that the
// cost of a save grows linearly with its articles (within one bbolt
// transaction, keys put in random order into one page cost time quadratic
// in their number). ctx is checked when the call begins and then between
// transactions: once begun, a save always writes its first SaveChunk
// articles, so that a deadline reached under load (waiting for the disk,
// say) never fails a save of an ordinary feed. On an error the
// transactions already committed stay, and the SaveResult counts their
// articles. A call that changes nothing writes nothing. Safe for
// concurrent use; the articles slice is not retained or modified.
//
// Before an article is stored as new, its story identity is looked up (see
// planArticle): a deleted story's items are suppressed, an item whose link
// has the URL identity of a stored story (story.IdentityURL) or that is a
// near-duplicate of one (story.SameStory, through the sketch index) lands in that
// story, as an edit or as a copy that adds its source to Via and unites
// the categories (the earliest-published copy becomes the story's primary,
// and an item that matches several stories unites them; see unitePlan).
// The identity indexes are written in the same transaction.
// The articles of one source in one call are taken as all its feed carries
// now: within one source an item with another GUID than a stored item is
// another item, unless the call no longer carries the stored item's GUID
// and the new one has its link and text (a renamed GUID).
func (s *Store) SaveArticles(ctx context.Context, articles []Article) (SaveResult, error) {
	if err := ctx.Err(); err != nil {
		return SaveResult{}, err
	}
	arts, err := prepare(articles)
	if err != nil {
		return SaveResult{}, err
	}
	var res SaveResult
	for start := 0; start < len(arts); start += SaveChunk {
		if err := ctx.Err(); err != nil && start > 0 {
			return res, fmt.Errorf("save %d articles: %d stored before the save ended: %w", len(arts), start, err)
		}
		cr, err := s.saveChunk(ctx, arts[start:min(start+SaveChunk, len(arts))])
		if err != nil {
			return res, fmt.Errorf("save %d articles: %w", len(arts), err)
		}
		res = res.plus(cr)
	}
	return res, nil
}

// saveChunk stores arts, at most SaveChunk articles of one save, in one
// write transaction, or in none when nothing changes. Each chunk is
// classified, signed and written before the next is looked at, so that the
// work between two checks of the save's ctx, and the memory held by
// signatures, are bounded by SaveChunk whatever the size of the save.
func (s *Store) saveChunk(ctx context.Context, arts []*incoming) (SaveResult, error) {
	// Classify in a read transaction first: re-fetched feeds are mostly
	// unchanged, and a write transaction is not free even when rolled back.
	// The near-duplicate lookup is left to the write transaction, which
	// plans every article again anyway.
	var res SaveResult
	var toWrite []*incoming // the new and edited ones
	pending := false
	var read kv.Carried
	err := s.db.View(ctx, func(tx kv.Tx) error {
		now := s.now().UTC()
		prefetchIdentity(tx, arts)
		var news []*incoming
		for _, in := range arts {
			p, err := planArticle(tx, in, now, nil)
			if err != nil {
				return err
			}
			res.add(p.kind)
			switch {
			case p.kind == kindNew:
				news = append(news, in)
				toWrite = append(toWrite, in)
			case p.kind == kindUpdated:
				toWrite = append(toWrite, in)
			case p.kind == kindMerged || newAlias(tx, p):
				pending = true
			}
		}
		lookUpIndex(tx, news, now)
		read = kv.Carry(tx)
		return nil
	})
	if err != nil || len(toWrite) == 0 && !pending {
		return res, err
	}
	// Signatures are the costly part of planning a new or edited article:
	// compute them here (those of the new ones are, for lookUpIndex), in
	// the caller's goroutine, rather than under the write lock that every
	// fetch shares.
	for _, in := range toWrite {
		in.signature()
	}
	// Plan again under the write lock, one article after the other: another
	// writer may have stored some of the same articles since the read
	// transaction, and an article may be a copy of an earlier one of arts.
	// On PostgreSQL the write transaction takes over what the read one read
	// where no commit since changed it (kv.Carrier), rather than read it
	// again under the lock.
	return s.writeChunk(arts, read)
}

// SaveChunk is the most articles SaveArticles writes in one transaction.
const SaveChunk = 1024

// writeChunk plans and writes arts in one write transaction, which first
// adopts read, what the save's read transaction read (kv.Carrier). The saves of
// concurrent fetches share transactions (groupCommit); the transaction
// function may run again after another caller's failure, which planning
// from scratch makes harmless.
func (s *Store) writeChunk(arts []*incoming, read kv.Carried) (SaveResult, error) {
	var res SaveResult
	merging := false
	err := s.writes.update(func(tx kv.Tx) error {
		now := s.now().UTC()
		res = SaveResult{}
		var cs counters
		kv.Adopt(tx, read)
		prefetchIdentity(tx, arts)
		prefetchFiling(tx, arts)
		v, err := s.sketches.begin(tx)
		if err != nil {
			return err
		}
		defer v.release()
		if err := planAll(tx, v, arts, now, &res, &cs); err != nil {
			return err
		}
		if err := v.flush(tx); err != nil {
			return err
		}
		merging = v.merging
		return cs.apply(tx, now)
	})
	if err == nil && merging {
		// The save's articles are stored whatever becomes of the merge: a
		// step that fails leaves it in progress, for the next save to go
		// on with (and Check reports a log it cannot read).
		_ = s.mergeLog(context.Background(), false)
	}
	return res, err
}

// planAll plans and applies arts in tx, one after the other, counting the
// outcomes in res and the counter changes in cs; v is the sketch log of
// the save.
func planAll(tx kv.Tx, v *sketchView, arts []*incoming, now time.Time, res *SaveResult, cs *counters) error {
	prefetchCopies(tx, v, arts, now)
	for _, in := range arts {
		p, err := planArticle(tx, in, now, v)
		if err != nil {
			return err
		}
		res.add(p.kind)
		if err := applyPlan(tx, v, p, in, cs); err != nil {
			return err
		}
	}
	return nil
}

// plus returns the sum of the counts of r and o.
func (r SaveResult) plus(o SaveResult) SaveResult {
	return SaveResult{
		New:        r.New + o.New,
		Updated:    r.Updated + o.Updated,
		Unchanged:  r.Unchanged + o.Unchanged,
		Merged:     r.Merged + o.Merged,
		Suppressed: r.Suppressed + o.Suppressed,
	}
}

// newAlias reports whether applying p records an alias not yet stored: an
// unchanged item under a new key, such as a renamed GUID.
func newAlias(tx kv.Tx, p plan) bool {
	return p.kind != kindSuppressed && p.a.ID != p.story && lookup(tx, bucketAliases, []byte(p.a.ID)) == ""
}

// incoming is an article given to SaveArticles, with its text signature
// computed at most once.
type incoming struct {
	Article
	sig []byte
	// indexed is what the sketch index gave its sketch keys in the
	// read transaction of the save, if it looked them up.
	indexed *indexLookup
	// judged is what the read transaction of the save found of the
	// candidates of indexed.
	judged *candidateMemo
	// carried holds the GUIDs of every article of the same call from the
	// same source: what the source's feed carries now.
	carried map[string]bool
}

// signature returns textSignature(in.Article).
func (in *incoming) signature() []byte {
	if in.sig == nil {
		in.sig = textSignature(in.Article)
	}
	return in.sig
}

// prepare validates and normalises articles and drops all but the last copy
// of a repeated ID, keeping first-appearance order.
func prepare(articles []Article) ([]*incoming, error) {
	pos := make(map[string]int, len(articles))
	out := make([]*incoming, 0, len(articles))
	for _, a := range articles {
		a, err := normalize(a)
		if err != nil {
			return nil, err
		}
		if i, dup := pos[a.ID]; dup {
			out[i] = &incoming{Article: a}
			continue
		}
		pos[a.ID] = len(out)
		out = append(out, &incoming{Article: a})
	}
	markCarried(out)
	return out, nil
}

// markCarried sets the carried GUIDs of every article of arts.
func markCarried(arts []*incoming) {
	bySource := make(map[string]map[string]bool)
	for _, in := range arts {
		guids := bySource[in.Source.FeedURL]
		if guids == nil {
			guids = make(map[string]bool)
			bySource[in.Source.FeedURL] = guids
		}
		if in.GUID != "" {
			guids[in.GUID] = true
		}
		in.carried = guids
	}
}

// normalize checks a and returns a copy with times in UTC and categories
// sorted by slug without duplicates (the first name of a slug wins).
func normalize(a Article) (Article, error) {
	if !validID(a.ID) {
		return Article{}, fmt.Errorf("save article %q (link %q): invalid id: want %d lower-case hex digits", a.ID, a.Link, idLen)
	}
	for _, c := range a.Categories {
		if c.Slug == "" || c.Slug == AllSlug {
			return Article{}, fmt.Errorf("save article %s: invalid category slug %q", a.ID, c.Slug)
		}
	}
	cats := slices.Clone(a.Categories)
	slices.SortStableFunc(cats, func(x, y Category) int { return cmp.Compare(x.Slug, y.Slug) })
	a.Categories = slices.CompactFunc(cats, func(x, y Category) bool { return x.Slug == y.Slug })
	a.Published = a.Published.UTC()
	a.Updated = a.Updated.UTC()
	a.FirstSeen = a.FirstSeen.UTC()
	return a, nil
}

// validID reports whether id has the form story.ItemKey returns.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// sameContent reports whether a and b are equal in everything but FirstSeen.
func sameContent(a, b Article) bool {
	return a.ID == b.ID && a.GUID == b.GUID && a.Title == b.Title && a.Link == b.Link &&
		a.Published.Equal(b.Published) && a.Updated.Equal(b.Updated) &&
		a.Author == b.Author && a.Content == b.Content && a.Summary == b.Summary && a.FullText == b.FullText &&
		slices.Equal(a.Categories, b.Categories) && a.Source == b.Source &&
		slices.Equal(a.Via, b.Via) && slices.Equal(a.Enclosures, b.Enclosures) &&
		samePodcast(a.Podcast, b.Podcast)
}

// samePodcast reports whether a and b hold the same podcast metadata.
func samePodcast(a, b *Podcast) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// newTimes completes the times of an article stored for the first time: an
// unknown FirstSeen is now, an unknown Published is FirstSeen, and Updated
// is never before Published.
func newTimes(a Article, now time.Time) Article {
	if a.FirstSeen.IsZero() {
		a.FirstSeen = now
	}
	if a.Published.IsZero() {
		a.Published = a.FirstSeen
	}
	a.Updated = laterOf(a.Updated, a.Published)
	return a
}

// inheritTimes completes the times of an article already stored as old:
// an unknown Published keeps the stored one, and an Updated that is not
// newer than the stored one is the stored one, so that a source re-sending
// an item without dates (or with an older date) is not an edit.
func inheritTimes(a, old Article) Article {
	if a.Published.IsZero() {
		a.Published = old.Published
	}
	if !a.Updated.After(old.Updated) {
		a.Updated = old.Updated
	}
	a.Updated = laterOf(a.Updated, a.Published)
	return a
}

// laterOf returns the later of a and b.
func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// counters collects the counter changes of the writes of one save, so
// that each category record and source counter is rewritten once per save
// rather than once per article.
type counters struct {
	categories map[string]*categoryMeta // Count holds the change
	changes    []change
}

// putChange writes c: the article value and its index entries, and counts
// its category changes into cs.
func putChange(tx kv.Tx, c change, cs *counters) error {
	arts := tx.Bucket([]byte(bucketArticles))
	index := tx.Bucket([]byte(bucketIndex))
	if cs.categories == nil {
		cs.categories = make(map[string]*categoryMeta)
	}
	cs.changes = append(cs.changes, c)
	a := c.art
	var oldCats []Category
	var oldKey []byte
	if c.old != nil {
		a.FirstSeen = c.old.FirstSeen
		oldCats = filedUnder(*c.old)
		oldKey = indexKey(c.old.Published, c.old.ID)
	}
	val, err := encodeArticle(a)
	if err != nil {
		return fmt.Errorf("encode article %s: %w", a.ID, err)
	}
	if err := arts.Put([]byte(a.ID), val); err != nil {
		return fmt.Errorf("put article %s: %w", a.ID, err)
	}
	newCats := filedUnder(a)
	for _, cat := range oldCats {
		if !hasSlug(newCats, cat.Slug) {
			delta(cs.categories, cat.Slug, "").Count--
		}
	}
	for _, cat := range newCats {
		d := delta(cs.categories, cat.Slug, cat.Name)
		if !hasSlug(oldCats, cat.Slug) {
			d.Count++
		}
	}
	if err := refile(index, oldCats, newCats, oldKey, indexKey(a.Published, a.ID)); err != nil {
		return err
	}
	cov, err := coverageIndex(tx)
	if err != nil {
		return err
	}
	var oldCov []byte
	if c.old != nil {
		oldCov = coverageKey(*c.old)
	}
	return refile(cov, oldCats, newCats, oldCov, coverageKey(a))
}

// refile moves an article's entries in the index buckets of b (the time
// or the coverage index) from oldKey under oldCats to newKey under
// newCats, touching only the entries that change.
func refile(b kv.Bucket, oldCats, newCats []Category, oldKey, newKey []byte) error {
	moved := !bytes.Equal(oldKey, newKey)
	for _, cat := range oldCats {
		if moved || !hasSlug(newCats, cat.Slug) {
			if err := unindex(b, cat.Slug, oldKey); err != nil {
				return err
			}
		}
	}
	for _, cat := range newCats {
		if moved || !hasSlug(oldCats, cat.Slug) {
			if err := reindex(b, cat.Slug, newKey); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply writes the collected counter changes; now stamps the categories
// they touch.
func (cs *counters) apply(tx kv.Tx, now time.Time) error {
	cats := tx.Bucket([]byte(bucketCategories))
	index := tx.Bucket([]byte(bucketIndex))
	for _, slug := range slices.Sorted(maps.Keys(cs.categories)) {
		if err := applyCategory(tx, cats, index, slug, cs.categories[slug], now); err != nil {
			return err
		}
	}
	return countSourceArticles(tx, cs.changes)
}

// encodeArticle is json.Marshal without HTML escaping: Content and Summary
// are HTML, and escaping each "<" as \u003c would bloat the file.
func encodeArticle(a Article) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// filedUnder lists every category a is indexed under: AllSlug and its own.
func filedUnder(a Article) []Category {
	return append([]Category{{Slug: AllSlug, Name: AllSlug}}, a.Categories...)
}

// hasSlug reports whether cats holds a category with the given slug.
func hasSlug(cats []Category, slug string) bool {
	return slices.ContainsFunc(cats, func(c Category) bool { return c.Slug == slug })
}

// delta returns the pending change of category slug, creating it; a
// non-empty name replaces the stored one.
func delta(deltas map[string]*categoryMeta, slug, name string) *categoryMeta {
	d, ok := deltas[slug]
	if !ok {
		d = &categoryMeta{}
		deltas[slug] = d
	}
	if name != "" {
		d.Name = name
	}
	return d
}

// applyCategory adds d.Count to the stored count of category slug, renames
// it when d.Name is set and stamps it with now. A category whose count
// reaches zero is removed together with its (empty) time and coverage
// indexes.
func applyCategory(tx kv.Tx, cats, index kv.Bucket, slug string, d *categoryMeta, now time.Time) error {
	var m categoryMeta
	if raw := cats.Get([]byte(slug)); raw != nil {
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode category %s: %w", slug, err)
		}
	}
	m.Count += d.Count
	if d.Name != "" {
		m.Name = d.Name
	}
	m.Updated = now
	switch {
	case m.Count < 0:
		return fmt.Errorf("update category %s: count would become %d", slug, m.Count)
	case m.Count == 0:
		if err := cats.Delete([]byte(slug)); err != nil {
			return fmt.Errorf("delete category %s: %w", slug, err)
		}
		if err := index.DeleteBucket([]byte(slug)); err != nil {
			return fmt.Errorf("delete index %s: %w", slug, err)
		}
		return dropCoverageIndex(tx, slug)
	}
	val, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode category %s: %w", slug, err)
	}
	if err := cats.Put([]byte(slug), val); err != nil {
		return fmt.Errorf("put category %s: %w", slug, err)
	}
	return nil
}
