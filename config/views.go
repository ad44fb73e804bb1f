package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// Sort orders of a view (views[].sort).
const (
	// SortNewest orders a view newest first, like a category.
	SortNewest = "newest"
	// SortCoverage orders a view by the number of distinct sources that
	// carried each story, most first, then newest first.
	SortCoverage = "coverage"
)

// SecretEnv is the environment variable read for the key of private feeds
// when the file sets no secret_file.
const SecretEnv = "TRIBUTARY_SECRET"

// Bounds of the view keys and of the secret.
const (
	maxMinSources   = 1000
	minWindow       = time.Minute
	maxWindow       = 10 * 365 * 24 * time.Hour
	minSecretLength = 16
	// accessKeyBytes is the length of an access key before encoding: 128
	// bits of HMAC-SHA256.
	accessKeyBytes = 16
)

// View is an output feed defined by a query (the views: list), served like
// a category at /feeds/{Slug}.atom and /c/{Slug}.
type View struct {
	// Name is the display name.
	Name string
	// Slug is Slug(Name); it names no category and no other view.
	Slug string
	// Categories are the slugs of the categories whose stories the view
	// holds; empty means every story (the "all" category).
	Categories []string
	// Sources are the configured URLs (Feed.URL) of the sources whose
	// stories the view holds (a story is in when any of its copies came
	// from one); empty means every source.
	Sources []string
	// Include and Exclude keep and drop stories like a category's include
	// and exclude, matching title, text, link, author and category names.
	Include, Exclude *regexp.Regexp
	// MinSources leaves out stories carried by fewer distinct sources.
	// From 1 (the default) to 1000.
	MinSources int
	// Sort is SortNewest (the default) or SortCoverage.
	Sort string
	// Window, when positive, leaves out stories published longer ago.
	// From 1m to 87600h; 0 (the default) means no window.
	Window time.Duration
	// PageSize is the number of entries per document. Default
	// output.page_size.
	PageSize int
	// MaxPerSource caps the entries of one source per document; 0 means
	// no cap. Default output.max_per_source.
	MaxPerSource int
	// Private serves the view only with its access key (see AccessKey).
	Private bool
}

// AccessKey returns the key that opens the private feed slug: the first
// 128 bits of HMAC-SHA256(secret, slug) in unpadded base64url (22
// characters). It is stable while the secret is: a new secret revokes
// every key. Compare keys with crypto/subtle, never with ==.
func AccessKey(secret Secret, slug string) string {
	mac := hmac.New(sha256.New, []byte(secret.Reveal()))
	mac.Write([]byte(slug))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:accessKeyBytes])
}

// Private reports whether the category or view slug is private.
func (c *Config) Private(slug string) bool {
	for _, cat := range c.Categories {
		if cat.Slug == slug {
			return cat.Private
		}
	}
	for _, v := range c.Views {
		if v.Slug == slug {
			return v.Private
		}
	}
	return false
}

// secret reads secret_file, or $TRIBUTARY_SECRET when the file sets none.
func (v *validator) secret(n *yaml.Node) Secret {
	s, n, ok := v.scalar(n, "secret_file")
	if !ok {
		return Secret(os.Getenv(SecretEnv))
	}
	sec, err := v.readSecretFile(s)
	if err != nil {
		v.addf(n, "secret_file", "%v", err)
		return ""
	}
	if len(sec) < minSecretLength {
		v.addf(n, "secret_file", "the secret must be at least %d bytes long", minSecretLength)
		return ""
	}
	return sec
}

// private reads the private key of a category or view at path, and
// remembers where it was set so that checkPrivate can report it.
func (v *validator) private(n *yaml.Node, path string) bool {
	p := v.boolean(n, path)
	if p {
		v.privates = append(v.privates, privateUse{node: resolve(n), path: path})
	}
	return p
}

// privateUse is a private: true in the file.
type privateUse struct {
	node *yaml.Node
	path string
}

// checkPrivate reports every private: true when there is no secret to make
// the keys from, and a $TRIBUTARY_SECRET too short to be one.
func (v *validator) checkPrivate(secret Secret, fromFile bool) {
	if secret != "" {
		if !fromFile && len(secret) < minSecretLength {
			v.addLine(0, "", fmt.Sprintf("$%s must be at least %d bytes long", SecretEnv, minSecretLength))
		}
		return
	}
	for _, p := range v.privates {
		v.addf(p.node, p.path, "a private feed needs secret_file (or $%s) to make its key", SecretEnv)
	}
}

// views reads the views: list; cfg holds the categories and feeds read
// before it.
func (v *validator) views(n *yaml.Node, cfg *Config) []View {
	taken := v.categorySlugs(cfg)
	sources := make(map[string]string, len(cfg.Feeds))
	for _, f := range cfg.Feeds {
		sources[FeedKey(f.URL)] = f.URL
	}
	var views []View
	for i, item := range v.sequence(n, "views") {
		path := fmt.Sprintf("views[%d]", i)
		m, ok := v.mapping(item, path)
		if !ok {
			continue
		}
		name, nameNode, ok := v.requiredName(item, m, path)
		if !ok {
			continue
		}
		view := View{Name: name, Slug: v.categorySlug(nameNode, path+".name", name)}
		if what, dup := taken[view.Slug]; dup && view.Slug != "" {
			v.addf(nameNode, path+".name", "slug %q is already used by %s", view.Slug, what)
			continue
		}
		v.viewQuery(&view, m, path, taken, sources)
		v.viewOutput(&view, m, path, cfg.Output)
		if view.Slug == "" {
			continue
		}
		taken[view.Slug] = fmt.Sprintf("views[%d] (line %d)", i, nameNode.Line)
		views = append(views, view)
	}
	return views
}

// categorySlugs returns the slug of every category cfg names (declared,
// named by a feed or by a category_map), each with where it comes from.
func (v *validator) categorySlugs(cfg *Config) map[string]string {
	taken := map[string]string{reservedSlug: "the merge of every source"}
	for i, c := range cfg.Categories {
		taken[c.Slug] = fmt.Sprintf("categories[%d]", i)
	}
	for i, f := range cfg.Feeds {
		for _, name := range f.Categories {
			if _, ok := taken[Slug(name)]; !ok {
				taken[Slug(name)] = fmt.Sprintf("a category of feeds[%d]", i)
			}
		}
		for _, name := range f.CategoryMap {
			if _, ok := taken[Slug(name)]; !ok {
				taken[Slug(name)] = fmt.Sprintf("a category of feeds[%d].category_map", i)
			}
		}
	}
	return taken
}

// viewQuery reads the keys of a view that select its stories.
func (v *validator) viewQuery(view *View, m map[string]*yaml.Node, path string, taken, sources map[string]string) {
	for j, item := range v.sequence(m["categories"], path+".categories") {
		cpath := fmt.Sprintf("%s.categories[%d]", path, j)
		name, n, ok := v.scalar(item, cpath)
		if !ok {
			continue
		}
		what, known := taken[Slug(name)]
		if !known || Slug(name) == reservedSlug || isView(what) {
			v.addf(n, cpath, "unknown category %q: name a category of categories: or feeds[].categories", name)
			continue
		}
		view.Categories = append(view.Categories, Slug(name))
	}
	for j, item := range v.sequence(m["sources"], path+".sources") {
		spath := fmt.Sprintf("%s.sources[%d]", path, j)
		s, n, ok := v.scalar(item, spath)
		if !ok {
			continue
		}
		u, known := sources[FeedKey(s)]
		if !known {
			v.addf(n, spath, "unknown source %q: name the url of one of feeds:", s)
			continue
		}
		view.Sources = append(view.Sources, u)
	}
	view.Include = v.regexp(m["include"], path+".include")
	view.Exclude = v.regexp(m["exclude"], path+".exclude")
	view.MinSources = v.integer(m["min_sources"], path+".min_sources", 1, 1, maxMinSources)
	view.Sort = SortNewest
	if s, n, ok := v.scalar(m["sort"], path+".sort"); ok {
		switch s {
		case SortNewest, SortCoverage:
			view.Sort = s
		default:
			v.addf(n, path+".sort", "must be %s or %s, found %q", SortNewest, SortCoverage, s)
		}
	}
	view.Window = v.duration(m["window"], path+".window", 0)
	if n := m["window"]; n != nil && (view.Window < minWindow || view.Window > maxWindow) {
		v.addf(n, path+".window", "must be from 1m to 87600h, found %v", view.Window)
		view.Window = 0
	}
}

// isView reports whether a description from categorySlugs names a view.
func isView(what string) bool {
	return len(what) > 5 && what[:5] == "views"
}

// viewOutput reads the keys of a view that shape its documents.
func (v *validator) viewOutput(view *View, m map[string]*yaml.Node, path string, out Output) {
	view.PageSize = v.integer(m["page_size"], path+".page_size", out.PageSize, 1, maxPageSize)
	view.MaxPerSource = v.integer(m["max_per_source"], path+".max_per_source", out.MaxPerSource, 0, maxPageSize)
	view.Private = v.private(m["private"], path+".private")
}
