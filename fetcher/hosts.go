package fetcher

import (
	"context"
	"sync"
	"time"
)

// hostLimiter bounds the requests in flight to each host, spaces the starts
// of requests to one host by at least spacing, and remembers hosts that asked
// to be left alone (429 or 503 with Retry-After). It is safe for concurrent
// use. Spacing is measured on the real monotonic clock, since it is a real
// wait; deferrals are on the Fetcher's clock, since they are schedule.
type hostLimiter struct {
	limit   int
	spacing time.Duration
	mu      sync.Mutex
	hosts   map[string]*hostSlot
}

// hostSlot is the state of one host.
type hostSlot struct {
	sem chan struct{}
	// gate is held while a request waits out the spacing, so that the
	// requests of the host start one at a time.
	gate chan struct{}
	// lastStart is when the last request to the host started (held gate).
	lastStart time.Time
	// deferredUntil is the schedule time before which the host is not asked.
	deferredUntil time.Time
}

func newHostLimiter(limit int, spacing time.Duration) *hostLimiter {
	return &hostLimiter{limit: limit, spacing: spacing, hosts: make(map[string]*hostSlot)}
}

// slot returns host's state, creating it. The caller holds h.mu.
func (h *hostLimiter) slot(host string) *hostSlot {
	s, ok := h.hosts[host]
	if !ok {
		s = &hostSlot{sem: make(chan struct{}, h.limit), gate: make(chan struct{}, 1)}
		h.hosts[host] = s
	}
	return s
}

// acquire waits for a free slot for host and for the spacing since the last
// request to host started, and returns the function that frees the slot, or
// ctx's error.
func (h *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	h.mu.Lock()
	s := h.slot(host)
	h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release = func() { <-s.sem }
	if h.spacing <= 0 {
		return release, nil
	}
	select {
	case s.gate <- struct{}{}:
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
	defer func() { <-s.gate }()
	// The wait is measured from the real start of the previous request,
	// after its own wait, so that a late timer cannot shrink the spacing.
	if wait := time.Until(s.lastStart.Add(h.spacing)); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	s.lastStart = time.Now()
	return release, nil
}

// deferHost records that host must not be asked before until.
func (h *hostLimiter) deferHost(host string, until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.slot(host)
	s.deferredUntil = later(s.deferredUntil, until)
}

// deferred returns until when host is deferred at now, and false when it
// is not.
func (h *hostLimiter) deferred(host string, now time.Time) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.hosts[host]
	if !ok || !s.deferredUntil.After(now) {
		return time.Time{}, false
	}
	return s.deferredUntil, true
}
