package feedout

import (
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

// cacheKey identifies the document p asks for.
func (p pageRequest) cacheKey() string {
	if !p.explicit && p.before == nil && p.after == nil {
		return p.slug + p.format.ext // the newest page, most requests
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
