package fetcher

import (
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
	"github.com/tributary/tributary/story"
)

// untitledLen is the length, in runes, of a title made from an item's text.
const untitledLen = 80

// normalizer turns parsed feeds into storage.Articles. It is built once per
// configuration and is safe for concurrent use: it holds only the sanitising
// policy and the category rules, both read-only after newNormalizer.
type normalizer struct {
	policy     *bluemonday.Policy
	categories categorizer
}

// newNormalizer returns a normalizer applying the match rules of categories.
func newNormalizer(categories []config.Category) *normalizer {
	return &normalizer{policy: newPolicy(), categories: newCategorizer(categories)}
}

// normalized is what normalize makes of one parsed feed.
type normalized struct {
	// Articles are the items kept, in feed order, ready to save.
	Articles []storage.Article
	// Filtered counts items dropped by the source's include/exclude rules.
	Filtered int
	// Title is the source title: the configured override, else the feed's own.
	Title string
}

// normalize converts every item of feed, fetched for the source src from the
// URL base (the final URL after redirects), at time now.
//
// Items are kept in feed order; an item whose ID repeats an earlier one is
// skipped. Nil items, fields and times are tolerated, and a nil feed or base
// gives what can be had without them.
func (n *normalizer) normalize(feed *gofeed.Feed, src config.Feed, base *url.URL, now time.Time) normalized {
	now = now.UTC()
	source := feedSource(feed, src, base)
	out := normalized{Title: source.Title}
	if feed == nil {
		return out
	}
	feedAuthor := personName(feed.Authors, feed.Author)
	show := newPodcastShow(feed, base)
	seen := make(map[string]bool, len(feed.Items))
	shared := sharedGUIDs(feed.Items)
	for _, item := range feed.Items {
		if item == nil {
			continue
		}
		a, v := n.article(item, src, base, now)
		if !v.Kept {
			out.Filtered++
			continue
		}
		if shared[a.GUID] {
			// The feed gives this GUID to different articles: the GUID
			// and the link together identify each of them.
			a.ID = story.ItemKey(src.URL, a.GUID+"\x00"+story.IdentityURL(a.Link), a.Link, a.Title, "")
		}
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		if a.Author == "" {
			a.Author = feedAuthor
		}
		a.Source = source
		a.Podcast = show.episode(item, a.Enclosures, base)
		out.Articles = append(out.Articles, a)
	}
	return out
}

// article builds the Article of one item, without its Source and feed-level
// author fallback, and the verdict of the rules on it: not kept when src's
// include/exclude rules drop the item.
func (n *normalizer) article(item *gofeed.Item, src config.Feed, base *url.URL, now time.Time) (storage.Article, Verdict) {
	title := cutUTF8(plainText(item.Title), maxTitleBytes)
	rawContent := cutUTF8(strings.TrimSpace(item.Content), maxContentBytes)
	rawSummary := cutUTF8(strings.TrimSpace(item.Description), maxContentBytes)
	// The plain text costs a parse of the item's HTML: it is made only
	// when a rule, the ID or the title needs it.
	text := sync.OnceValue(func() string { return itemText(rawContent, rawSummary) })
	guid := strings.ToValidUTF8(strings.TrimSpace(item.GUID), "\uFFFD")
	link, linkURL := itemLink(item, guid, base)
	author := personName(item.Authors, item.Author)
	matchText := ""
	if len(n.categories.rules) > 0 {
		matchText = title + " " + text()
	}
	cats := n.categories.categorize(src, item.Categories[:min(len(item.Categories), maxItemCategories)], matchText)
	rules := ""
	if len(n.categories.filters) > 0 || src.Include != nil || src.Exclude != nil {
		rules = ruleText(title, text(), link, author, cats)
	}
	v := feedVerdict(src, rules)
	v.Title, v.Link = title, link
	if !v.Kept {
		return storage.Article{}, v
	}
	cats, v.Dropped = n.categories.filter(cats, rules)
	v.Categories = cats

	contentBase := base
	if linkURL != nil {
		contentBase = linkURL
	}
	hashText := ""
	if guid == "" && link == "" {
		// The title and text, not the raw markup, feed the hash of an item
		// without GUID or link: a CDN rewriting image URLs changes no ID.
		hashText = text()
	}
	a := storage.Article{
		ID:         story.ItemKey(src.URL, guid, link, title, hashText),
		GUID:       guid,
		Title:      title,
		Link:       link,
		Author:     author,
		Categories: cats,
		FirstSeen:  now,
		Enclosures: enclosures(item, base),
	}
	a.Published, a.Updated = itemTimes(item.PublishedParsed, item.UpdatedParsed, now)
	if a.Title == "" {
		a.Title = excerpt(text(), untitledLen)
	}
	if a.Title == "" {
		a.Title = "(untitled)"
	}
	if rawContent != "" {
		a.Content = sanitizeHTML(n.policy, rawContent, contentBase)
	}
	if rawSummary != "" && rawSummary != rawContent {
		a.Summary = sanitizeHTML(n.policy, rawSummary, contentBase)
	}
	if a.Summary == a.Content {
		a.Summary = "" // the same text twice: keep it as content only
	}
	return a, v
}

// itemText returns the plain text of an item's content, followed by that of
// its summary when the summary is not already part of the content.
func itemText(rawContent, rawSummary string) string {
	text := plainText(rawContent)
	if rawSummary != rawContent {
		if summaryText := plainText(rawSummary); !strings.Contains(text, summaryText) {
			text = strings.TrimSpace(text + " " + summaryText)
		}
	}
	return text
}

// itemLink returns the clean absolute http(s) URL of an item and the
// resolved URL before cleaning (nil when there is none): its link, else its
// first other link, else its GUID when that is an absolute http(s) URL.
// Relative links are resolved against base: gofeed resolves xml:base but
// leaves an RSS link without one as written.
func itemLink(item *gofeed.Item, guid string, base *url.URL) (string, *url.URL) {
	candidates := make([]string, 0, 3+len(item.Links))
	candidates = append(candidates, feedburnerOrigLink(item), item.Link)
	candidates = append(candidates, item.Links...)
	for _, c := range candidates {
		if u := absoluteHTTP(c, base); u != nil {
			return story.CleanURL(u.String()), u
		}
	}
	if u := absoluteHTTP(guid, nil); u != nil {
		return story.CleanURL(u.String()), u
	}
	return "", nil
}

// absoluteHTTP returns raw resolved against base (when not nil) if that
// gives an http or https URL with a host, else nil.
func absoluteHTTP(raw string, base *url.URL) *url.URL {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}

// personName returns the display name of the first person of people (else
// of the deprecated single person) with a name or, failing that, an email.
func personName(people []*gofeed.Person, single *gofeed.Person) string {
	for _, p := range people {
		if name := displayName(p); name != "" {
			return name
		}
	}
	return displayName(single)
}

// displayName returns p's name as plain text, else its email; "" for nil.
func displayName(p *gofeed.Person) string {
	if p == nil {
		return ""
	}
	if name := plainText(p.Name); name != "" {
		return name
	}
	return plainText(p.Email)
}

// feedSource returns the attribution of the articles of feed, fetched for src
// from base. Its ID is the feed's Atom id when the parser kept the original
// feed (gofeed.Parser.KeepOriginalFeed), else the feed's self link, else the
// configured URL.
func feedSource(feed *gofeed.Feed, src config.Feed, base *url.URL) storage.Source {
	s := storage.Source{FeedURL: src.URL, ID: src.URL, Title: collapseSpace(src.Title)}
	if feed != nil {
		if id := atomFeedID(feed); id != "" {
			s.ID = id
		} else if u := absoluteHTTP(feed.FeedLink, base); u != nil {
			s.ID = u.String()
		}
		if s.Title == "" {
			s.Title = plainText(feed.Title)
		}
		if u := absoluteHTTP(feed.Link, base); u != nil {
			s.Link = story.CleanURL(u.String())
		}
	}
	if s.Title == "" {
		if u, err := url.Parse(src.URL); err == nil && u.Host != "" {
			s.Title = u.Host
		} else {
			s.Title = src.URL
		}
	}
	return s
}

// atomFeedID returns the trimmed id of feed's original Atom document, or ""
// when it has none or the parser did not keep the original feed.
func atomFeedID(feed *gofeed.Feed) string {
	orig, ok := feed.OriginalFeed().(*atom.Feed)
	if !ok || orig == nil {
		return ""
	}
	return strings.ToValidUTF8(strings.TrimSpace(orig.ID), "\uFFFD")
}
