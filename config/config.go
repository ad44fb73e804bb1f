// Package config loads and validates tributary's YAML configuration file.
package config

import (
	"regexp"
	"time"
)

// Config is a loaded, validated configuration. Load fills every default, so
// callers never see a zero value where the contract gives a default.
type Config struct {
	// Path is the file the configuration was read from.
	Path string
	// Title names the aggregate. Default "tributary".
	Title string
	// Listen is the HTTP listen address. Default "127.0.0.1:8080".
	Listen string
	// BaseURL is the public URL used in self links, without trailing slash.
	// Default "http://" + Listen.
	BaseURL string
	// DataDir holds tributary.db. Default $STATE_DIRECTORY when set, else "./data".
	DataDir string
	// Schedule is the robfig/cron spec for every source. Default "@every 15m".
	Schedule string
	Fetch     Fetch
	Retention Retention
	Output    Output
	// Categories are the categories with titles and match rules.
	Categories []Category
	// Feeds are the sources, in file order.
	Feeds []Feed
}

// Fetch holds the fetch.* settings.
type Fetch struct {
	// Concurrency is the number of fetches in flight, all hosts. Default 16.
	Concurrency int
	// PerHost is the number of fetches in flight to one host. Default 2.
	PerHost int
	// Timeout bounds one whole fetch. Default 30s.
	Timeout time.Duration
	// MaxBody is the largest accepted response body in bytes. Default 10 MB.
	MaxBody int64
	// UserAgent is sent with every request. Default "tributary/VERSION (+https://github.com/tributary/tributary)".
	UserAgent string
}

// Retention holds the retention.* settings.
type Retention struct {
	// MaxAge: articles older than this are pruned. Default 720h.
	MaxAge time.Duration
	// MaxPerCategory: the most articles kept per category. Default 5000.
	MaxPerCategory int
}

// Output holds the output.* settings.
type Output struct {
	// PageSize is the number of entries per feed document. Default 50.
	PageSize int
}

// Category is a configured category.
type Category struct {
	// Name is the display name.
	Name string
	// Slug is Slug(Name).
	Slug string
	// Match are regexes on title+text; an article matching any of them is
	// filed in this category.
	Match []*regexp.Regexp
}

// Feed is one configured source.
type Feed struct {
	// URL is the absolute http(s) URL of the feed; it identifies the source.
	URL string
	// Title overrides the feed's own title when non-empty.
	Title string
	// Categories are category names this source's articles are filed in.
	Categories []string
	// SourceCategories: also file articles under each item's own categories.
	SourceCategories bool
	// Schedule is the source's own cron spec; empty means Config.Schedule.
	Schedule string
	// Include, when non-nil, keeps only items whose title or text matches.
	Include *regexp.Regexp
	// Exclude, when non-nil, drops items whose title or text matches.
	Exclude *regexp.Regexp
}

// Load reads, decodes and validates the file at path. On invalid input the
// error lists every problem, one per line, as "FILE:LINE: path: message".
func Load(path string) (*Config, error) { panic("unimplemented") }

// Parse is Load on bytes already read; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) { panic("unimplemented") }

// Slug returns the URL slug of a category name: Unicode NFKD, diacritics
// dropped, lower case, every run of characters other than a-z0-9 replaced by
// "-", trimmed of "-". It may return "" for a name with no letters or digits.
func Slug(name string) string { panic("unimplemented") }
