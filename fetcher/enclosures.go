package fetcher

import (
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"github.com/tributary/tributary/storage"
)

// enclosures returns the media files of item: its enclosures (RSS
// enclosure, Atom link rel="enclosure", JSON Feed attachments), then its
// Media RSS media:content elements (also inside media:group), resolved
// against base, kept only when http(s) (see mediaURL), each URL once, the
// first maxItemEnclosures. The item's itunes:duration is the playing time
// of its first enclosure (the one iTunes reads), a media:content's
// duration attribute that of its file.
func enclosures(item *gofeed.Item, base *url.URL) []storage.Enclosure {
	var out []storage.Enclosure
	seen := map[string]bool{}
	add := func(rawURL, typ, length string, duration int64) {
		u := mediaURL(rawURL, base)
		if u == nil || seen[u.String()] || len(out) == maxItemEnclosures {
			return
		}
		seen[u.String()] = true
		n, err := strconv.ParseInt(strings.TrimSpace(length), 10, 64)
		if err != nil || n < 0 {
			n = 0
		}
		out = append(out, storage.Enclosure{URL: u.String(), Type: mediaType(typ, u), Length: n, Duration: duration})
	}
	var duration int64
	if item.ITunesExt != nil {
		duration = durationSeconds(item.ITunesExt.Duration)
	}
	for _, e := range item.Enclosures {
		if e != nil {
			add(e.URL, e.Type, e.Length, duration)
			duration = 0
		}
	}
	media := item.Extensions["media"]
	contents := append([]ext.Extension(nil), media["content"]...)
	for _, g := range media["group"] {
		contents = append(contents, g.Children["content"]...)
	}
	for _, c := range contents {
		add(c.Attrs["url"], c.Attrs["type"], c.Attrs["fileSize"], durationSeconds(c.Attrs["duration"]))
	}
	return out
}

// mediaURL returns raw resolved against base when that gives an http(s)
// URL of at most maxMediaURLBytes, else nil.
func mediaURL(raw string, base *url.URL) *url.URL {
	u := absoluteHTTP(raw, base)
	if u == nil || len(u.String()) > maxMediaURLBytes {
		return nil
	}
	return u
}

// mediaTypeAliases are the names feeds give the MP3 type besides its
// registered one; podcast apps (newsboat's podboat among them) download
// only audio/* and video/* files.
var mediaTypeAliases = map[string]string{
	"audio/mp3":    "audio/mpeg",
	"audio/x-mp3":  "audio/mpeg",
	"x-audio/mp3":  "audio/mpeg",
	"audio/mpeg3":  "audio/mpeg",
	"audio/x-mpeg": "audio/mpeg",
	"audio/mpg":    "audio/mpeg",
}

// mediaExtensions are the media types of the file extensions of podcast
// episodes, for a file whose source gave no type. A fixed table:
// mime.TypeByExtension reads the host's mime.types, which vary.
var mediaExtensions = map[string]string{
	".mp3":  "audio/mpeg",
	".m4a":  "audio/mp4",
	".aac":  "audio/aac",
	".ogg":  "audio/ogg",
	".oga":  "audio/ogg",
	".opus": "audio/ogg",
	".flac": "audio/flac",
	".wav":  "audio/wav",
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".mov":  "video/quicktime",
	".webm": "video/webm",
}

// mediaType returns the media type s (such as "audio/mpeg") of the file at
// u in canonical form, the registered name for a known alias, else the
// type of u's extension when s is empty or not a media type (a type that
// feeds carry to readers as an attribute value must not carry markup or
// quotes); "" when neither tells.
func mediaType(s string, u *url.URL) string {
	t, params, err := mime.ParseMediaType(strings.TrimSpace(s))
	if err != nil {
		return mediaExtensions[strings.ToLower(path.Ext(u.Path))]
	}
	if alias, ok := mediaTypeAliases[t]; ok {
		t = alias
	}
	return mime.FormatMediaType(t, params)
}
