package fetcher

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tributary/tributary/storage"
)

// dueQueue is the in-memory schedule of a Fetcher's sources: a min-heap of
// when each source is next due, so that a scheduled pass finds its due
// sources in O(due × log sources) without reading every source's state.
// It is filled from the store once, by the first scheduled pass, and kept
// up to date by every fetch after that. A source waiting for the operator
// (410 Gone) and a source taken out for a pass are not in the heap. Safe
// for concurrent use.
type dueQueue struct {
	mu     sync.Mutex
	loaded bool
	h      dueHeap
}

// dueEntry is one source in the heap: its index in Fetcher.sources and when
// it is next due, in Unix nanoseconds (0: at once).
type dueEntry struct {
	at  int64
	src int32
}

// dueHeap is a container/heap of dueEntry, earliest first. pos maps a
// source index to its place in entries, -1 when it is not in the heap.
type dueHeap struct {
	entries []dueEntry
	pos     []int32
}

var _ heap.Interface = (*dueHeap)(nil)

// Len is the number of sources in the heap.
func (h *dueHeap) Len() int { return len(h.entries) }

// Less orders entries by due time, then by config order.
func (h *dueHeap) Less(i, j int) bool {
	a, b := h.entries[i], h.entries[j]
	return a.at < b.at || (a.at == b.at && a.src < b.src)
}

// Swap swaps two entries and their positions.
func (h *dueHeap) Swap(i, j int) {
	h.entries[i], h.entries[j] = h.entries[j], h.entries[i]
	h.pos[h.entries[i].src] = int32(i)
	h.pos[h.entries[j].src] = int32(j)
}

// Push appends x, a dueEntry (for container/heap).
func (h *dueHeap) Push(x any) {
	e := x.(dueEntry)
	h.pos[e.src] = int32(len(h.entries))
	h.entries = append(h.entries, e)
}

// Pop removes the last entry (for container/heap).
func (h *dueHeap) Pop() any {
	e := h.entries[len(h.entries)-1]
	h.entries = h.entries[:len(h.entries)-1]
	h.pos[e.src] = -1
	return e
}

// unixNano is t in Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// set schedules source src at at, or takes it out when scheduled is false.
// The caller holds q.mu.
func (q *dueQueue) set(src int, at time.Time, scheduled bool) {
	i := q.h.pos[src]
	switch {
	case !scheduled && i >= 0:
		heap.Remove(&q.h, int(i))
	case !scheduled:
	case i >= 0:
		q.h.entries[i].at = unixNano(at)
		heap.Fix(&q.h, int(i))
	default:
		heap.Push(&q.h, dueEntry{at: unixNano(at), src: int32(src)})
	}
}

// schedule sets when source src is next due (see set), once the queue is
// loaded; before that, the load reads the stored state.
func (q *dueQueue) schedule(src int, at time.Time, scheduled bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.loaded {
		q.set(src, at, scheduled)
	}
}

// popDue takes out and returns the indexes of the sources due at now, in
// config order.
func (q *dueQueue) popDue(now time.Time) []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	var due []int
	for q.h.Len() > 0 && q.h.entries[0].at <= now.UnixNano() {
		due = append(due, int(heap.Pop(&q.h).(dueEntry).src))
	}
	slices.Sort(due)
	return due
}

// load fills the queue from the stored states of f's sources, once: the
// only time a scheduled pass reads every source's state. A Retry-After
// stored before a restart defers its host again. A state that cannot be
// read leaves its source due at once (its pass reports the error); an
// ended ctx leaves the queue unloaded.
func (q *dueQueue) load(ctx context.Context, f *Fetcher) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.loaded {
		return nil
	}
	now := f.now()
	h := dueHeap{entries: make([]dueEntry, 0, len(f.sources)), pos: make([]int32, len(f.sources))}
	for i, src := range f.sources {
		st, ok, err := f.store.SourceState(ctx, src.feed.URL)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("load source states: %w", ctx.Err())
		}
		if st.RetryAfter.After(now) {
			f.hosts.deferHost(hostOf(src, st), st.RetryAfter)
		}
		h.pos[i] = -1
		if at, scheduled := f.wake(src, st, ok && err == nil, now); scheduled {
			h.pos[i] = int32(len(h.entries))
			h.entries = append(h.entries, dueEntry{at: unixNano(at), src: int32(i)})
		}
	}
	heap.Init(&h)
	q.h, q.loaded = h, true
	return nil
}

// nextDue returns when a source with stored state st (hasState false when
// it was never fetched) is next due for a scheduled pass at or after now,
// and false when it waits for the operator (410 Gone). A source whose host
// asked to be left alone (Retry-After) waits for it. A source in good
// health is also due once its current schedule says so, so that a
// shortened schedule takes effect without waiting for the old NextDue.
func (f *Fetcher) nextDue(src *source, st storage.SourceState, hasState bool, now time.Time) (time.Time, bool) {
	if !hasState {
		return time.Time{}, true
	}
	if st.Outcome == outcomeGone {
		return time.Time{}, false
	}
	at := st.NextDue
	if !at.IsZero() && st.ConsecutiveFailures == 0 && !st.LastFetch.IsZero() {
		if run := src.nextRun(st.LastFetch, f.floor(src, st)); run.Before(at) {
			at = run
		}
	}
	if until, ok := f.hosts.deferred(hostOf(src, st), now); ok {
		at = later(at, until)
	}
	return at, true
}

// wake returns when the due queue looks at a source with stored state st
// again: when it is next due (nextDue), or, for a source in good health
// whose documents are pushed, its next slot on its own schedule if that is
// sooner, since its pushes may stop (a lease that lapses) and it is then
// due on that schedule.
func (f *Fetcher) wake(src *source, st storage.SourceState, hasState bool, now time.Time) (time.Time, bool) {
	at, scheduled := f.nextDue(src, st, hasState, now)
	if scheduled && hasState && st.ConsecutiveFailures == 0 && f.isPushed(src) {
		if look := src.nextRun(now, f.pollFloor(st)); look.Before(at) {
			at = look
		}
	}
	return at, scheduled
}

// isDue reports whether a source with stored state st (hasState false when
// it was never fetched) is to be fetched at now by a scheduled pass.
func (f *Fetcher) isDue(src *source, st storage.SourceState, hasState bool, now time.Time) bool {
	at, scheduled := f.nextDue(src, st, hasState, now)
	return scheduled && !at.After(now)
}
