package fetcher

import (
	"strings"
	"testing"

	"github.com/tributary/tributary/config"
)

func TestNormalizeIdentity(t *testing.T) {
	const fb = `xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"`
	src := config.Feed{URL: "https://example.com/feed"}
	base := normURL(t, "https://example.com/feed")
	n := newNormalizer(nil)
	ids := func(t *testing.T, items ...string) ([]string, []string) {
		t.Helper()
		doc := strings.Replace(string(normRSS(items...)), "<rss ", "<rss "+fb+" ", 1)
		out := n.normalize(normParse(t, []byte(doc)), src, base, normNow)
		var ids, links []string
		for _, a := range out.Articles {
			ids = append(ids, a.ID)
			links = append(links, a.Link)
		}
		return ids, links
	}

	t.Run("feedburner origLink is the link", func(t *testing.T) {
		_, links := ids(t, `<item><title>A</title><link>http://feedproxy.google.com/~r/Example/~3/Tok/a.html</link><feedburner:origLink>https://example.com/a.html?utm_source=feedburner</feedburner:origLink></item>`)
		if len(links) != 1 || links[0] != "https://example.com/a.html" {
			t.Errorf("links = %q, want the clean origLink", links)
		}
	})
	t.Run("shared GUID with different links keeps both", func(t *testing.T) {
		got, _ := ids(t,
			`<item><title>A</title><guid isPermaLink="false">1</guid><link>https://example.com/a</link></item>`,
			`<item><title>B</title><guid isPermaLink="false">1</guid><link>https://example.com/b</link></item>`)
		if len(got) != 2 || got[0] == got[1] {
			t.Errorf("ids = %q, want two distinct", got)
		}
	})
	t.Run("repeated GUID with the same link is one item", func(t *testing.T) {
		got, _ := ids(t,
			`<item><title>A</title><guid isPermaLink="false">1</guid><link>https://example.com/a</link></item>`,
			`<item><title>A</title><guid isPermaLink="false">1</guid><link>http://www.example.com/a/?utm_source=x</link></item>`)
		if len(got) != 1 {
			t.Errorf("ids = %q, want one", got)
		}
	})
	t.Run("unique GUIDs keep their plain key", func(t *testing.T) {
		one, _ := ids(t, `<item><title>A</title><guid isPermaLink="false">1</guid><link>https://example.com/a</link></item>`)
		two, _ := ids(t,
			`<item><title>A</title><guid isPermaLink="false">1</guid><link>https://example.com/a</link></item>`,
			`<item><title>B</title><guid isPermaLink="false">2</guid><link>https://example.com/b</link></item>`)
		if len(one) != 1 || len(two) != 2 || one[0] != two[0] {
			t.Errorf("ids %q and %q: the GUID key changed", one, two)
		}
	})
}
