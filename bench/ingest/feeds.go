package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"time"
)

// farm is the generated set: one body per feed, served at /feed/N.
type farm struct {
	bodies [][]byte
	etags  []string
	items  int
	bytes  int
}

// vocabulary is drawn with Zipf frequencies, as words are in real text, so
// that unrelated stories share common words but rarely a phrase.
var vocabulary = func() []string {
	words := strings.Fields(`the of and to in a is that for on with as by at from
	talks summit ministers pledges security markets rally bonds yields central bank
	inflation growth election parliament coalition vote budget energy prices oil gas
	pipeline climate accord emissions trade tariffs exports court ruling appeal judge
	police report investigation company earnings shares profit loss merger deal
	regulators technology chips software launch satellite mission storm flood rescue
	health hospital vaccine study scientists university students teachers`)
	syllables := strings.Fields("ba ce di fo gu ka le mi no pu ra se ti vo zu sha tre bli")
	for _, a := range syllables {
		for _, b := range syllables {
			for _, c := range syllables {
				words = append(words, a+b+c)
			}
		}
	}
	return words
}()

// words returns n words drawn from the random source seeded with seed.
func words(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 0x7269627574617279))
	zipf := rand.NewZipf(r, 1.1, 1, uint64(len(vocabulary)-1))
	out := make([]string, n)
	for i := range out {
		out[i] = vocabulary[zipf.Uint64()]
	}
	return strings.Join(out, " ")
}

// story is one item as a feed carries it.
type story struct {
	title, link, guid, body string
	published               time.Time
}

// syndicatedShare is the share of each feed's items that another feed
// republishes: feeds 2k and 2k+1 carry the same stories, each with its own link.
const syndicatedShare = 10

// makeStory returns item i of feed n.
func makeStory(n, i int, now time.Time) story {
	seed := uint64(n)<<32 | uint64(i)
	if i < max(1, itemsPerFeed/syndicatedShare) {
		seed = 1<<63 | uint64(n/2)<<32 | uint64(i)
	}
	host := fmt.Sprintf("https://site%d.example", n)
	s := story{
		title:     words(seed, 9),
		link:      fmt.Sprintf("%s/%d/story-%d?utm_source=rss", host, n, i),
		guid:      fmt.Sprintf("%s/item/%d", host, i),
		published: now.Add(-time.Duration(n%97+i*5) * time.Hour),
	}
	s.body = fmt.Sprintf(`<p>%s <a href="/topics/%d">related</a>.</p>
<figure><img src="/img/%d-%d.jpg" width="640" height="360" alt="%s" onerror="steal()"><figcaption>%s</figcaption></figure>
<p style="position:fixed">%s</p><script>track(%d)</script><iframe src="https://ads.example/x"></iframe>
<p>%s <b>%s</b> <a href="javascript:alert(1)">click</a></p>`,
		words(seed+1, 30), i, n, i, words(seed+2, 4), words(seed+3, 10),
		words(seed+4, 25), i, words(seed+5, 30), words(seed+6, 5))
	return s
}

// itemsPerFeed is set from the flags before the farm is built.
var itemsPerFeed = 50

// buildFarm generates feeds feeds of items items each, cycling through
// RSS 2.0, Atom, RSS 1.0 and JSON Feed.
func buildFarm(feeds, items int, now time.Time) *farm {
	itemsPerFeed = items
	fm := &farm{bodies: make([][]byte, feeds), etags: make([]string, feeds), items: items}
	for n := range feeds {
		stories := make([]story, items)
		for i := range stories {
			stories[i] = makeStory(n, i, now)
		}
		var body []byte
		switch n % 4 {
		case 0:
			body = rss2(n, stories)
		case 1:
			body = atom(n, stories)
		case 2:
			body = rss1(n, stories)
		default:
			body = jsonFeed(n, stories)
		}
		fm.bodies[n] = body
		fm.etags[n] = fmt.Sprintf(`"feed-%d-%d"`, n, len(body))
		fm.bytes += len(body)
	}
	return fm
}

func esc(s string) string { return html.EscapeString(s) }

func rss2(n int, stories []story) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Feed %d</title><link>https://site%d.example/</link><description>generated</description>
`, n, n)
	for _, s := range stories {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid isPermaLink="false">%s</guid>
<pubDate>%s</pubDate><category>World</category>
<description>%s</description><content:encoded><![CDATA[%s]]></content:encoded></item>
`, esc(s.title), esc(s.link), esc(s.guid), s.published.Format(time.RFC1123Z), esc(firstPara(s.body)), s.body)
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

func atom(n int, stories []story) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Feed %d</title><id>tag:site%d.example,2025:feed</id>
<updated>%s</updated><link href="https://site%d.example/"/>
`, n, n, stories[0].published.Format(time.RFC3339), n)
	for _, s := range stories {
		fmt.Fprintf(&b, `<entry><title>%s</title><link href="%s"/><id>%s</id><updated>%s</updated>
<author><name>Author %d</name></author><summary>%s</summary><content type="html">%s</content></entry>
`, esc(s.title), esc(s.link), esc(s.guid), s.published.Format(time.RFC3339), n%7, esc(firstPara(s.body)), esc(s.body))
	}
	b.WriteString("</feed>\n")
	return b.Bytes()
}

func rss1(n int, stories []story) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel rdf:about="https://site%d.example/"><title>Feed %d</title><link>https://site%d.example/</link><description>generated</description></channel>
`, n, n, n)
	for _, s := range stories {
		fmt.Fprintf(&b, `<item rdf:about="%s"><title>%s</title><link>%s</link><dc:date>%s</dc:date>
<description>%s</description><content:encoded><![CDATA[%s]]></content:encoded></item>
`, esc(s.link), esc(s.title), esc(s.link), s.published.Format(time.RFC3339), esc(firstPara(s.body)), s.body)
	}
	b.WriteString("</rdf:RDF>\n")
	return b.Bytes()
}

func jsonFeed(n int, stories []story) []byte {
	type item struct {
		ID            string `json:"id"`
		URL           string `json:"url"`
		Title         string `json:"title"`
		ContentHTML   string `json:"content_html"`
		Summary       string `json:"summary"`
		DatePublished string `json:"date_published"`
	}
	doc := struct {
		Version string `json:"version"`
		Title   string `json:"title"`
		Home    string `json:"home_page_url"`
		Items   []item `json:"items"`
	}{Version: "https://jsonfeed.org/version/1.1", Title: fmt.Sprintf("Feed %d", n), Home: fmt.Sprintf("https://site%d.example/", n)}
	for _, s := range stories {
		doc.Items = append(doc.Items, item{ID: s.guid, URL: s.link, Title: s.title, ContentHTML: s.body,
			Summary: firstPara(s.body), DatePublished: s.published.Format(time.RFC3339)})
	}
	body, err := json.Marshal(doc)
	if err != nil {
		panic(err) // only strings: cannot fail
	}
	return body
}

// firstPara returns the first paragraph of body, as a summary.
func firstPara(body string) string {
	p, _, _ := strings.Cut(body, "\n")
	return p
}
