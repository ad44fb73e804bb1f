package fetcher

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"testing"
	"time"
)

// FuzzResponseHints feeds arbitrary Retry-After and Cache-Control header
// values and <ttl>/sy:* element texts to the code that turns a response
// into scheduling hints: no panic, and every result within its bounds.
func FuzzResponseHints(f *testing.F) {
	now := time.Date(2025, 8, 18, 9, 0, 0, 0, time.UTC)
	seeds := []struct{ retry, cc, ttl, period, freq string }{
		{"120", "max-age=600", "60", "hourly", "2"},
		{now.Add(time.Hour).Format(time.RFC1123), "public, max-age=0", "0", "daily", ""},
		{"Sun, 06 Nov 1994 08:49:37 GMT", "no-cache", "-5", "weekly", "0"},
		{"99999999999999999999", `max-age="300"`, "999999999999", "yearly", "-1"},
		{"", "max-age", "x", "fortnightly", "1e3"},
		{"\x00", "max-age=9223372036854775807", " 15 ", "", "3"},
	}
	for _, s := range seeds {
		f.Add(s.retry, s.cc, s.ttl, s.period, s.freq)
	}
	p := newParser()
	f.Fuzz(func(t *testing.T, retry, cc, ttl, period, freq string) {
		if at, ok := retryAfter(retry, now); ok && (!at.After(now) || at.After(now.Add(maxRetryAfter))) {
			t.Errorf("retryAfter(%q) = now+%v, outside (0, %v]", retry, at.Sub(now), maxRetryAfter)
		}
		if d := maxAge(cc); d < 0 || d > maxRetryAfter {
			t.Errorf("maxAge(%q) = %v", cc, d)
		}
		var doc bytes.Buffer
		fmt.Fprintf(&doc, `<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>t</title><ttl>%s</ttl><sy:updatePeriod>%s</sy:updatePeriod><sy:updateFrequency>%s</sy:updateFrequency></channel></rss>`,
			xmlText(ttl), xmlText(period), xmlText(freq))
		feed, err := p.Parse(&doc)
		if err != nil {
			return // texts that break the XML are the parser's business
		}
		if d := feedInterval(feed); d < 0 || d > 366*24*time.Hour {
			t.Errorf("feedInterval(ttl %q, sy %q/%q) = %v", ttl, period, freq, d)
		}
	})
}

// xmlText escapes s for an XML text node.
func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // a bytes.Buffer never fails
	return b.String()
}
