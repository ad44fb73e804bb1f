package feedout

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/tributary/tributary/storage"
)

// maxLimitFloor is the smallest upper bound of ?limit=: a reader may ask
// for up to max(page size, maxLimitFloor) entries per document.
const maxLimitFloor = 200

// pageRequest is what a feed URL asks for.
type pageRequest struct {
	slug   string
	format format
	// limit is the number of entries; explicit reports whether the URL set
	// it, so that paging links keep it.
	limit    int
	explicit bool
	before   storage.Cursor
	after    storage.Cursor
}

// errBadQuery marks a query the client got wrong (a 400).
var errBadQuery = errors.New("bad query")

// parsePageQuery reads ?limit=, ?before= and ?after= of a feed URL. limit
// must be an integer in [1, maxLimit]; before and after are cursors in
// unpadded base64url (as the paging links carry them), at most one of them.
// Other parameters are ignored: readers add their own cache busters.
func parsePageQuery(rawQuery string, pageSize, maxLimit int) (pageRequest, error) {
	p := pageRequest{limit: pageSize}
	if rawQuery == "" {
		return p, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, fmt.Errorf("%w: %w", errBadQuery, err)
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			return p, fmt.Errorf("%w: limit must be an integer from 1 to %d", errBadQuery, maxLimit)
		}
		p.limit, p.explicit = n, true
	}
	if p.before, err = decodeCursor(q, "before"); err != nil {
		return p, err
	}
	if p.after, err = decodeCursor(q, "after"); err != nil {
		return p, err
	}
	if p.before != nil && p.after != nil {
		return p, fmt.Errorf("%w: before and after exclude each other", errBadQuery)
	}
	return p, nil
}

// decodeCursor decodes the cursor parameter name of q; nil when absent.
func decodeCursor(q url.Values, name string) (storage.Cursor, error) {
	raw := q.Get(name)
	if raw == "" {
		return nil, nil
	}
	c, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(c) != cursorLen {
		return nil, fmt.Errorf("%w: %s is not a page cursor", errBadQuery, name)
	}
	return c, nil
}

// cursorLen is the length of a storage cursor: 8 time bytes and a 32-digit
// article ID.
const cursorLen = 40

// newest reports whether p asks for the newest page at the page size, the
// document readers poll.
func (p pageRequest) newest() bool {
	return !p.explicit && p.before == nil && p.after == nil
}

// canonical returns req with its cursor replaced by the canonical cursor of
// the page it selects, read from the index of the category slug: for
// ?before=X the cursor of the oldest entry at or after X (none, the newest
// page, when X is newer than every entry); for ?after=X the cursor of the
// newest entry at or before X (the lowest cursor when X is older than every
// entry). Both select exactly the entries X selects, so every cursor that
// lands on a page gives the same document, and the paging links already
// carry canonical cursors. It costs one read of one index entry.
func (h *handler) canonical(ctx context.Context, slug string, req pageRequest) (pageRequest, error) {
	switch {
	case req.before != nil:
		prev, ok := stepCursor(req.before, -1)
		if !ok {
			return req, nil // the lowest cursor: no other selects its page
		}
		p, err := h.store.Page(ctx, slug, storage.PageQuery{Limit: 1, After: prev})
		if err != nil {
			return req, fmt.Errorf("canonical cursor: %w", err)
		}
		req.before = p.Newest
	case req.after != nil:
		next, ok := stepCursor(req.after, +1)
		if !ok {
			return req, nil // the highest cursor: no other selects its page
		}
		p, err := h.store.Page(ctx, slug, storage.PageQuery{Limit: 1, Before: next})
		if err != nil {
			return req, fmt.Errorf("canonical cursor: %w", err)
		}
		req.after = p.Newest
		if req.after == nil {
			req.after = make(storage.Cursor, cursorLen)
		}
	}
	return req, nil
}

// stepCursor returns the cursor just above (delta +1) or just below (-1) c
// in byte order among cursors of c's length, or false when there is none.
// Index keys all have one length, so no key lies between c and the result.
func stepCursor(c storage.Cursor, delta int) (storage.Cursor, bool) {
	out := bytes.Clone(c)
	for i := len(out) - 1; i >= 0; i-- {
		switch {
		case delta > 0 && out[i] < 0xff:
			out[i]++
			return out, true
		case delta < 0 && out[i] > 0:
			out[i]--
			return out, true
		case delta > 0:
			out[i] = 0
		default:
			out[i] = 0xff
		}
	}
	return nil, false
}

// cacheKey identifies the document p asks for.
func (p pageRequest) cacheKey() string {
	if p.newest() {
		return p.slug + p.format.ext // most requests
	}
	return p.slug + p.format.ext + "?" + p.query(p.before, p.after).Encode()
}

// query returns the canonical query of the page at cursor before or after
// (at most one set) with p's limit when p set one explicitly.
func (p pageRequest) query(before, after storage.Cursor) url.Values {
	q := url.Values{}
	if p.explicit {
		q.Set("limit", strconv.Itoa(p.limit))
	}
	if before != nil {
		q.Set("before", base64.RawURLEncoding.EncodeToString(before))
	}
	if after != nil {
		q.Set("after", base64.RawURLEncoding.EncodeToString(after))
	}
	return q
}

// url returns the absolute URL of the feed document of p with query q.
func (p pageRequest) url(baseURL string, q url.Values) string {
	u := baseURL + "/feeds/" + url.PathEscape(p.slug) + p.format.ext
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}
