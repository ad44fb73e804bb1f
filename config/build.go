package config

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// reservedSlug is the slug of the merge of every source.
const reservedSlug = "all"

// firstSeen locates the first use of a slug or feed URL, for the message
// about a later duplicate.
type firstSeen struct {
	index int // in the YAML list
	line  int
}

// build reads the configuration from the node tree rooted at root (nil for
// an empty file), applying defaults and recording every problem in v. The
// result is only meaningful when no problem was recorded.
func (v *validator) build(root *yaml.Node) *Config {
	top, _ := v.mapping(root, "")
	cfg := &Config{Path: v.file}

	cfg.Title = v.text(top["title"], "title", defaultTitle)
	cfg.Language = v.language(top["language"])
	cfg.Listen = defaultListen
	if s, n, ok := v.scalar(top["listen"], "listen"); ok {
		if err := checkListen(s); err != nil {
			v.addf(n, "listen", "%v", err)
		} else {
			cfg.Listen = s
		}
	}
	cfg.BaseURL = defaultBaseURL(cfg.Listen)
	if s, n, ok := v.scalar(top["base_url"], "base_url"); ok {
		if u, err := parseHTTPURL(s); err != nil {
			v.addf(n, "base_url", "%v", err)
		} else if u.RawQuery != "" || u.Fragment != "" {
			v.addf(n, "base_url", "invalid URL %q: no query or fragment allowed", s)
		} else {
			cfg.BaseURL = strings.TrimRight(s, "/")
		}
	}
	cfg.DataDir = v.dataDir(top["data_dir"])
	cfg.Database = v.database(top["database"])
	cfg.DatabasePassword = v.databasePassword(top["database_password_file"], top["database"])
	cfg.Schedule, cfg.Cron = v.schedule(top["schedule"], "schedule", defaultSchedule)
	if cfg.Cron == nil {
		cfg.Cron, _ = ParseSchedule(defaultSchedule) // a constant that parses
	}

	fetch, _ := v.mapping(top["fetch"], "fetch")
	cfg.Fetch = Fetch{
		Concurrency:  v.integer(fetch["concurrency"], "fetch.concurrency", defaultConcurrency, 1, maxConcurrency),
		Timeout:      v.duration(fetch["timeout"], "fetch.timeout", defaultTimeout),
		MaxBody:      v.size(fetch["max_body"], "fetch.max_body", defaultMaxBody),
		MaxItems:     v.integer(fetch["max_items"], "fetch.max_items", defaultMaxItems, 1, maxMaxItems),
		UserAgent:    v.text(fetch["user_agent"], "fetch.user_agent", DefaultUserAgent),
		HostInterval: v.duration(fetch["host_interval"], "fetch.host_interval", defaultHostInterval),
		MaxInterval:  v.duration(fetch["max_interval"], "fetch.max_interval", defaultMaxInterval),
	}
	cfg.Fetch.AllowPrivateRedirects = v.boolean(fetch["allow_private_redirects"], "fetch.allow_private_redirects")
	cfg.Fetch.Proxy = v.proxy(fetch["proxy"], "fetch.proxy")
	cfg.Fetch.FullTextConcurrency = v.integer(fetch["fulltext_concurrency"], "fetch.fulltext_concurrency",
		defaultFullTextConcurrency, 1, maxFullTextConcurrency)
	// A missing per_host defaults to 2, or to concurrency if that is lower.
	cfg.Fetch.PerHost = v.integer(fetch["per_host"], "fetch.per_host", min(defaultPerHost, cfg.Fetch.Concurrency), 1, math.MaxInt)
	if n := fetch["per_host"]; cfg.Fetch.PerHost > cfg.Fetch.Concurrency {
		v.addf(n, "fetch.per_host", "must not exceed fetch.concurrency (%d), found %d", cfg.Fetch.Concurrency, cfg.Fetch.PerHost)
	}
	if n := fetch["timeout"]; cfg.Fetch.Timeout <= 0 || cfg.Fetch.Timeout > maxTimeout {
		v.addf(n, "fetch.timeout", "must be more than 0s and at most 10m, found %v", cfg.Fetch.Timeout)
	}
	if n := fetch["host_interval"]; cfg.Fetch.HostInterval < 0 || cfg.Fetch.HostInterval > maxHostInterval {
		v.addf(n, "fetch.host_interval", "must be from 0s (no spacing) to 1m, found %v", cfg.Fetch.HostInterval)
	}
	if n := fetch["max_interval"]; cfg.Fetch.MaxInterval < minMaxInterval || cfg.Fetch.MaxInterval > maxMaxInterval {
		v.addf(n, "fetch.max_interval", "must be from 1h to 720h, found %v", cfg.Fetch.MaxInterval)
	}
	if n := fetch["user_agent"]; strings.ContainsFunc(cfg.Fetch.UserAgent, unicode.IsControl) {
		v.addf(n, "fetch.user_agent", "must be a single line without control characters")
	}

	retention, _ := v.mapping(top["retention"], "retention")
	cfg.Retention = Retention{
		MaxAge:         v.duration(retention["max_age"], "retention.max_age", defaultMaxAge),
		MaxPerCategory: v.integer(retention["max_per_category"], "retention.max_per_category", defaultMaxPerCategory, 1, math.MaxInt),
	}
	if n := retention["max_age"]; cfg.Retention.MaxAge < minMaxAge {
		v.addf(n, "retention.max_age", "must be at least 1h, found %v", cfg.Retention.MaxAge)
	}

	output, _ := v.mapping(top["output"], "output")
	cfg.Output.PageSize = v.integer(output["page_size"], "output.page_size", defaultPageSize, 1, maxPageSize)
	cfg.Output.MaxPerSource = v.integer(output["max_per_source"], "output.max_per_source", 0, 0, maxPageSize)
	cfg.Output.CacheSize = v.size(output["cache_size"], "output.cache_size", defaultCacheSize)
	cfg.HTTP = v.httpSettings(top["http"])

	cfg.Log = v.logSettings(top["log"])
	cfg.WebSub = v.webSubSettings(top["websub"], cfg.BaseURL, top["base_url"] != nil && !isNull(top["base_url"]))

	cfg.Categories = v.categories(top["categories"])
	cfg.Feeds = v.feeds(top["feeds"], cfg.Cron)
	cfg.Views = v.views(top["views"], cfg)
	cfg.Secret = v.secret(top["secret_file"])
	v.checkPrivate(cfg.Secret, top["secret_file"] != nil)
	return cfg
}

// language reads the language key: a BCP 47 tag naming a language,
// returned in canonical form, or "" when n is missing.
func (v *validator) language(n *yaml.Node) string {
	s, n, ok := v.scalar(n, "language")
	if !ok {
		return ""
	}
	tag, err := language.Parse(s)
	if err != nil {
		v.addf(n, "language", "%q is not a BCP 47 language tag such as en or pt-BR", s)
		return ""
	}
	if _, conf := tag.Base(); conf != language.Exact {
		v.addf(n, "language", "%q names no language; leave language out when the feeds mix languages", s)
		return ""
	}
	return tag.String()
}

// requiredName reads the name of the list entry item (the mapping m at
// path), which must be set: false, with the problem recorded, when it is
// missing or not a string.
func (v *validator) requiredName(item *yaml.Node, m map[string]*yaml.Node, path string) (string, *yaml.Node, bool) {
	name, nameNode, ok := v.scalar(m["name"], path+".name")
	if !ok && (m["name"] == nil || isNull(m["name"])) {
		v.addf(item, path, "name is required")
	}
	return name, nameNode, ok
}

// categories reads the categories: list.
func (v *validator) categories(n *yaml.Node) []Category {
	seen := map[string]firstSeen{}
	var cats []Category
	for i, item := range v.sequence(n, "categories") {
		path := fmt.Sprintf("categories[%d]", i)
		m, ok := v.mapping(item, path)
		if !ok {
			continue
		}
		name, nameNode, ok := v.requiredName(item, m, path)
		if !ok {
			continue
		}
		c := Category{Name: name, Slug: v.categorySlug(nameNode, path+".name", name)}
		for j, expr := range v.sequence(m["match"], path+".match") {
			if re := v.regexp(expr, fmt.Sprintf("%s.match[%d]", path, j)); re != nil {
				c.Match = append(c.Match, re)
			}
		}
		c.Include = v.regexp(m["include"], path+".include")
		c.Exclude = v.regexp(m["exclude"], path+".exclude")
		c.Private = v.private(m["private"], path+".private")
		if c.Slug == "" {
			continue
		}
		if f, dup := seen[c.Slug]; dup {
			v.addf(nameNode, path+".name", "slug %q is already used by categories[%d] (line %d)", c.Slug, f.index, f.line)
			continue
		}
		seen[c.Slug] = firstSeen{index: i, line: nameNode.Line}
		cats = append(cats, c)
	}
	return cats
}

// categorySlug returns the slug of a category name at n, recording a
// problem, and returning "", if it is empty or reserved.
func (v *validator) categorySlug(n *yaml.Node, path, name string) string {
	slug := Slug(name)
	switch slug {
	case "":
		v.addf(n, path, "name %q has no letters or digits for a slug", name)
	case reservedSlug:
		v.addf(n, path, "name %q has the slug %q, which is reserved for the merge of every source", name, slug)
		return ""
	}
	return slug
}

// feeds reads the feeds: list.
func (v *validator) feeds(n *yaml.Node, global cron.Schedule) []Feed {
	seen := map[string]firstSeen{}
	published := map[string]firstSeen{}
	var feeds []Feed
	for i, item := range v.sequence(n, "feeds") {
		path := fmt.Sprintf("feeds[%d]", i)
		m, ok := v.mapping(item, path)
		if !ok {
			continue
		}
		var f Feed
		unique := false
		if s, urlNode, ok := v.scalar(m["url"], path+".url"); ok {
			f.URL = strings.TrimSpace(s)
			if u, err := parseHTTPURL(f.URL); err != nil {
				v.addf(urlNode, path+".url", "%v", err)
			} else if prev, dup := seen[feedKey(u)]; dup {
				v.addf(urlNode, path+".url", "duplicate feed: same URL as feeds[%d] (line %d)", prev.index, prev.line)
			} else {
				seen[feedKey(u)] = firstSeen{index: i, line: urlNode.Line}
				unique = true
			}
		} else if m["url"] == nil || isNull(m["url"]) {
			v.addf(item, path, "url is required")
		}
		if s, tn, ok := v.scalar(m["title"], path+".title"); ok {
			if strings.TrimSpace(s) == "" {
				v.addf(tn, path+".title", "must not be empty (leave it out to use the feed's own title)")
			}
			f.Title = s
		}
		for j, item := range v.sequence(m["categories"], path+".categories") {
			cpath := fmt.Sprintf("%s.categories[%d]", path, j)
			if name, n, ok := v.scalar(item, cpath); ok {
				if v.categorySlug(n, cpath, name) != "" {
					f.Categories = append(f.Categories, name)
				}
			} else if isNull(n) {
				v.addf(n, cpath, "must be a category name")
			}
		}
		f.SourceCategories = v.boolean(m["source_categories"], path+".source_categories")
		f.Schedule, f.Cron = v.schedule(m["schedule"], path+".schedule", "")
		if f.Cron == nil {
			f.Cron = global
		}
		f.Include = v.regexp(m["include"], path+".include")
		f.Exclude = v.regexp(m["exclude"], path+".exclude")
		f.CategoryMap = v.categoryMap(m["category_map"], path+".category_map")
		v.credentials(&f, m, item, path)
		v.network(&f, m, path)
		if unique {
			v.distinctPublished(published, f, item, i, path)
		}
		feeds = append(feeds, f)
	}
	return feeds
}

// credentials reads a feed's public_url, auth and headers into f; m holds
// the keys of the feed's mapping, item.
func (v *validator) credentials(f *Feed, m map[string]*yaml.Node, item *yaml.Node, path string) {
	f.PublicURL = v.publicURL(m["public_url"], path+".public_url")
	f.Auth = v.auth(m["auth"], path+".auth")
	f.Headers = v.headers(m["headers"], path+".headers")
	if u, err := url.Parse(f.URL); err == nil && u.User != nil && f.Auth != nil {
		v.addf(m["auth"], path+".auth", "the url carries credentials too: keep them in auth only")
	}
	if _, ok := f.Headers["Authorization"]; ok && f.Auth != nil {
		v.addf(m["headers"], path+".headers.Authorization", "auth sets the Authorization header: keep one of them")
	}
}

// distinctPublished records the URL f publishes in published and reports
// a source that publishes the same one as an earlier source, which happens
// when two URLs differ only in their secrets.
func (v *validator) distinctPublished(published map[string]firstSeen, f Feed, item *yaml.Node, i int, path string) {
	key := f.PublishedURL()
	if prev, dup := published[key]; dup {
		v.addf(item, path, "publishes the same source URL %q as feeds[%d] (line %d) once secrets are redacted: give one of them a public_url", key, prev.index, prev.line)
		return
	}
	published[key] = firstSeen{index: i, line: item.Line}
}

// categoryMap reads a feed's category_map: a mapping from source category
// names to category names, keyed by the slug of the source name.
func (v *validator) categoryMap(n *yaml.Node, path string) map[string]string {
	if n == nil || isNull(n) {
		return nil
	}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		v.addf(n, path, "must be a mapping of source category names to category names")
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		from, to := n.Content[i], resolve(n.Content[i+1])
		if from.Kind != yaml.ScalarNode || Slug(from.Value) == "" {
			v.addf(from, path, "source category %q has no letters or digits", from.Value)
			continue
		}
		kpath := path + "." + from.Value
		name, nameNode, ok := v.scalar(to, kpath)
		if !ok {
			if isNull(nameNode) {
				v.addf(from, kpath, "must be a category name")
			}
			continue
		}
		if v.categorySlug(nameNode, kpath, name) != "" {
			out[Slug(from.Value)] = name
		}
	}
	return out
}

// dataDir reads data_dir, defaulting to $STATE_DIRECTORY (set by systemd's
// StateDirectory=; its first entry if there are several) or ./data. A
// relative directory is resolved against the config file's directory.
func (v *validator) dataDir(n *yaml.Node) string {
	dir := defaultDataDir
	if state, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":"); state != "" {
		dir = state
	}
	if s, n, ok := v.scalar(n, "data_dir"); ok {
		if s == "" {
			v.addf(n, "data_dir", "must not be empty")
		} else {
			dir = s
		}
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(v.file), dir)
	}
	return dir
}

// isNull reports whether n is an explicit null (a key with no value, "~" or
// "null").
func isNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping returns the values of the mapping n by key. A missing or null n
// is an empty mapping; any other non-mapping is a problem, and ok is false.
func (v *validator) mapping(n *yaml.Node, path string) (m map[string]*yaml.Node, ok bool) {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			v.addf(n, "", "the file must be a mapping of keys to values, like the example config")
		} else {
			v.addf(n, path, "must be a mapping of keys to values")
		}
		return nil, false
	}
	m = make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := resolve(n.Content[i])
		switch {
		case key.Kind != yaml.ScalarNode:
			v.addf(key, path, "keys must be plain words")
		case key.Value == "<<" && key.ShortTag() == "!!merge":
			v.addf(key, path, "merge keys (<<) are not supported")
		default:
			if _, dup := m[key.Value]; !dup { // the decoder reports repeats
				m[key.Value] = n.Content[i+1]
			}
		}
	}
	return m, true
}

// sequence returns the items of the list n. A missing or null n is an
// empty list; any other non-list is a problem.
func (v *validator) sequence(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		v.addf(n, path, "must be a list")
		return nil
	}
	return n.Content
}

// scalar returns the text of the scalar n and the node it is read from;
// ok is false if n is missing or null, or is not a scalar (a problem).
func (v *validator) scalar(n *yaml.Node, path string) (s string, node *yaml.Node, ok bool) {
	n = resolve(n)
	if n == nil || isNull(n) {
		return "", n, false
	}
	if n.Kind != yaml.ScalarNode {
		v.addf(n, path, "must be a single value, not a list or mapping")
		return "", n, false
	}
	return n.Value, n, true
}

// text reads a string that must not be blank, or returns def if n is
// missing.
func (v *validator) text(n *yaml.Node, path, def string) string {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return def
	}
	if strings.TrimSpace(s) == "" {
		v.addf(n, path, "must not be empty")
		return def
	}
	return s
}

// integer reads a whole number from lo to hi (math.MaxInt: no upper
// bound), or returns def if n is missing.
func (v *validator) integer(n *yaml.Node, path string, def, lo, hi int) int {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return def
	}
	var i int
	if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		v.addf(n, path, "must be a whole number, found %q", s)
		return def
	}
	switch {
	case hi == math.MaxInt && i < lo:
		v.addf(n, path, "must be at least %d, found %d", lo, i)
		return def
	case i < lo || i > hi:
		v.addf(n, path, "must be from %d to %d, found %d", lo, hi, i)
		return def
	}
	return i
}

// boolean reads true or false, or returns false if n is missing.
func (v *validator) boolean(n *yaml.Node, path string) bool {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return false
	}
	var b bool
	if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		v.addf(n, path, "must be true or false, found %q", s)
	}
	return b
}

// duration reads a Go duration such as "30s", or returns def if n is
// missing. A bare number is a problem: its unit would be a guess.
func (v *validator) duration(n *yaml.Node, path string, def time.Duration) time.Duration {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return def
	}
	if tag := n.ShortTag(); tag == "!!int" || tag == "!!float" {
		v.addf(n, path, "%s has no unit: use a duration like 30s", s)
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		v.addf(n, path, "invalid duration %q: use a duration like 30s, 15m or 720h", s)
		return def
	}
	return d
}

// size reads a byte count from 1KB to 1GB such as 10MB (see parseSize),
// or returns def if n is missing.
func (v *validator) size(n *yaml.Node, path string, def int64) int64 {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return def
	}
	size, err := parseSize(s)
	if err != nil {
		v.addf(n, path, "%v", err)
		return def
	}
	if size < minMaxBody || size > maxMaxBody {
		v.addf(n, path, "must be from 1KB to 1GB, found %s", s)
		return def
	}
	return size
}

// schedule reads and parses a cron spec (see ParseSchedule), or returns
// def (unparsed, with a nil schedule) if n is missing or invalid.
func (v *validator) schedule(n *yaml.Node, path, def string) (string, cron.Schedule) {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return def, nil
	}
	sched, err := ParseSchedule(s)
	if err != nil {
		v.addf(n, path, "%v", err)
		return def, nil
	}
	return s, sched
}

// regexp compiles the regular expression n, or returns nil if n is missing
// or invalid.
func (v *validator) regexp(n *yaml.Node, path string) *regexp.Regexp {
	s, n, ok := v.scalar(n, path)
	if !ok {
		return nil
	}
	re, err := compileRegexp(s)
	if err != nil {
		v.addf(n, path, "%v", err)
		return nil
	}
	return re
}
