package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Size units. KB, MB and GB are binary multiples, as are KiB, MiB and GiB.
const (
	kibibyte = 1 << 10
	mebibyte = 1 << 20
	gibibyte = 1 << 30
)

// Limits checked by build.
const (
	minMaxBody     = kibibyte
	maxMaxBody     = gibibyte
	maxConcurrency = 1000
	maxMaxItems    = 1_000_000
	maxPageSize    = 1000
	maxTimeout     = 10 * time.Minute
	minMaxAge      = time.Hour
	minEvery       = time.Minute
	// maxHostInterval bounds fetch.host_interval.
	maxHostInterval = time.Minute
	// minMaxInterval and maxMaxInterval bound fetch.max_interval.
	minMaxInterval = time.Hour
	maxMaxInterval = 720 * time.Hour
)

// parseSize reads a byte count: a whole number, optionally followed by a
// unit B, KB, MB, GB, KiB, MiB or GiB (any case, optionally after a space).
// KB is 1024 bytes, MB 1024² and GB 1024³, the same as KiB, MiB and GiB.
// Sizes above 1 TiB are refused, so the result never overflows.
func parseSize(s string) (int64, error) {
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.TrimSpace(s[len(num):])
	var mult int64
	switch strings.ToLower(unit) {
	case "", "b":
		mult = 1
	case "kb", "kib":
		mult = kibibyte
	case "mb", "mib":
		mult = mebibyte
	case "gb", "gib":
		mult = gibibyte
	default:
		return 0, fmt.Errorf("invalid size %q: use a whole number of bytes, or of KB, MB or GB", s)
	}
	n, err := strconv.ParseUint(num, 10, 63) // no sign: sizes are not negative
	if err != nil || n > (1<<40)/uint64(mult) {
		return 0, fmt.Errorf("invalid size %q: use a whole number of bytes, or of KB, MB or GB", s)
	}
	return int64(n) * mult, nil
}

// ParseSchedule parses a robfig/cron spec the way the scheduler reads it
// (cron.ParseStandard: 5 fields or a descriptor) and requires an @every
// interval of at least a minute, to be polite to the feeds' servers. A
// spec without CRON_TZ= or TZ= is evaluated in UTC, whatever the zone of
// the time given to Next, which keeps the daylight saving bugs of cron
// v3.0.1 (a skipped or doubled run) away. Load calls it once per spec
// (Config.Cron, Feed.Cron); the fetcher uses the parsed schedules.
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	// cron v3.0.1 panics when a time zone is not followed by a space, as in
	// "TZ=0" or "CRON_TZ=UTC\t@hourly"; the check below catches those, and
	// the recover any other panic of the unmaintained parser.
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("invalid cron spec %q: the cron parser failed on it (%v)", spec, r)
		}
	}()
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if zone, ok := strings.CutPrefix(spec, prefix); ok && !strings.Contains(zone, " ") {
			return nil, fmt.Errorf("invalid cron spec %q: a time zone must be followed by a space and a schedule", spec)
		}
	}
	sched, err = cron.ParseStandard(spec)
	if err != nil {
		msg := err.Error()
		// "expected exactly 5 fields, found 2: [every 5]": the fields
		// repeat the spec, which the message quotes already.
		if i := strings.LastIndex(msg, ": ["); i >= 0 && strings.HasSuffix(msg, "]") {
			msg = msg[:i]
		}
		return nil, fmt.Errorf("invalid cron spec %q: %s", spec, msg)
	}
	if d, ok := sched.(cron.ConstantDelaySchedule); ok && d.Delay < minEvery {
		return nil, fmt.Errorf("invalid cron spec %q: @every must be at least 1m, to be polite to the feeds' servers", spec)
	}
	if s, ok := sched.(*cron.SpecSchedule); ok && s.Location == time.Local {
		// cron reads time.Local as "the zone of the time given".
		s.Location = time.UTC
	}
	return sched, nil
}

// compileRegexp compiles a Go regular expression, with an error that
// quotes it and drops the "error parsing regexp: " prefix.
func compileRegexp(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid regexp %q: %s", expr, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, nil
}

// checkListen checks a listen address: host:port with a numeric port.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid address %q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

// defaultBaseURL derives base_url from a valid listen address. A wildcard
// host is replaced by one a local browser can reach.
func defaultBaseURL(listen string) string {
	host, port, _ := net.SplitHostPort(listen) // checked by checkListen
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// parseHTTPURL parses an absolute http or https URL with a host.
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		// Unwrap drops the *url.Error prefix, which repeats the URL.
		return nil, fmt.Errorf("invalid URL %q: %w", RedactURL(s), errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("invalid URL %q: want an absolute http or https URL", RedactURL(s))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: no host", RedactURL(s))
	}
	return u, nil
}

// FeedKey returns the identity of a feed URL for duplicate detection: two
// URLs with the same key are the same source. The scheme and host are
// lower-cased, the scheme's default port (http 80, https 443), trailing
// slashes of the path and the fragment are dropped; the rest is kept as
// written. A string that does not parse as a URL is its own key, without
// surrounding space.
func FeedKey(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	return feedKey(u)
}

// feedKey is FeedKey of a parsed URL.
func feedKey(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	var b strings.Builder
	b.WriteString(scheme + "://")
	if u.User != nil {
		b.WriteString(u.User.String() + "@")
	}
	b.WriteString(host)
	b.WriteString(strings.TrimRight(u.EscapedPath(), "/"))
	if u.RawQuery != "" {
		b.WriteString("?" + u.RawQuery)
	}
	return b.String()
}
