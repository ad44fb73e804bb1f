package fetcher

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/mmcdole/gofeed"

	"github.com/tributary/tributary/storage"
)

// maxDurationSeconds bounds a playing time, in seconds (1,000 hours):
// anything longer is taken as a mistake and dropped.
const maxDurationSeconds = 1000 * 3600

// podcastShow is what a podcast feed's channel lends its episodes: in a
// merged feed the channel is tributary's, so the show's artwork and
// explicit flag must travel with each episode.
type podcastShow struct {
	// podcast is set when the channel carries iTunes tags.
	podcast bool
	// image is the absolute http(s) URL of the show's artwork: its
	// itunes:image, else its RSS image; empty when it has neither.
	image string
	// explicit is the channel's itunes:explicit, as explicitFlag gives it.
	explicit string
}

// newPodcastShow reads the channel of feed, fetched from base.
func newPodcastShow(feed *gofeed.Feed, base *url.URL) podcastShow {
	if feed == nil || feed.ITunesExt == nil {
		return podcastShow{}
	}
	show := podcastShow{podcast: true, explicit: explicitFlag(feed.ITunesExt.Explicit)}
	if u := mediaURL(feed.ITunesExt.Image, base); u != nil {
		show.image = u.String()
	} else if feed.Image != nil {
		if u := mediaURL(feed.Image.URL, base); u != nil {
			show.image = u.String()
		}
	}
	return show
}

// episode returns the podcast metadata of item, fetched from base, with
// the show's artwork and explicit flag where the item has none. It is nil
// for an item that is not an episode: one without iTunes tags, unless the
// channel has them and the item carries media (encs).
func (show podcastShow) episode(item *gofeed.Item, encs []storage.Enclosure, base *url.URL) *storage.Podcast {
	it := item.ITunesExt
	if it == nil && (!show.podcast || len(encs) == 0) {
		return nil
	}
	p := storage.Podcast{Image: show.image, Explicit: show.explicit}
	if it != nil {
		if u := mediaURL(it.Image, base); u != nil {
			p.Image = u.String()
		}
		if e := explicitFlag(it.Explicit); e != "" {
			p.Explicit = e
		}
		p.Episode = positiveNumber(it.Episode)
		p.Season = positiveNumber(it.Season)
		p.EpisodeType = episodeType(it.EpisodeType)
	}
	if p == (storage.Podcast{}) {
		return nil
	}
	return &p
}

// explicitFlag returns "true" or "false" for the values feeds give
// itunes:explicit (true/false, and the older yes/explicit and no/clean),
// "" for anything else.
func explicitFlag(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "explicit":
		return "true"
	case "false", "no", "clean":
		return "false"
	}
	return ""
}

// positiveNumber returns s as a positive number (an episode or season),
// 0 when it is not one.
func positiveNumber(s string) int {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil || n <= 0 {
		return 0
	}
	return int(n)
}

// episodeType returns the itunes:episodeType s when it is one of the three
// Apple defines, else "".
func episodeType(s string) string {
	switch t := strings.ToLower(strings.TrimSpace(s)); t {
	case "full", "trailer", "bonus":
		return t
	}
	return ""
}

// durationSeconds returns a playing time written as seconds, MM:SS or
// HH:MM:SS (itunes:duration; a fraction of a second is dropped) in whole
// seconds, 0 when s is none of these or longer than maxDurationSeconds.
// Fields are not held below 60: feeds write "00:60:05" for 3,605 seconds.
func durationSeconds(s string) int64 {
	s, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if !allDigits(frac) {
		return 0
	}
	fields := strings.Split(s, ":")
	if len(fields) > 3 {
		return 0
	}
	var total int64
	for _, f := range fields {
		if f == "" || len(f) > 10 || !allDigits(f) {
			return 0
		}
		n, _ := strconv.ParseInt(f, 10, 64) // ten digits always fit
		total = total*60 + n
		if total > maxDurationSeconds {
			return 0
		}
	}
	return total
}

// allDigits reports whether s holds only ASCII digits ("" does).
func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
