package feedout

import (
	"slices"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

// publishSources returns articles with their sources as they may be
// published: the configured feed URL, which may carry credentials, is
// replaced by the source's published URL (urls, by configured URL, else the
// configured URL without its secrets), and so is an ID equal to it; the
// source's ID and website link are redacted too (see config.RedactURL).
// The same is done for the sources of the copies in Via. articles is not
// modified.
func publishSources(articles []storage.Article, urls map[string]string) []storage.Article {
	out := make([]storage.Article, len(articles))
	for i, a := range articles {
		a.Source = publishedSource(a.Source, urls)
		if len(a.Via) > 0 {
			a.Via = slices.Clone(a.Via)
			for j := range a.Via {
				a.Via[j].Source = publishedSource(a.Via[j].Source, urls)
			}
		}
		out[i] = a
	}
	return out
}

// publishedSource returns s as it may be published; see publishSources.
func publishedSource(s storage.Source, urls map[string]string) storage.Source {
	published, ok := urls[s.FeedURL]
	if !ok {
		published = config.RedactURL(s.FeedURL)
	}
	if s.ID == s.FeedURL {
		s.ID = published
	}
	s.FeedURL = published
	s.ID = config.RedactURL(s.ID)
	s.Link = config.RedactURL(s.Link)
	return s
}
