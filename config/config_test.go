package config_test

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/robfig/cron/v3"
	"golang.org/x/text/language"

	"github.com/tributary/tributary/config"
)

// compareRegexps makes cmp compare compiled regexps by their source, and
// parsed cron schedules by their activations.
func compareRegexps() cmp.Option {
	return cmp.Options{
		cmp.Comparer(func(a, b cron.Schedule) bool {
			if a == nil || b == nil {
				return a == b
			}
			for _, t := range []time.Time{
				time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC),
				time.Date(2026, 11, 1, 5, 31, 17, 0, time.UTC),
			} {
				if !a.Next(t).Equal(b.Next(t)) {
					return false
				}
			}
			return true
		}),
		cmp.Comparer(func(a, b *regexp.Regexp) bool {
			if a == nil || b == nil {
				return a == b
			}
			return a.String() == b.String()
		}),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	}
}

// mustSchedule parses spec with config.ParseSchedule.
func mustSchedule(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	sched, err := config.ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return sched
}

// problems splits a Parse or Load error into its lines.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// parse calls config.Parse on src as "t.yaml", with $STATE_DIRECTORY unset.
func parse(t *testing.T, src string) (*config.Config, error) {
	t.Helper()
	t.Setenv("STATE_DIRECTORY", "")
	return config.Parse("t.yaml", []byte(src))
}

// defaults is the Config of minimal.yaml, a file with one feed and nothing
// else, loaded as "t.yaml".
func defaults() *config.Config {
	return &config.Config{
		Path:     "t.yaml",
		Title:    "tributary",
		Listen:   "127.0.0.1:8080",
		BaseURL:  "http://127.0.0.1:8080",
		DataDir:  "data",
		Schedule: "@every 15m",
		Cron:     cron.Every(15 * time.Minute),
		Fetch: config.Fetch{
			Concurrency:  16,
			PerHost:      2,
			Timeout:      30 * time.Second,
			MaxBody:      10 << 20,
			MaxItems:     1000,
			UserAgent:    config.DefaultUserAgent,
			HostInterval: time.Second,
			MaxInterval:  24 * time.Hour,

			FullTextConcurrency: 4,
		},
		Retention: config.Retention{MaxAge: 720 * time.Hour, MaxPerCategory: 5000},
		Output:    config.Output{PageSize: 50, CacheSize: 64 << 20},
		HTTP:      config.HTTP{AdminAllow: config.DefaultAdminAllow()},
		Log:       config.Log{Format: "text"},
		Feeds:     []config.Feed{{URL: "https://a.example/feed", Cron: cron.Every(15 * time.Minute)}},
	}
}

func TestParseDefaults(t *testing.T) {
	src, err := os.ReadFile("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parse(t, string(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if diff := cmp.Diff(defaults(), got, compareRegexps()); diff != "" {
		t.Errorf("Parse(minimal.yaml) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseValues(t *testing.T) {
	src := `title: Today News
listen: 0.0.0.0:9000
data_dir: /var/lib/tributary
schedule: "*/20 * * * *"
fetch:
  concurrency: 4
  per_host: 4
  timeout: 1m30s
  max_body: 512 KiB
  max_items: 100000
  user_agent: test-agent/1
  host_interval: 250ms
  max_interval: 12h
  allow_private_redirects: true
  proxy: socks5://127.0.0.1:1080
  fulltext_concurrency: 2
retention:
  max_age: 48h
  max_per_category: 10
output:
  page_size: 1000
  cache_size: 16MB
http:
  admin_allow: [10.0.0.0/8, "192.0.2.7", "fd00::1/8", "::1"]
log:
  format: json
  level: DEBUG
categories:
  - name: Café Société
    match: ['(?i)\bcoffee\b', 'tea']
  - name: World
feeds:
  - url: " https://www.livemint.com/rss/world "
    title: Mint World
    categories: [World, Business]
    source_categories: true
    schedule: "@every 5m"
    include: '(?i)ukraine|russia'
    exclude: '(?i)sponsored'
    fulltext: "article .body, #main > p"
    proxy: http://alice:pw@proxy.example:3128
    user_agent: feed-agent/2
    timeout: 45s
  - url: http://a.example/feed
    source_categories: false
    categories: []
    fulltext: true
`
	want := &config.Config{
		Path:     "t.yaml",
		Title:    "Today News",
		Listen:   "0.0.0.0:9000",
		BaseURL:  "http://127.0.0.1:9000",
		DataDir:  "/var/lib/tributary",
		Schedule: "*/20 * * * *",
		Cron:     mustSchedule(t, "*/20 * * * *"),
		Fetch: config.Fetch{
			Concurrency:           4,
			PerHost:               4,
			Timeout:               90 * time.Second,
			MaxBody:               512 << 10,
			UserAgent:             "test-agent/1",
			HostInterval:          250 * time.Millisecond,
			MaxInterval:           12 * time.Hour,
			MaxItems:              100000,
			AllowPrivateRedirects: true,
			Proxy:                 mustProxy(t, "socks5://127.0.0.1:1080"),
			FullTextConcurrency:   2,
		},
		Retention: config.Retention{MaxAge: 48 * time.Hour, MaxPerCategory: 10},
		Output:    config.Output{PageSize: 1000, CacheSize: 16 << 20},
		HTTP: config.HTTP{AdminAllow: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
			netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("::1/128"),
		}},
		Log: config.Log{Format: "json", Level: slog.LevelDebug},
		Categories: []config.Category{
			{Name: "Café Société", Slug: "cafe-societe", Match: []*regexp.Regexp{
				regexp.MustCompile(`(?i)\bcoffee\b`), regexp.MustCompile("tea"),
			}},
			{Name: "World", Slug: "world"},
		},
		Feeds: []config.Feed{
			{
				URL:              "https://www.livemint.com/rss/world",
				Title:            "Mint World",
				Categories:       []string{"World", "Business"},
				SourceCategories: true,
				Schedule:         "@every 5m",
				Cron:             mustSchedule(t, "@every 5m"),
				Include:          regexp.MustCompile("(?i)ukraine|russia"),
				Exclude:          regexp.MustCompile("(?i)sponsored"),
				FullText:         config.FullText{Enabled: true, Selector: "article .body, #main > p"},
				Proxy:            mustProxy(t, "http://alice:pw@proxy.example:3128"),
				UserAgent:        "feed-agent/2",
				Timeout:          45 * time.Second,
			},
			{URL: "http://a.example/feed", Cron: mustSchedule(t, "*/20 * * * *"), FullText: config.FullText{Enabled: true}},
		},
	}
	got, err := parse(t, src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if diff := cmp.Diff(want, got, compareRegexps()); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"from listen", "listen: 192.0.2.1:80", "http://192.0.2.1:80"},
		{"empty host", "listen: ':8080'", "http://127.0.0.1:8080"},
		{"IPv4 wildcard", "listen: 0.0.0.0:8080", "http://127.0.0.1:8080"},
		{"IPv6 wildcard", "listen: '[::]:8080'", "http://localhost:8080"},
		{"IPv6 host", "listen: '[::1]:8080'", "http://[::1]:8080"},
		{"given", "base_url: https://news.example.org", "https://news.example.org"},
		{"trailing slash trimmed", "base_url: https://news.example.org/", "https://news.example.org"},
		{"path kept", "base_url: https://example.org/news/", "https://example.org/news"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(t, tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.BaseURL != tt.want {
				t.Errorf("BaseURL = %q, want %q", cfg.BaseURL, tt.want)
			}
		})
	}
}

func TestParseLanguage(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"absent", "title: x", ""},
		{"language only", "language: en", "en"},
		{"region, canonical case", "language: en-us", "en-US"},
		{"script", "language: zh-Hant-TW", "zh-Hant-TW"},
		{"deprecated subtag replaced", "language: iw", "he"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(t, tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.Language != tt.want {
				t.Errorf("Language = %q, want %q", cfg.Language, tt.want)
			}
		})
	}
}

func TestParsePerHostDefault(t *testing.T) {
	cfg, err := parse(t, "fetch: {concurrency: 1}\n")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.Fetch.PerHost != 1 {
		t.Errorf("PerHost = %d, want 1 (the default 2 capped by concurrency)", cfg.Fetch.PerHost)
	}
}

func TestParseAdminAllowEmpty(t *testing.T) {
	cfg, err := parse(t, "http:\n  admin_allow: []\n")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.HTTP.AdminAllow == nil || len(cfg.HTTP.AdminAllow) != 0 {
		t.Errorf("AdminAllow = %v, want an empty list (no client allowed)", cfg.HTTP.AdminAllow)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n", "feeds: []\n", "feeds:\ncategories:\nfetch:\n"} {
		t.Run(src, func(t *testing.T) {
			got, err := parse(t, src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := defaults()
			want.Feeds = nil
			if diff := cmp.Diff(want, got, compareRegexps()); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// The file as a whole.
		{"syntax error", "title: a\n b: c\n", []string{
			"t.yaml:2: mapping values are not allowed in this context"}},
		{"syntax error without a line", "\t- x\n", []string{
			"t.yaml: found character that cannot start any token"}},
		{"not a mapping", "- a\n- b\n", []string{
			"t.yaml:1: the file must be a mapping of keys to values, like the example config"}},
		{"two documents", "title: a\n---\ntitle: b\n", []string{
			"t.yaml:2: the file holds more than one YAML document (only one is read)"}},
		{"repeated key", "title: a\nlisten: :80\ntitle: b\n", []string{
			`t.yaml:3: key "title" is repeated (first at line 1)`}},
		{"merge key", "fetch:\n  <<: {timeout: 5s}\n", []string{
			"t.yaml:2: fetch: merge keys (<<) are not supported"}},
		{"complex key", "? [a]\n: b\n", []string{
			"t.yaml:1: keys must be plain words"}},

		// Unknown keys, at every level.
		{"unknown top-level key", "title: x\ncolor: red\n", []string{
			`t.yaml:2: unknown key "color"`}},
		{"unknown nested key", "fetch:\n  timeout: 5s\n  retries: 3\n", []string{
			`t.yaml:3: unknown key "retries"`}},
		{"unknown key in a list item", "feeds:\n  - url: https://a.example/\n  - url: https://b.example/\n    tilte: B\n", []string{
			`t.yaml:4: unknown key "tilte"`}},
		{"bad log format", "log:\n  format: xml\n", []string{
			`t.yaml:2: log.format: must be "text" or "json", found "xml"`}},
		{"bad log level", "log:\n  level: loud\n", []string{
			`t.yaml:2: log.level: must be debug, info, warn or error, found "loud"`}},
		{"unknown key in a category", "categories:\n  - name: A\n    matches: [a]\n", []string{
			`t.yaml:3: unknown key "matches"`}},

		// Shapes.
		{"fetch not a mapping", "fetch: 5\n", []string{
			"t.yaml:1: fetch: must be a mapping of keys to values"}},
		{"feeds not a list", "feeds: {url: https://a.example/}\n", []string{
			"t.yaml:1: feeds: must be a list"}},
		{"feed not a mapping", "feeds:\n  - https://a.example/\n", []string{
			"t.yaml:2: feeds[0]: must be a mapping of keys to values"}},
		{"title a list", "title: [a, b]\n", []string{
			"t.yaml:1: title: must be a single value, not a list or mapping"}},
		{"feed categories a string", "feeds:\n  - url: https://a.example/\n    categories: World\n", []string{
			"t.yaml:3: feeds[0].categories: must be a list"}},

		// Top-level values.
		{"empty title", "title: ''\n", []string{"t.yaml:1: title: must not be empty"}},
		{"blank title", "title: '  '\n", []string{"t.yaml:1: title: must not be empty"}},
		{"listen without port", "listen: localhost\n", []string{
			`t.yaml:1: listen: invalid address "localhost": want host:port, e.g. 127.0.0.1:8080`}},
		{"listen named port", "listen: localhost:http\n", []string{
			`t.yaml:1: listen: invalid address "localhost:http": the port must be a number from 0 to 65535`}},
		{"listen port too big", "listen: localhost:65536\n", []string{
			`t.yaml:1: listen: invalid address "localhost:65536": the port must be a number from 0 to 65535`}},
		{"language ill-formed", "title: x\nlanguage: english_UK\n", []string{
			`t.yaml:2: language: "english_UK" is not a BCP 47 language tag such as en or pt-BR`}},
		{"language unknown subtag", "language: xx-YY\n", []string{
			`t.yaml:1: language: "xx-YY" is not a BCP 47 language tag such as en or pt-BR`}},
		{"language undetermined", "language: und\n", []string{
			`t.yaml:1: language: "und" names no language; leave language out when the feeds mix languages`}},
		{"language not a string", "language: [en]\n", []string{
			"t.yaml:1: language: must be a single value, not a list or mapping"}},
		{"base_url relative", "base_url: /feeds\n", []string{
			`t.yaml:1: base_url: invalid URL "/feeds": want an absolute http or https URL`}},
		{"base_url ftp", "base_url: ftp://example.org\n", []string{
			`t.yaml:1: base_url: invalid URL "ftp://example.org": want an absolute http or https URL`}},
		{"base_url no host", "base_url: 'http:///x'\n", []string{
			`t.yaml:1: base_url: invalid URL "http:///x": no host`}},
		{"base_url query", "base_url: 'http://a.example/?x=1'\n", []string{
			`t.yaml:1: base_url: invalid URL "http://a.example/?x=1": no query or fragment allowed`}},
		{"empty data_dir", "data_dir: ''\n", []string{"t.yaml:1: data_dir: must not be empty"}},
		{"schedule fields", "schedule: every 5\n", []string{
			`t.yaml:1: schedule: invalid cron spec "every 5": expected exactly 5 fields, found 2`}},
		{"schedule six fields", "schedule: '0 * * * * *'\n", []string{
			`t.yaml:1: schedule: invalid cron spec "0 * * * * *": expected exactly 5 fields, found 6`}},
		{"schedule out of range", "schedule: '61 * * * *'\n", []string{
			`t.yaml:1: schedule: invalid cron spec "61 * * * *": end of range (61) above maximum (59): 61`}},
		{"schedule descriptor", "schedule: '@fortnightly'\n", []string{
			`t.yaml:1: schedule: invalid cron spec "@fortnightly": unrecognized descriptor: @fortnightly`}},
		{"schedule every too short", "schedule: '@every 59s'\n", []string{
			`t.yaml:1: schedule: invalid cron spec "@every 59s": @every must be at least 1m, to be polite to the feeds' servers`}},
		{"line breaks in a message are escaped", "schedule: \"TZ=UTC\\n0 * * * *\"\n", []string{
			`t.yaml:1: schedule: invalid cron spec "TZ=UTC\n0 * * * *": provided bad location UTC\n0: unknown time zone UTC\n0`}},
		{"schedule bad zone", "schedule: 'CRON_TZ=Mars/Base 0 * * * *'\n", []string{
			`t.yaml:1: schedule: invalid cron spec "CRON_TZ=Mars/Base 0 * * * *": provided bad location Mars/Base: unknown time zone Mars/Base`}},

		// fetch, retention, output.
		{"concurrency zero", "fetch: {concurrency: 0}\n", []string{
			"t.yaml:1: fetch.concurrency: must be from 1 to 1000, found 0"}},
		{"concurrency too big", "fetch:\n  concurrency: 1001\n", []string{
			"t.yaml:2: fetch.concurrency: must be from 1 to 1000, found 1001"}},
		{"concurrency a string", "fetch:\n  concurrency: many\n", []string{
			`t.yaml:2: fetch.concurrency: must be a whole number, found "many"`}},
		{"concurrency quoted", "fetch:\n  concurrency: '16'\n", []string{
			`t.yaml:2: fetch.concurrency: must be a whole number, found "16"`}},
		{"per_host zero", "fetch:\n  per_host: 0\n", []string{
			"t.yaml:2: fetch.per_host: must be at least 1, found 0"}},
		{"per_host above concurrency", "fetch:\n  concurrency: 2\n  per_host: 3\n", []string{
			"t.yaml:3: fetch.per_host: must not exceed fetch.concurrency (2), found 3"}},
		{"per_host above default concurrency", "fetch:\n  per_host: 17\n", []string{
			"t.yaml:2: fetch.per_host: must not exceed fetch.concurrency (16), found 17"}},
		{"host_interval negative", "fetch:\n  host_interval: -1s\n", []string{
			"t.yaml:2: fetch.host_interval: must be from 0s (no spacing) to 1m, found -1s"}},
		{"host_interval too long", "fetch:\n  concurrency: 2\n  host_interval: 2m\n", []string{
			"t.yaml:3: fetch.host_interval: must be from 0s (no spacing) to 1m, found 2m0s"}},
		{"allow_private_redirects not a boolean", "fetch:\n  allow_private_redirects: 1\n", []string{
			`t.yaml:2: fetch.allow_private_redirects: must be true or false, found "1"`}},
		{"host_interval bare number", "fetch:\n  host_interval: 1\n", []string{
			"t.yaml:2: fetch.host_interval: 1 has no unit: use a duration like 30s"}},
		{"max_interval too short", "fetch:\n  max_interval: 30m\n", []string{
			"t.yaml:2: fetch.max_interval: must be from 1h to 720h, found 30m0s"}},
		{"max_interval too long", "fetch:\n  max_interval: 1000h\n", []string{
			"t.yaml:2: fetch.max_interval: must be from 1h to 720h, found 1000h0m0s"}},
		{"timeout bare number", "fetch:\n  timeout: 30\n", []string{
			"t.yaml:2: fetch.timeout: 30 has no unit: use a duration like 30s"}},
		{"timeout bad unit", "fetch:\n  timeout: 30 seconds\n", []string{
			`t.yaml:2: fetch.timeout: invalid duration "30 seconds": use a duration like 30s, 15m or 720h`}},
		{"timeout zero", "fetch:\n  timeout: 0s\n", []string{
			"t.yaml:2: fetch.timeout: must be more than 0s and at most 10m, found 0s"}},
		{"timeout negative", "fetch:\n  timeout: -5s\n", []string{
			"t.yaml:2: fetch.timeout: must be more than 0s and at most 10m, found -5s"}},
		{"timeout too long", "fetch:\n  timeout: 11m\n", []string{
			"t.yaml:2: fetch.timeout: must be more than 0s and at most 10m, found 11m0s"}},
		{"max_items zero", "fetch:\n  max_items: 0\n", []string{
			"t.yaml:2: fetch.max_items: must be from 1 to 1000000, found 0"}},
		{"max_items too big", "fetch:\n  max_items: 1000001\n", []string{
			"t.yaml:2: fetch.max_items: must be from 1 to 1000000, found 1000001"}},
		{"max_body unit", "fetch:\n  max_body: 10TB\n", []string{
			`t.yaml:2: fetch.max_body: invalid size "10TB": use a whole number of bytes, or of KB, MB or GB`}},
		{"max_body too small", "fetch:\n  max_body: 1000\n", []string{
			"t.yaml:2: fetch.max_body: must be from 1KB to 1GB, found 1000"}},
		{"max_body too big", "fetch:\n  max_body: 2GB\n", []string{
			"t.yaml:2: fetch.max_body: must be from 1KB to 1GB, found 2GB"}},
		{"empty user_agent", "fetch:\n  user_agent: ''\n", []string{
			"t.yaml:2: fetch.user_agent: must not be empty"}},
		{"user_agent with newline", "fetch:\n  user_agent: \"a\\nb\"\n", []string{
			"t.yaml:2: fetch.user_agent: must be a single line without control characters"}},
		{"max_age too short", "retention:\n  max_age: 59m\n", []string{
			"t.yaml:2: retention.max_age: must be at least 1h, found 59m0s"}},
		{"max_age bare number", "retention:\n  max_age: 720\n", []string{
			"t.yaml:2: retention.max_age: 720 has no unit: use a duration like 30s"}},
		{"max_per_category zero", "retention:\n  max_per_category: 0\n", []string{
			"t.yaml:2: retention.max_per_category: must be at least 1, found 0"}},
		{"cache_size too small", "output:\n  cache_size: 10B\n", []string{
			"t.yaml:2: output.cache_size: must be from 1KB to 1GB, found 10B"}},
		{"admin_allow not a list", "http:\n  admin_allow: 127.0.0.1\n", []string{
			"t.yaml:2: http.admin_allow: must be a list"}},
		{"admin_allow bad network", "http:\n  admin_allow:\n    - 127.0.0.1\n    - 10.0.0.0/33\n    - localhost\n    - fe80::1%eth0\n", []string{
			`t.yaml:4: http.admin_allow[1]: invalid network "10.0.0.0/33": use an IP address or a CIDR network such as 192.168.0.0/16`,
			`t.yaml:5: http.admin_allow[2]: invalid network "localhost": use an IP address or a CIDR network such as 192.168.0.0/16`,
			`t.yaml:6: http.admin_allow[3]: invalid network "fe80::1%eth0": use an IP address or a CIDR network such as 192.168.0.0/16`}},
		{"page_size zero", "output:\n  page_size: 0\n", []string{
			"t.yaml:2: output.page_size: must be from 1 to 1000, found 0"}},
		{"page_size float", "output:\n  page_size: 2.5\n", []string{
			`t.yaml:2: output.page_size: must be a whole number, found "2.5"`}},
		{"two problems on one line, by column", "retention: {max_age: 1m, max_per_category: 0}\n", []string{
			"t.yaml:1: retention.max_age: must be at least 1h, found 1m0s",
			"t.yaml:1: retention.max_per_category: must be at least 1, found 0"}},

		// categories.
		{"category without name", "categories:\n  - match: [a]\n", []string{
			"t.yaml:2: categories[0]: name is required"}},
		{"category null name", "categories:\n  - name:\n", []string{
			"t.yaml:2: categories[0]: name is required"}},
		{"category name without slug", "categories:\n  - name: '!!!'\n", []string{
			`t.yaml:2: categories[0].name: name "!!!" has no letters or digits for a slug`}},
		{"category slug all", "categories:\n  - name: ALL\n", []string{
			`t.yaml:2: categories[0].name: name "ALL" has the slug "all", which is reserved for the merge of every source`}},
		{"category duplicate slug", "categories:\n  - name: World\n  - name: Sports\n  - name: ' world '\n", []string{
			`t.yaml:4: categories[2].name: slug "world" is already used by categories[0] (line 2)`}},
		{"category bad regexp", "categories:\n  - name: World\n    match:\n      - ok\n      - '(?P<x'\n", []string{
			"t.yaml:5: categories[0].match[1]: invalid regexp \"(?P<x\": invalid named capture: `(?P<x`"}},
		{"category match a string", "categories:\n  - name: World\n    match: war\n", []string{
			"t.yaml:3: categories[0].match: must be a list"}},

		// feeds.
		{"feed without url", "feeds:\n  - url: https://a.example/\n  - title: B\n", []string{
			"t.yaml:3: feeds[1]: url is required"}},
		{"feed null item", "feeds:\n  -\n", []string{
			"t.yaml:2: feeds[0]: url is required"}},
		{"feed relative url", "feeds:\n  - url: /feed.xml\n", []string{
			`t.yaml:2: feeds[0].url: invalid URL "/feed.xml": want an absolute http or https URL`}},
		{"feed url without host", "feeds:\n  - url: 'https:feed'\n", []string{
			`t.yaml:2: feeds[0].url: invalid URL "https:feed": no host`}},
		{"feed url unparsable", "feeds:\n  - url: 'http://[::1'\n", []string{
			`t.yaml:2: feeds[0].url: invalid URL "http://[::1": missing ']' in host`}},
		{"feed url empty", "feeds:\n  - url: ''\n", []string{
			`t.yaml:2: feeds[0].url: invalid URL "": want an absolute http or https URL`}},
		{"duplicate feed", "feeds:\n  - url: https://a.example/feed\n  - url: https://b.example/feed\n  - url: ' HTTPS://A.Example/feed'\n", []string{
			"t.yaml:4: feeds[2].url: duplicate feed: same URL as feeds[0] (line 2)"}},
		{"duplicate feed spelled differently", "feeds:\n  - url: http://a.example/feed\n  - url: http://A.example:80/feed/#top\n  - url: https://b.example:443\n  - url: https://b.example/\n", []string{
			"t.yaml:3: feeds[1].url: duplicate feed: same URL as feeds[0] (line 2)",
			"t.yaml:5: feeds[3].url: duplicate feed: same URL as feeds[2] (line 4)"}},
		{"feeds differing in path case are distinct", "feeds:\n  - url: https://a.example/Feed\n  - url: https://a.example/feed\n", nil},
		{"feed empty title", "feeds:\n  - url: https://a.example/\n    title: ''\n", []string{
			"t.yaml:3: feeds[0].title: must not be empty (leave it out to use the feed's own title)"}},
		{"feed category problems", "feeds:\n  - url: https://a.example/\n    categories: [World, '', All, ~, [x]]\n", []string{
			`t.yaml:3: feeds[0].categories[1]: name "" has no letters or digits for a slug`,
			`t.yaml:3: feeds[0].categories[2]: name "All" has the slug "all", which is reserved for the merge of every source`,
			"t.yaml:3: feeds[0].categories[3]: must be a category name",
			"t.yaml:3: feeds[0].categories[4]: must be a single value, not a list or mapping"}},
		{"feed source_categories yes", "feeds:\n  - url: https://a.example/\n    source_categories: yes\n", []string{
			`t.yaml:3: feeds[0].source_categories: must be true or false, found "yes"`}},
		{"feed schedule", "feeds:\n  - url: https://a.example/\n  - url: https://b.example/\n    schedule: '@every 5'\n", []string{
			`t.yaml:4: feeds[1].schedule: invalid cron spec "@every 5": failed to parse duration @every 5: time: missing unit in duration "5"`}},
		{"feed include", "feeds:\n  - url: https://a.example/\n    include: '*'\n", []string{
			"t.yaml:3: feeds[0].include: invalid regexp \"*\": missing argument to repetition operator: `*`"}},
		{"feed exclude", "feeds:\n  - url: https://a.example/\n    exclude: 'a{2,1}'\n", []string{
			"t.yaml:3: feeds[0].exclude: invalid regexp \"a{2,1}\": invalid repeat count: `{2,1}`"}},
		{"index counts items that are not mappings", "feeds:\n  - oops\n  - url: https://a.example/\n    include: '('\n", []string{
			"t.yaml:2: feeds[0]: must be a mapping of keys to values",
			"t.yaml:4: feeds[1].include: invalid regexp \"(\": missing closing ): `(`"}},
		{"problems from the decoder and the walk, merged by line", "feeds:\n  - url: x\n    colour: red\n  - url: https://a.example/\ntitle: ''\n", []string{
			`t.yaml:2: feeds[0].url: invalid URL "x": want an absolute http or https URL`,
			`t.yaml:3: unknown key "colour"`,
			"t.yaml:5: title: must not be empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(t, tt.src)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("Parse problems mismatch (-want +got):\n%s", diff)
			}
			if (err != nil) != (cfg == nil) {
				t.Errorf("Parse returned config %v with error %v; want exactly one", cfg != nil, err != nil)
			}
		})
	}
}

func TestLoadManyProblems(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "")
	const f = "testdata/many-problems.yaml"
	_, err := config.Load(f)
	want := []string{
		f + `:3: listen: invalid address "localhost:http": the port must be a number from 0 to 65535`,
		f + `:4: base_url: invalid URL "/relative": want an absolute http or https URL`,
		f + `:5: schedule: invalid cron spec "every 5": expected exactly 5 fields, found 2`,
		f + `:8: fetch.per_host: must not exceed fetch.concurrency (4), found 8`,
		f + `:9: fetch.timeout: 30 has no unit: use a duration like 30s`,
		f + `:10: fetch.max_body: must be from 1KB to 1GB, found 2GB`,
		f + `:12: unknown key "retries"`,
		f + `:14: retention.max_age: must be at least 1h, found 10m0s`,
		f + `:16: output.page_size: must be from 1 to 1000, found 0`,
		f + ":19: categories[0].match[1]: invalid regexp \"(unclosed\": missing closing ): `(unclosed`",
		f + `:20: categories[1].name: name "!!!" has no letters or digits for a slug`,
		f + `:21: categories[2].name: slug "world" is already used by categories[0] (line 18)`,
		f + `:25: feeds[1].url: invalid URL "ftp://example.com/feed": want an absolute http or https URL`,
		f + `:26: feeds[2].url: duplicate feed: same URL as feeds[0] (line 23)`,
		f + `:27: feeds[2].schedule: invalid cron spec "@every 10s": @every must be at least 1m, to be polite to the feeds' servers`,
		f + `:28: feeds[3]: url is required`,
		f + `:29: feeds[3].categories[0]: name "all" has the slug "all", which is reserved for the merge of every source`,
		f + ":30: feeds[3].include: invalid regexp \"[a-\": missing closing ]: `[a-`",
		f + `:31: unknown key "sourcecategories"`,
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("Load problems mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadExample(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv(config.SecretEnv, "")
	const f = "../tributary.example.yaml"
	cfg, err := config.Load(f)
	if err != nil {
		t.Fatalf("Load(%s): %v", f, err)
	}
	want := &config.Config{
		Path:     f,
		Title:    "Today News",
		Listen:   "127.0.0.1:8080",
		BaseURL:  "http://127.0.0.1:8080",
		DataDir:  filepath.Join("..", "data"),
		Schedule: "@every 15m",
		Cron:     cron.Every(15 * time.Minute),
		Fetch: config.Fetch{
			Concurrency:  16,
			PerHost:      2,
			Timeout:      30 * time.Second,
			MaxBody:      10 << 20,
			MaxItems:     1000,
			UserAgent:    config.DefaultUserAgent,
			HostInterval: time.Second,
			MaxInterval:  24 * time.Hour,

			FullTextConcurrency: 4,
		},
		Retention: config.Retention{MaxAge: 720 * time.Hour, MaxPerCategory: 5000},
		Output:    config.Output{PageSize: 50, MaxPerSource: 10, CacheSize: 64 << 20},
		HTTP:      config.HTTP{AdminAllow: config.DefaultAdminAllow()},
		Log:       config.Log{Format: "text"},
		Categories: []config.Category{{
			Name:    "U.S.–Russia Relations",
			Slug:    "u-s-russia-relations",
			Match:   []*regexp.Regexp{regexp.MustCompile(`(?i)\bkremlin\b`), regexp.MustCompile(`(?i)\bputin\b`)},
			Include: regexp.MustCompile(`(?i)\b(russia|kremlin|putin|moscow)\b`),
			Exclude: regexp.MustCompile(`(?i)\bsponsored\b`),
		}},
		Feeds: []config.Feed{
			{
				URL:              "https://www.livemint.com/rss/world",
				Title:            "Mint World",
				Categories:       []string{"World"},
				SourceCategories: true,
				Schedule:         "@every 30m",
				Cron:             cron.Every(30 * time.Minute),
				Include:          regexp.MustCompile(`(?i)\b(ukraine|russia|china|india)\b`),
				Exclude:          regexp.MustCompile(`(?i)\bsponsored\b`),
				CategoryMap: map[string]string{
					"foreign-policy-international-relations": "World",
					"politics":                               "World",
				},
			},
			{URL: "https://feeds.bloomberg.com/politics/news.rss", Categories: []string{"Politics"}, Cron: cron.Every(15 * time.Minute)},
			{URL: "https://go.dev/blog/feed.atom", Categories: []string{"Go"}, Cron: cron.Every(15 * time.Minute)},
		},
		Views: []config.View{{
			Name:       "Top Stories",
			Slug:       "top-stories",
			Categories: []string{"world", "politics"},
			Sources:    []string{"https://www.livemint.com/rss/world", "https://feeds.bloomberg.com/politics/news.rss"},
			Exclude:    regexp.MustCompile(`(?i)\bsponsored\b`),
			MinSources: 2, Sort: config.SortCoverage, Window: 48 * time.Hour, PageSize: 20, MaxPerSource: 3,
		}},
	}
	if diff := cmp.Diff(want, cfg, compareRegexps()); diff != "" {
		t.Errorf("Load(%s) mismatch (-want +got):\n%s", f, diff)
	}
}

func TestLoadUnreadable(t *testing.T) {
	f := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := config.Load(f)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(%s) = %v, want an error wrapping fs.ErrNotExist", f, err)
	}
	if want := "read config: open " + f + ": no such file or directory"; err.Error() != want {
		t.Errorf("Load error = %q, want %q", err, want)
	}
}

func TestDataDir(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "state")
	tests := []struct {
		name  string
		file  string // config path given to Parse
		state string // $STATE_DIRECTORY
		src   string
		want  string
	}{
		{"default next to the config", "/etc/tributary/tributary.yaml", "", "", "/etc/tributary/data"},
		{"default, config in the working directory", "tributary.yaml", "", "", "data"},
		{"relative config directory", "conf/tributary.yaml", "", "", filepath.Join("conf", "data")},
		{"STATE_DIRECTORY", "/etc/tributary/tributary.yaml", abs, "", abs},
		{"STATE_DIRECTORY first of several", "/etc/t.yaml", abs + ":/var/lib/other", "", abs},
		{"data_dir beats STATE_DIRECTORY", "/etc/t.yaml", abs, "data_dir: /srv/news\n", "/srv/news"},
		{"relative data_dir", "/etc/tributary/tributary.yaml", "", "data_dir: db/../store\n", "/etc/tributary/store"},
		{"absolute data_dir", "conf/t.yaml", "", "data_dir: /var/lib/tributary\n", "/var/lib/tributary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("STATE_DIRECTORY", tt.state)
			cfg, err := config.Parse(tt.file, []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.DataDir != tt.want {
				t.Errorf("DataDir = %q, want %q", cfg.DataDir, tt.want)
			}
		})
	}
}

func TestCronPanicsAreErrors(t *testing.T) {
	// Each of these panics in cron.ParseStandard.
	for _, spec := range []string{"TZ=0", "CRON_TZ=UTC", "TZ=", "CRON_TZ=", "CRON_TZ=UTC\t@hourly"} {
		t.Run(spec, func(t *testing.T) {
			q := strconv.Quote(spec)
			_, err := parse(t, "schedule: "+q+"\nfeeds:\n  - url: https://a.example/\n    schedule: "+q+"\n")
			want := []string{
				"t.yaml:1: schedule: invalid cron spec " + q + ": a time zone must be followed by a space and a schedule",
				"t.yaml:4: feeds[0].schedule: invalid cron spec " + q + ": a time zone must be followed by a space and a schedule",
			}
			if diff := cmp.Diff(want, problems(t, err)); diff != "" {
				t.Errorf("Parse problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEffectiveSchedule(t *testing.T) {
	if got := (config.Feed{}).EffectiveSchedule("@every 15m"); got != "@every 15m" {
		t.Errorf("EffectiveSchedule without own schedule = %q, want the global one", got)
	}
	if got := (config.Feed{Schedule: "@hourly"}).EffectiveSchedule("@every 15m"); got != "@hourly" {
		t.Errorf("EffectiveSchedule with own schedule = %q, want @hourly", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"../tributary.example.yaml", "testdata/minimal.yaml", "testdata/many-problems.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "title: a\n b: c\n", "\t- x", "- a\n", "a: &x [*x]\n", "fetch: *y\n",
		"feeds: [{url: https://a.example/, schedule: 'TZ=0'}]",
		"categories: [{name: x, match: ['(']}]", "feeds:\n  -\n  - 5\n",
		"fetch: {max_body: 99999999999999999999999GB, concurrency: 0x10}\n",
		"<<: {title: x}\n", "? [a]\n: b\n", "title: a\n---\ntitle: b\n",
		"schedule: \"TZ=UTC\\n0 * * * *\"\n", "feeds: [{url: https://a.example/, include: \"(\\n\"}]\n",
		"http: {admin_allow: [10.0.0.0/8, '::1', '::ffff:127.0.0.1', 1.2.3.4/0, [x]]}\n", "http: {admin_allow: []}\n",
		"output: {cache_size: 1GB}\n",
		"language: en-GB\n", "language: x-klingon\n",
		"database: postgres://u@db.example/news?sslmode=require\ndatabase_password_file: /dev/null\n",
		"database: postgresql://u:pw@[::1]:5432/news\n", "database_password_file: pw\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("f.yaml", data)
		if err != nil {
			if cfg != nil {
				t.Errorf("Parse returned a config with error %v", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml:") {
					t.Errorf("problem %q does not start with the file name", line)
				}
			}
			return
		}
		checkInvariants(t, cfg)
	})
}

// checkInvariants checks what Parse promises about a Config it returns.
func checkInvariants(t *testing.T, cfg *config.Config) {
	t.Helper()
	if cfg.Title == "" || cfg.Listen == "" || cfg.DataDir == "" || cfg.Schedule == "" || cfg.Fetch.UserAgent == "" {
		t.Errorf("empty string setting in %+v", cfg)
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") || strings.HasSuffix(cfg.BaseURL, "/") {
		t.Errorf("BaseURL = %q", cfg.BaseURL)
	}
	if f := cfg.Fetch; f.Concurrency < 1 || f.Concurrency > 1000 || f.PerHost < 1 || f.PerHost > f.Concurrency ||
		f.Timeout <= 0 || f.Timeout > 10*time.Minute || f.MaxBody < 1<<10 || f.MaxBody > 1<<30 ||
		f.MaxItems < 1 || f.MaxItems > 1_000_000 {
		t.Errorf("Fetch = %+v", f)
	}
	if r := cfg.Retention; r.MaxAge < time.Hour || r.MaxPerCategory < 1 {
		t.Errorf("Retention = %+v", r)
	}
	if l := cfg.Language; l != "" {
		if tag, err := language.Parse(l); err != nil || tag.String() != l {
			t.Errorf("Language = %q, not a canonical BCP 47 tag (%v)", l, err)
		}
	}
	if p := cfg.Output.PageSize; p < 1 || p > 1000 {
		t.Errorf("PageSize = %d", p)
	}
	if c := cfg.Output.CacheSize; c < 1<<10 || c > 1<<30 {
		t.Errorf("CacheSize = %d", c)
	}
	for _, p := range cfg.HTTP.AdminAllow {
		if !p.IsValid() || p != p.Masked() {
			t.Errorf("admin_allow network %v", p)
		}
	}
	slugs := map[string]bool{}
	for _, c := range cfg.Categories {
		if c.Slug == "" || c.Slug == "all" || c.Slug != config.Slug(c.Name) || slugs[c.Slug] {
			t.Errorf("category %+v", c)
		}
		slugs[c.Slug] = true
		for _, re := range c.Match {
			if re == nil {
				t.Errorf("category %q has a nil match", c.Name)
			}
		}
	}
	for _, f := range cfg.Feeds {
		if u := strings.ToLower(f.URL); !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Errorf("feed URL %q", f.URL)
		}
		for _, name := range f.Categories {
			if s := config.Slug(name); s == "" || s == "all" {
				t.Errorf("feed %s category %q has slug %q", f.URL, name, s)
			}
		}
	}
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("../tributary.example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := config.Parse("tributary.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// mustProxy parses a proxy URL or fails the test.
func mustProxy(t *testing.T, s string) config.Proxy {
	t.Helper()
	p, err := config.ParseProxy(s)
	if err != nil {
		t.Fatalf("ParseProxy: %v", err)
	}
	return p
}
