// Package config loads and validates tributary's YAML configuration file.
//
// Load and Parse decode the file twice with go.yaml.in/yaml/v3: once through a
// Decoder with KnownFields(true), which reports unknown and repeated keys,
// and once into a yaml.Node tree, from which every value is read together
// with its line. Every problem in a file is reported at once, one per line,
// as "FILE:LINE: path: message", ordered by line, where path names the key
// with the real 0-based index of each list item, e.g. "feeds[2].schedule".
//
// A loaded Config is a plain value: it holds no file handles, and it is safe
// for concurrent reads as long as nobody modifies it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// DefaultUserAgent is the User-Agent sent with every request when
// fetch.user_agent is not set.
const DefaultUserAgent = "tributary/0.1 (+https://github.com/tributary/tributary)"

// Defaults for the keys a file may leave out; see the example config.
const (
	defaultTitle          = "tributary"
	defaultListen         = "127.0.0.1:8080"
	defaultDataDir        = "./data"
	defaultSchedule       = "@every 15m"
	defaultConcurrency    = 16
	defaultPerHost        = 2
	defaultTimeout        = 30 * time.Second
	defaultMaxBody        = 10 * mebibyte
	defaultMaxItems       = 1000
	defaultHostInterval   = time.Second
	defaultMaxInterval    = 24 * time.Hour
	defaultMaxAge         = 720 * time.Hour
	defaultMaxPerCategory = 5000
	defaultPageSize       = 50
	defaultCacheSize      = 64 * mebibyte
)

// Config is a loaded, validated configuration. Load fills every default, so
// callers never see a zero value where the contract gives a default.
type Config struct {
	// Path is the file the configuration was read from.
	Path string
	// Title names the aggregate. Default "tributary".
	Title string
	// Language is the BCP 47 tag of the language of the articles, in its
	// canonical form (such as "en" or "pt-BR"), published as the feeds'
	// xml:lang, RSS language and JSON Feed language. Empty (the default)
	// publishes no language.
	Language string
	// Listen is the HTTP listen address. Default "127.0.0.1:8080".
	Listen string
	// BaseURL is the public URL used in self links, without trailing slash.
	// Default "http://" + Listen, with a wildcard host ("", 0.0.0.0, ::)
	// replaced by 127.0.0.1 (localhost for ::).
	BaseURL string
	// DataDir holds tributary.db. Default $STATE_DIRECTORY (its first
	// entry) when set, else "./data". A relative data_dir is resolved
	// against the directory of the config file.
	DataDir string
	// Database is the URL (postgres:// or postgresql://, without a
	// password) of the PostgreSQL database the store lives in, shared by
	// every instance that names it; DataDir then holds no database. Empty
	// (the default): the store is the bbolt file tributary.db in DataDir.
	// Show it only through RedactURL.
	Database string
	// DatabasePassword is the password of Database: the content of
	// database_password_file less one trailing newline, or empty when the
	// file sets none (then $PGPASSWORD, or none).
	DatabasePassword Secret
	// Schedule is the robfig/cron spec for every source. Default "@every 15m".
	Schedule string
	// Cron is Schedule parsed (ParseSchedule), once, by Load.
	Cron cron.Schedule
	// Fetch holds the fetch.* settings.
	Fetch Fetch
	// Retention holds the retention.* settings.
	Retention Retention
	// Output holds the output.* settings.
	Output Output
	// HTTP holds the http.* settings.
	HTTP HTTP
	// Log holds the log.* settings.
	Log Log
	// WebSub holds the websub.* settings.
	WebSub WebSub
	// Categories are the declared categories (the categories: list), in
	// file order, each with a distinct Slug. Feeds may name further
	// categories that are not declared here.
	Categories []Category
	// Feeds are the sources, in file order.
	Feeds []Feed
	// Views are the output feeds defined by a query (the views: list), in
	// file order, each with a Slug no category or other view has.
	Views []View
	// Secret is the key of private feeds (see AccessKey): the content of
	// secret_file, else $TRIBUTARY_SECRET, at least 16 bytes; empty when
	// neither is set, and then no category or view may be private.
	Secret Secret
}

// Fetch holds the fetch.* settings.
type Fetch struct {
	// Concurrency is the number of fetches in flight, all hosts. Default 16.
	Concurrency int
	// PerHost is the number of fetches in flight to one host, at most
	// Concurrency. Default 2, or Concurrency if that is lower.
	PerHost int
	// Timeout bounds one whole download (connect to the last byte of the
	// body), and again the save of its articles beyond the first 1,024.
	// Default 30s.
	Timeout time.Duration
	// MaxBody is the largest accepted response body in bytes. Default 10 MB
	// (10 × 1024 × 1024 bytes).
	MaxBody int64
	// MaxItems is the most items of one feed that a fetch keeps: the
	// newest by date (an undated item counts as seen now). From 1 to
	// 1,000,000, default 1000.
	MaxItems int
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
	// HostInterval is the least time between the starts of two requests to
	// one host; 0 disables the spacing. From 0s to 1m, default 1s.
	HostInterval time.Duration
	// MaxInterval is the ceiling on a source's interval when the server
	// asks for a longer one (Cache-Control max-age, <ttl>, sy:updatePeriod).
	// From 1h to 720h, default 24h.
	MaxInterval time.Duration
	// AllowPrivateRedirects lets a source whose address is public redirect
	// to a private one (loopback, RFC 1918, link-local, …), and a public
	// page advertise a feed at one. Default false: such a fetch is
	// refused. A source configured with a private address may always
	// redirect within private space.
	AllowPrivateRedirects bool
	// Proxy is the proxy every request goes through unless its source
	// names its own (feeds[].proxy). The zero Proxy (the default) takes
	// the proxy from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).
	Proxy Proxy
	// FullTextConcurrency is the number of article pages fetched at once
	// for the sources with fulltext, all sources together, within the
	// per-host limits. From 1 to 64, default 4.
	FullTextConcurrency int
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
	// MaxPerSource is the most entries of one source in one feed document,
	// so that a chatty source cannot swamp a category; 0 (the default)
	// means no cap.
	MaxPerSource int
	// CacheSize bounds the bytes of rendered documents kept in memory,
	// plain and gzip encodings counted. From 1KB to 1GB, default 64 MB.
	CacheSize int64
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
	// Include, when non-nil, keeps an article in this category only when
	// it matches its title, text, link, author or categories; it does not
	// remove the article from other categories.
	Include *regexp.Regexp
	// Exclude, when non-nil, takes out of this category the articles it
	// matches.
	Exclude *regexp.Regexp
	// Private serves the category's feeds and page only with its access
	// key (see AccessKey); its articles stay in "all".
	Private bool
}

// Feed is one configured source.
type Feed struct {
	// URL is the absolute http(s) URL of the feed; it identifies the source.
	URL string
	// Title overrides the feed's own title when non-empty.
	Title string
	// Categories are the names of the categories this source's articles
	// are filed in, as written; each has a non-empty Slug other than "all".
	// They need not be declared in Config.Categories.
	Categories []string
	// SourceCategories: also file articles under each item's own categories.
	SourceCategories bool
	// Schedule is the source's own cron spec; empty means Config.Schedule.
	Schedule string
	// Cron is the schedule that applies to the source, parsed once by
	// Load: its own Schedule, else the Config.Cron it shares with the other
	// sources without one.
	Cron cron.Schedule
	// Include, when non-nil, keeps only items it matches: their title,
	// text, link, author or categories.
	Include *regexp.Regexp
	// Exclude, when non-nil, drops the items it matches.
	Exclude *regexp.Regexp
	// CategoryMap renames the item's own categories (source_categories):
	// the slug of a source category name → the name to file under instead.
	CategoryMap map[string]string
	// PublicURL, when non-empty, is published as the source's feed URL
	// (Atom source, RSS source, JSON Feed _source) instead of URL. It is an
	// http(s) URL without credentials.
	PublicURL string
	// Auth, when non-nil, is sent as HTTP Basic credentials, only to the
	// scheme and host of the URL fetched.
	Auth *BasicAuth
	// Headers are extra request headers by canonical name, their values
	// resolved at load (env:NAME, file:PATH); sent, like Auth, only to the
	// scheme and host of the URL fetched.
	Headers map[string]Secret
	// FullText, when enabled, replaces the text of each new item with
	// what is extracted from its linked page.
	FullText FullText
	// Proxy is the source's own proxy; the zero Proxy means fetch.proxy
	// (see EffectiveProxy).
	Proxy Proxy
	// UserAgent, when non-empty, is sent instead of fetch.user_agent.
	UserAgent string
	// Timeout, when non-zero, bounds the source's downloads instead of
	// fetch.timeout (see EffectiveTimeout).
	Timeout time.Duration
}

// PublishedURL returns the URL published for the source: PublicURL when
// set, else URL without its secrets (see RedactURL). Load refuses two
// sources with the same published URL, so it identifies the source.
func (f Feed) PublishedURL() string {
	if f.PublicURL != "" {
		return f.PublicURL
	}
	return RedactURL(f.URL)
}

// EffectiveSchedule returns the cron spec that applies to f: its own
// schedule, or global (normally Config.Schedule) when it has none.
func (f Feed) EffectiveSchedule(global string) string {
	if f.Schedule != "" {
		return f.Schedule
	}
	return global
}

// Load reads, decodes and validates the file at path. On invalid input the
// error lists every problem, one per line, as "FILE:LINE: path: message";
// if the file cannot be read the error wraps the *fs.PathError.
// Load reads $STATE_DIRECTORY for the default data_dir.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load on bytes already read; name is used in error messages, as
// Config.Path, and to resolve a relative data_dir.
func Parse(name string, data []byte) (*Config, error) {
	v := &validator{file: name}
	root, err := v.decodeTree(data)
	if err != nil {
		return nil, err
	}
	v.checkKeys(data)
	cfg := v.build(root)
	if err := v.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeTree decodes the first document of data into a node tree and returns
// its top node, nil for an empty file. A syntax error is returned at once,
// since nothing else can be read; a second document is a problem.
func (v *validator) decodeTree(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, v.syntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		v.addf(&next, "", "the file holds more than one YAML document (only one is read)")
	case !errors.Is(err, io.EOF):
		return nil, v.syntaxError(err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}
