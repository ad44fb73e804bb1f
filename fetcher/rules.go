package fetcher

import (
	"strings"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// Verdict tells what the rules of the config made of one item: whether the
// source's include/exclude rules kept it, which rule decided, and the
// categories it is filed in after the categories' own include/exclude
// rules, with the reasons for the categories those rules took away.
type Verdict struct {
	// Title and Link identify the item (plain-text title, clean link).
	Title string
	Link  string
	// Kept is false when the source's include or exclude rule dropped it.
	Kept bool
	// Rule names the rule that decided Kept.
	Rule string
	// Categories are the categories the item is filed in (none when dropped).
	Categories []storage.Category
	// Dropped lists, per category taken away by its own rules, why.
	Dropped []string
	// FullText is the text extracted from the item's page, one line per
	// paragraph (Explain with fulltext, kept items only); FullTextErr is
	// why there is none, when the page failed.
	FullText    []string
	FullTextErr error
}

// ruleText is what include and exclude rules match: the title, text, link,
// author and category names of an item, one per line.
func ruleText(title, text, link, author string, cats []storage.Category) string {
	parts := []string{title, text, link, author}
	for _, c := range cats {
		parts = append(parts, c.Name)
	}
	return strings.Join(parts, "\n")
}

// feedVerdict applies src's include and exclude rules to the rule text.
func feedVerdict(src config.Feed, text string) Verdict {
	switch {
	case src.Include != nil && !src.Include.MatchString(text):
		return Verdict{Rule: "dropped: feed include " + quoteRE(src.Include.String()) + " does not match"}
	case src.Exclude != nil && src.Exclude.MatchString(text):
		return Verdict{Rule: "dropped: feed exclude " + quoteRE(src.Exclude.String()) + " matches"}
	case src.Include != nil:
		return Verdict{Kept: true, Rule: "kept: feed include " + quoteRE(src.Include.String()) + " matches"}
	}
	return Verdict{Kept: true, Rule: "kept: no feed rule drops it"}
}

// filter applies the include/exclude rules of the configured categories to
// cats and returns the categories kept and why the others were dropped.
func (c categorizer) filter(cats []storage.Category, text string) ([]storage.Category, []string) {
	var kept []storage.Category
	var dropped []string
	for _, cat := range cats {
		f, ok := c.filters[cat.Slug]
		switch {
		case ok && f.Include != nil && !f.Include.MatchString(text):
			dropped = append(dropped, cat.Slug+": category include "+quoteRE(f.Include.String())+" does not match")
		case ok && f.Exclude != nil && f.Exclude.MatchString(text):
			dropped = append(dropped, cat.Slug+": category exclude "+quoteRE(f.Exclude.String())+" matches")
		default:
			kept = append(kept, cat)
		}
	}
	return kept, dropped
}

// quoteRE quotes a regular expression for a message.
func quoteRE(expr string) string { return "'" + expr + "'" }
