package feedout_test

import (
	"log"
	"os"
	"time"

	"github.com/tributary/tributary/feedout"
	"github.com/tributary/tributary/storage"
)

func ExampleWriteAtom() {
	published := time.Date(2026, 3, 1, 7, 15, 0, 0, time.UTC)
	world := storage.Category{Slug: "world", Name: "World"}
	articles := []storage.Article{{
		ID:         "2c3d4e5f60718293a4b5c6d7e8f90a1b",
		GUID:       "https://www.livemint.com/news/world/putin-11740000000001.html",
		Title:      "Putin and Trump to speak by phone",
		Link:       "https://www.livemint.com/news/world/putin-11740000000001.html",
		Published:  published,
		Updated:    published,
		Author:     "María Paula Mijares Torres",
		Content:    "<p>A call &amp; a meeting.</p>",
		Categories: []storage.Category{world},
		Source: storage.Source{
			FeedURL: "https://www.livemint.com/rss/world",
			ID:      "https://www.livemint.com/rss/world",
			Title:   "Mint World",
			Link:    "https://www.livemint.com/world",
		},
	}}
	// Updated is left zero: the newest entry's updated time is used.
	feed := feedout.FeedMeta{
		ID:           "https://news.example.org/feeds/world.atom",
		Title:        "Today News: World",
		SelfURL:      "https://news.example.org/feeds/world.atom",
		AlternateURL: "https://news.example.org/",
		Author:       "Today News",
	}
	if err := feedout.WriteAtom(os.Stdout, feed, articles); err != nil {
		log.Fatal(err)
	}
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">
	//   <id>https://news.example.org/feeds/world.atom</id>
	//   <title type="text">Today News: World</title>
	//   <updated>2026-03-01T07:15:00Z</updated>
	//   <link href="https://news.example.org/feeds/world.atom" rel="self" type="application/atom+xml"></link>
	//   <link href="https://news.example.org/" rel="alternate" type="text/html"></link>
	//   <author>
	//     <name>Today News</name>
	//   </author>
	//   <generator>tributary</generator>
	//   <entry>
	//     <id>https://www.livemint.com/news/world/putin-11740000000001.html</id>
	//     <title type="text">Putin and Trump to speak by phone</title>
	//     <link href="https://www.livemint.com/news/world/putin-11740000000001.html" rel="alternate"></link>
	//     <published>2026-03-01T07:15:00Z</published>
	//     <updated>2026-03-01T07:15:00Z</updated>
	//     <author>
	//       <name>María Paula Mijares Torres</name>
	//     </author>
	//     <category term="world" label="World"></category>
	//     <content type="html">&lt;p&gt;A call &amp;amp; a meeting.&lt;/p&gt;</content>
	//     <source>
	//       <id>https://www.livemint.com/rss/world</id>
	//       <title type="text">Mint World</title>
	//       <updated>2026-03-01T07:15:00Z</updated>
	//       <link href="https://www.livemint.com/rss/world" rel="self"></link>
	//       <link href="https://www.livemint.com/world" rel="alternate"></link>
	//     </source>
	//   </entry>
	// </feed>
}
