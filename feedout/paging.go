package feedout

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// since, when not zero, leaves out entries published before it.
	since time.Time
	// words must all appear in an entry's title or text (lower case).
	words []string
	// key is the access key of a private feed, carried by every link of
	// its documents; empty for a public feed.
	key string
}

// Bounds of ?q=: its length in bytes and its number of words.
const (
	maxQueryBytes = 200
	maxQueryWords = 10
)

// errBadQuery marks a query the client got wrong (a 400).
var errBadQuery = errors.New("bad query")

// parsePageQuery reads ?limit=, ?before=, ?after=, ?since= and ?q= of a
// URL of the feed def. limit must be an integer in [1, def.maxLimit];
// before and after are cursors of def's index in unpadded base64url (as
// the paging links carry them), at most one of them; since is an RFC 3339
// time; q is up to 10 words (200 bytes), each to be found in an entry's
// title or text, ignoring case. Other parameters are ignored: readers add
// their own cache busters, and key is checked before.
func parsePageQuery(rawQuery string, def feedDef) (pageRequest, error) {
	p := pageRequest{limit: def.pageSize}
	if rawQuery == "" {
		return p, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, fmt.Errorf("%w: %w", errBadQuery, err)
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > def.maxLimit {
			return p, fmt.Errorf("%w: limit must be an integer from 1 to %d", errBadQuery, def.maxLimit)
		}
		p.limit, p.explicit = n, true
	}
	if p.before, err = decodeCursor(q, "before", def.cursorLen()); err != nil {
		return p, err
	}
	if p.after, err = decodeCursor(q, "after", def.cursorLen()); err != nil {
		return p, err
	}
	if p.before != nil && p.after != nil {
		return p, fmt.Errorf("%w: before and after exclude each other", errBadQuery)
	}
	if p.since, err = parseSince(q.Get("since")); err != nil {
		return p, err
	}
	p.words, err = parseWords(q["q"])
	return p, err
}

// parseSince reads ?since=: an RFC 3339 time from 1970 to 9999 (in UTC),
// kept in UTC at whole seconds so that the spellings of one instant share
// a cache entry.
func parseSince(raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if t = t.UTC(); err != nil || t.Before(time.Unix(0, 0)) || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%w: since must be an RFC 3339 time from 1970 on, such as 2025-08-17T15:00:00Z", errBadQuery)
	}
	return t.Truncate(time.Second), nil
}

// parseWords reads ?q= (every value given): its words in lower case,
// sorted and without repeats, so that one search has one cache entry.
func parseWords(values []string) ([]string, error) {
	raw := strings.Join(values, " ")
	if len(raw) > maxQueryBytes {
		return nil, fmt.Errorf("%w: q must be at most %d bytes", errBadQuery, maxQueryBytes)
	}
	if !utf8.ValidString(raw) {
		return nil, fmt.Errorf("%w: q must be UTF-8 text", errBadQuery)
	}
	words := strings.Fields(strings.ToLower(raw))
	slices.Sort(words)
	words = slices.Compact(words)
	if len(words) > maxQueryWords {
		return nil, fmt.Errorf("%w: q must have at most %d words", errBadQuery, maxQueryWords)
	}
	return words, nil
}

// decodeCursor decodes the cursor parameter name of q, of length n; nil
// when absent.
func decodeCursor(q url.Values, name string, n int) (storage.Cursor, error) {
	raw := q.Get(name)
	if raw == "" {
		return nil, nil
	}
	c, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(c) != n {
		return nil, fmt.Errorf("%w: %s is not a page cursor", errBadQuery, name)
	}
	return c, nil
}

// newest reports whether p asks for the newest page at the page size
// with no filter, the document readers poll.
func (p pageRequest) newest() bool {
	return !p.explicit && p.before == nil && p.after == nil && p.since.IsZero() && len(p.words) == 0
}

// canonical returns req with its cursor replaced by the canonical cursor of
// the page it selects among the entries of def that req's filters keep at
// now: for ?before=X the cursor of the oldest such entry at or after X
// (none, the newest page, when X is newer than every entry); for ?after=X
// the cursor of the newest such entry at or before X (the lowest cursor
// when X is older than every entry). Both select exactly the entries X
// selects, so every cursor that lands on a page gives the same document,
// and the paging links already carry canonical cursors. It costs one walk
// to the next entry kept.
func (h *handler) canonical(ctx context.Context, def feedDef, req pageRequest, now time.Time) (pageRequest, error) {
	q := def.pageQuery(req, now)
	q.Limit, q.Before, q.After, q.MaxPerSource = 1, nil, nil, 0
	switch {
	case req.before != nil:
		prev, ok := stepCursor(req.before, -1)
		if !ok {
			return req, nil // the lowest cursor: no other selects its page
		}
		q.After = prev
		p, err := h.store.ViewPage(ctx, def.slugs, q)
		if err != nil {
			return req, fmt.Errorf("canonical cursor: %w", err)
		}
		req.before = p.Newest
	case req.after != nil:
		next, ok := stepCursor(req.after, +1)
		if !ok {
			return req, nil // the highest cursor: no other selects its page
		}
		q.Before = next
		p, err := h.store.ViewPage(ctx, def.slugs, q)
		if err != nil {
			return req, fmt.Errorf("canonical cursor: %w", err)
		}
		req.after = p.Newest
		if req.after == nil {
			req.after = make(storage.Cursor, len(next))
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
// (at most one set) with p's limit when p set one explicitly, its filters
// and its access key.
func (p pageRequest) query(before, after storage.Cursor) url.Values {
	q := url.Values{}
	if p.explicit {
		q.Set("limit", strconv.Itoa(p.limit))
	}
	if !p.since.IsZero() {
		q.Set("since", p.since.Format(time.RFC3339))
	}
	if len(p.words) > 0 {
		q.Set("q", strings.Join(p.words, " "))
	}
	if p.key != "" {
		q.Set("key", p.key)
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

// keyQuery is the query of a page link carrying the access key key; empty
// for a public feed.
func keyQuery(key string) string {
	if key == "" {
		return ""
	}
	return "?" + url.Values{"key": {key}}.Encode()
}
