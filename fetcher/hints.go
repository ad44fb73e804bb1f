package fetcher

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
)

// retryAfter reads a Retry-After header value, either delay-seconds or an
// HTTP date, as a time after now. It returns false when the value is missing,
// malformed or not in the future.
func retryAfter(value string, now time.Time) (time.Time, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}, false
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs <= 0 {
			return time.Time{}, false
		}
		// Clamp before converting, so that a huge value cannot overflow.
		secs = min(secs, int64(maxRetryAfter/time.Second))
		return now.Add(time.Duration(secs) * time.Second), true
	}
	t, err := http.ParseTime(value)
	if err != nil || !t.After(now) {
		return time.Time{}, false
	}
	if limit := now.Add(maxRetryAfter); t.After(limit) {
		t = limit
	}
	return t, true
}

// maxRetryAfter bounds any Retry-After, however far the server asks.
const maxRetryAfter = 7 * 24 * time.Hour

// maxAge reads the max-age directive of a Cache-Control header value. It
// returns 0 when there is none, or when no-cache, no-store or must-revalidate
// makes it meaningless as a fetch interval.
func maxAge(cacheControl string) time.Duration {
	var age time.Duration
	for dir := range strings.SplitSeq(cacheControl, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "no-cache", "no-store":
			return 0
		case "max-age":
			secs, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
			if err != nil || secs <= 0 {
				return 0
			}
			age = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
		}
	}
	return age
}

// feedInterval returns the interval a feed asks for in its RSS <ttl>
// (minutes) or in sy:updatePeriod and sy:updateFrequency, the longer of
// the two, or 0 when it asks for none or for nonsense.
func feedInterval(feed *gofeed.Feed) time.Duration {
	if feed == nil {
		return 0
	}
	var ttl time.Duration
	if orig, ok := feed.OriginalFeed().(*rss.Feed); ok && orig != nil {
		if mins, err := strconv.ParseInt(strings.TrimSpace(orig.TTL), 10, 64); err == nil && mins > 0 {
			ttl = time.Duration(min(mins, int64(maxRetryAfter/time.Minute))) * time.Minute
		}
	}
	return max(ttl, syndicationInterval(feed))
}

// syndicationInterval reads the RSS 1.0 syndication module: updatePeriod
// (hourly, daily, weekly, monthly, yearly; default daily) divided by
// updateFrequency (default 1).
func syndicationInterval(feed *gofeed.Feed) time.Duration {
	sy := feed.Extensions["sy"]
	if sy == nil {
		return 0
	}
	value := func(name string) string {
		if e := sy[name]; len(e) > 0 {
			return strings.TrimSpace(e[0].Value)
		}
		return ""
	}
	periods := map[string]time.Duration{
		"hourly":  time.Hour,
		"daily":   24 * time.Hour,
		"weekly":  7 * 24 * time.Hour,
		"monthly": 30 * 24 * time.Hour,
		"yearly":  365 * 24 * time.Hour,
	}
	period, freq := value("updatePeriod"), value("updateFrequency")
	if period == "" && freq == "" {
		return 0
	}
	p, ok := periods[strings.ToLower(cmp.Or(period, "daily"))]
	if !ok {
		return 0
	}
	n := int64(1)
	if freq != "" {
		v, err := strconv.ParseInt(freq, 10, 64)
		if err != nil || v <= 0 {
			return 0
		}
		n = v
	}
	return p / time.Duration(n)
}
