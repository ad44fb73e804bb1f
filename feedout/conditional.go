package feedout

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// writeBody answers a GET or HEAD for a representation with the strong
// entity tag etag, modified at modified, and the bytes body: 304 when the
// request's validators match (RFC 9110 13.1.2 If-None-Match, weak
// comparison; 13.1.3 If-Modified-Since, only without If-None-Match), else
// 200 with Content-Length and the body in one write (none for HEAD). The
// caller sets Content-Type and the other headers first. Range requests are
// answered with the whole document, which RFC 9110 14.2 allows.
//
// http.ServeContent does the same but copies the body through a 32 KiB
// buffer per request; a feed is polled far more often than it changes, and
// this path is the whole cost of a cached 200.
func writeBody(w http.ResponseWriter, r *http.Request, etag string, modified time.Time, body []byte) {
	hdr := w.Header()
	hdr.Set("ETag", etag)
	if !modified.IsZero() {
		hdr.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	if notModified(r, etag, modified) {
		// RFC 9110 15.4.5: a 304 has no content and no Content-Type.
		hdr.Del("Content-Type")
		hdr.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		// A failed write means the client went away: nothing left to tell it.
		_, _ = w.Write(body)
	}
}

// notModified reports whether r's conditional headers match etag and
// modified, so that a 304 answers it.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		for _, v := range inm {
			if etagListMatches(v, etag) {
				return true
			}
		}
		return false
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	// Last-Modified has whole seconds.
	return !modified.Truncate(time.Second).After(t)
}

// etagListMatches reports whether the If-None-Match value list (entity
// tags separated by commas, or "*") holds etag under weak comparison.
func etagListMatches(list, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == want {
			return true
		}
	}
	return false
}
