package feedout

import (
	"container/list"
	"sync"
)

// DefaultCacheSize is the byte budget of the document cache when
// Options.CacheSize is not positive: 64 MiB.
const DefaultCacheSize = 64 << 20

// docCache holds rendered documents within a byte budget, counting the
// plain and the gzip encoding of each. The newest page of every category
// and format is pinned: it is what readers poll, so it is never evicted.
// Archive pages share what the pinned ones leave of the budget and are
// evicted least recently used first; an archive page larger than that
// share is served but not kept. A docCache is safe for concurrent use.
type docCache struct {
	mu          sync.Mutex
	maxBytes    int64
	pinnedBytes int64
	lruBytes    int64
	pinned      map[string]*document
	archive     map[string]*list.Element // of *cacheEntry, in lru
	lru         list.List                // most recently used first
}

// cacheEntry is an archive page in the cache.
type cacheEntry struct {
	key string
	doc *document
}

// newDocCache returns an empty cache of maxBytes.
func newDocCache(maxBytes int64) *docCache {
	return &docCache{
		maxBytes: maxBytes,
		pinned:   make(map[string]*document),
		archive:  make(map[string]*list.Element),
	}
}

// cost is what keeping doc under key counts against the budget: the
// memory its bytes hold, capacity included.
func cost(key string, doc *document) int64 {
	return int64(len(key) + cap(doc.plain) + cap(doc.gzipped))
}

// get returns the document under key, nil when none; an archive page
// becomes the most recently used.
func (c *docCache) get(key string) *document {
	c.mu.Lock()
	defer c.mu.Unlock()
	if doc := c.pinned[key]; doc != nil {
		return doc
	}
	if e := c.archive[key]; e != nil {
		c.lru.MoveToFront(e)
		return e.Value.(*cacheEntry).doc
	}
	return nil
}

// put keeps doc under key, replacing the document there: pinned when pin
// is set, else as the most recently used archive page. It then evicts
// archive pages, least recently used first, until the cache fits its
// budget again.
func (c *docCache) put(key string, pin bool, doc *document) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(key)
	n := cost(key, doc)
	if pin {
		c.pinned[key] = doc
		c.pinnedBytes += n
	} else {
		if n > c.maxBytes-c.pinnedBytes {
			return // it would evict every other archive page and still not fit
		}
		c.archive[key] = c.lru.PushFront(&cacheEntry{key: key, doc: doc})
		c.lruBytes += n
	}
	for c.pinnedBytes+c.lruBytes > c.maxBytes && c.lru.Len() > 0 {
		c.remove(c.lru.Back().Value.(*cacheEntry).key)
	}
}

// remove drops the document under key, if any. The caller holds c.mu.
func (c *docCache) remove(key string) {
	if doc := c.pinned[key]; doc != nil {
		c.pinnedBytes -= cost(key, doc)
		delete(c.pinned, key)
	}
	if e := c.archive[key]; e != nil {
		c.lruBytes -= cost(key, e.Value.(*cacheEntry).doc)
		c.lru.Remove(e)
		delete(c.archive, key)
	}
}

// usage returns the number of documents kept and the bytes they count
// against the budget.
func (c *docCache) usage() (docs int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pinned) + c.lru.Len(), c.pinnedBytes + c.lruBytes
}
