package storage

// ItemKey returns the stable storage ID of an item from the source feedURL:
// derived from the GUID when there is one, else from the clean link, else
// from the title and content. Never random.
func ItemKey(feedURL, guid, link, title, content string) string { panic("unimplemented") }

// CleanURL returns rawURL with tracking parameters (utm_*, fbclid, gclid, …)
// and the fragment removed. A URL it cannot parse is returned unchanged.
func CleanURL(rawURL string) string { panic("unimplemented") }
