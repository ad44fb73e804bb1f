// Package fulltext finds the text of an article in its web page: with
// readability (the article body a reader would keep, without navigation,
// header, footer, comments or boilerplate), or with a CSS selector naming
// the elements to keep. It only parses bytes already fetched; the fetcher
// fetches the page under its politeness rules and sanitises the result.
//
// The functions are pure and safe for concurrent use.
package fulltext
