package storage

import "time"

// Article is one stored story in plain Go types: no backend or gofeed types leak
// through it. The fetcher builds Articles from parsed items; feedout renders them.
// An Article is a value: callers own the slices in it.
type Article struct {
	// ID is the stable storage key (see story.ItemKey): 32 lower-case hex digits,
	// the same for the same item across fetches and restarts.
	ID string `json:"id"`
	// GUID is the item's own identifier as the source published it
	// (RSS guid, Atom id, JSON Feed id); empty when it had none.
	GUID string `json:"guid,omitempty"`
	// Title is plain text.
	Title string `json:"title"`
	// Link is the clean absolute URL of the original (tracking parameters and
	// fragment removed); empty when the item had none.
	Link string `json:"link,omitempty"`
	// Published is the publication time in UTC, never in the future. Zero
	// in an article given to SaveArticles means unknown: the store uses the
	// first-seen time, or keeps the stored time of an existing article.
	Published time.Time `json:"published"`
	// Updated is the time of the latest edit in UTC; never before Published.
	// Zero, or a time not after the stored one, in an article given to
	// SaveArticles means "no newer edit date"; see SaveArticles.
	Updated time.Time `json:"updated"`
	// Author is the author's display name, empty when unknown.
	Author string `json:"author,omitempty"`
	// Content is sanitised HTML with absolute URLs; may be empty.
	Content string `json:"content,omitempty"`
	// Summary is sanitised HTML with absolute URLs; may be empty.
	Summary string `json:"summary,omitempty"`
	// FullText is the article's text taken from its linked page (a source
	// with fulltext), sanitised HTML with absolute URLs; empty when the
	// source has no fulltext or the page gave nothing. Outputs show it
	// instead of Content; the near-duplicate engine never reads it (it
	// compares the feeds' own Content and Summary), so a copy with its
	// full text merges exactly as it would without. An edit that brings
	// no FullText keeps the stored one.
	FullText string `json:"full_text,omitempty"`
	// Categories are the categories the article is filed in, sorted by slug,
	// without duplicates. The reserved "all" is never listed here: every
	// article is in it.
	Categories []Category `json:"categories,omitempty"`
	// Source names the feed the article came from: for a story carried by
	// several sources, the one of its earliest-published copy (ties by
	// feed URL), whatever the order the copies arrived in.
	Source Source `json:"source"`
	// Via lists the other sources that carried the same story (syndicated
	// copies merged into it), one per source sorted by feed URL, never
	// Source itself.
	Via []Copy `json:"via,omitempty"`
	// FirstSeen is when tributary first stored the article, in UTC.
	FirstSeen time.Time `json:"first_seen"`
	// Enclosures are the media files the source attached to the item
	// (RSS enclosure, Media RSS content), absolute URLs, in feed order. A
	// story carried by several sources has those of its primary copy
	// first, then those only its other copies carried, each URL once.
	Enclosures []Enclosure `json:"enclosures,omitempty"`
	// Podcast is the iTunes podcast metadata of an episode; nil for an
	// article that is not one (and in articles stored before it existed).
	// A story carried by several sources has its primary copy's, else
	// that of the first copy that had any.
	Podcast *Podcast `json:"podcast,omitempty"`
}

// Podcast is what a podcast app shows of an episode besides its media
// file (iTunes podcast RSS tags). Every field is optional.
type Podcast struct {
	// Image is the absolute http(s) URL of the episode artwork (or of the
	// show's, when the episode has none of its own).
	Image string `json:"image,omitempty"`
	// Episode and Season are the episode and season numbers, positive;
	// zero when unknown.
	Episode int `json:"episode,omitempty"`
	Season  int `json:"season,omitempty"`
	// Explicit is "true" or "false" (parental advisory); empty when unknown.
	Explicit string `json:"explicit,omitempty"`
	// EpisodeType is "full", "trailer" or "bonus"; empty when unknown.
	EpisodeType string `json:"episode_type,omitempty"`
}

// Enclosure is a media file attached to an article.
type Enclosure struct {
	// URL is the absolute http(s) URL of the file.
	URL string `json:"url"`
	// Type is its media type, such as "audio/mpeg"; empty when unknown.
	Type string `json:"type,omitempty"`
	// Length is its size in bytes; zero when unknown.
	Length int64 `json:"length,omitempty"`
	// Duration is its playing time in whole seconds (iTunes duration);
	// zero when unknown.
	Duration int64 `json:"duration,omitempty"`
}

// Category is a category an article is filed in.
type Category struct {
	// Slug is the URL-safe identifier (see config.Slug).
	Slug string `json:"slug"`
	// Name is the human-readable name.
	Name string `json:"name"`
}

// Source is the attribution of an article: the feed it was fetched from.
type Source struct {
	// FeedURL is the configured URL of the source feed; it identifies the source.
	FeedURL string `json:"feed_url"`
	// ID is the feed's own id (Atom id), or its self/feed URL when it has none.
	ID string `json:"id"`
	// Title is the feed title (the configured override when set).
	Title string `json:"title"`
	// Link is the feed's website (its alternate link), absolute; may be empty.
	Link string `json:"link,omitempty"`
}

// Copy is another source's copy of a stored story.
type Copy struct {
	// Source is the feed that carried the copy.
	Source Source `json:"source"`
	// Link is the clean URL of the copy; may be empty.
	Link string `json:"link,omitempty"`
}

// CategoryInfo summarises one category as stored.
type CategoryInfo struct {
	Category
	// Count is the number of articles filed in the category.
	Count int `json:"count"`
	// Updated is the time the category last changed (an article added, edited
	// or removed); zero when it never held an article.
	Updated time.Time `json:"updated"`
}

// SourceState is what tributary remembers about fetching one source.
type SourceState struct {
	// FeedURL is the configured URL of the source; it is the key.
	FeedURL string `json:"feed_url"`
	// Title is the feed title last seen.
	Title string `json:"title,omitempty"`
	// ETag and LastModified are the validators of the last 200 response,
	// stored verbatim to be sent back on the next request.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// LastFetch is when the last fetch attempt finished.
	LastFetch time.Time `json:"last_fetch"`
	// LastSuccess is when a fetch last succeeded (200 or 304).
	LastSuccess time.Time `json:"last_success"`
	// Outcome is a short word for the last result: "ok", "not-modified",
	// or an error class such as "http-error", "timeout", "parse-error".
	Outcome string `json:"outcome,omitempty"`
	// LastError is the message of the last failure; empty after a success.
	LastError string `json:"last_error,omitempty"`
	// ConsecutiveFailures counts failures since the last success.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// NextDue is when the source should next be fetched.
	NextDue time.Time `json:"next_due"`
	// BodyHash is a hash of the last 200 body, to skip a parse when a server
	// without validators sends the same bytes again.
	BodyHash string `json:"body_hash,omitempty"`
	// PermanentURL is where the source has permanently moved (301 or 308
	// seen on consecutive fetches); fetches go there until the operator
	// updates the config. Empty when the source has not moved.
	PermanentURL string `json:"permanent_url,omitempty"`
	// MovedTo is a permanent redirect target seen MovedSeen times in a row,
	// not yet trusted as PermanentURL.
	MovedTo   string `json:"moved_to,omitempty"`
	MovedSeen int    `json:"moved_seen,omitempty"`
	// ServerInterval is the Cache-Control max-age of the last response, and
	// FeedInterval the interval the feed itself asks for (<ttl>,
	// sy:updatePeriod); both are floors on the time between fetches.
	ServerInterval time.Duration `json:"server_interval,omitempty"`
	FeedInterval   time.Duration `json:"feed_interval,omitempty"`
	// RetryAfter is when the source's host, which answered 429 or 503 with
	// Retry-After, may be asked again; zero when it did not.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// FullTextFetched and FullTextFailed count the linked pages of new
	// items fetched for their full text (a source with fulltext) that gave
	// a text, and those that did not (the item kept its feed text), since
	// the source was first fetched; FullTextError is the last failure,
	// empty when the last page gave a text.
	FullTextFetched int    `json:"fulltext_fetched,omitempty"`
	FullTextFailed  int    `json:"fulltext_failed,omitempty"`
	FullTextError   string `json:"fulltext_error,omitempty"`
}

// SaveResult counts what one SaveArticles call did.
type SaveResult struct {
	// New articles were stored for the first time.
	New int
	// Updated articles existed and changed; they were rewritten in place.
	Updated int
	// Unchanged articles existed and were identical; nothing was written.
	Unchanged int
	// Merged articles were copies of a stored story from another item (the
	// same story syndicated by another source, or under another link):
	// the story gained their source and categories instead.
	Merged int
	// Suppressed articles belong to deleted stories (see Store.Delete) and
	// were not stored again.
	Suppressed int
}
