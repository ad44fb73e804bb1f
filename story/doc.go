// Package story is tributary's story engine: the pure functions that
// decide which feed items are the same item, and which are copies of the
// same story. It imports none of tributary's packages and keeps no state;
// every function is safe for concurrent use, and the same inputs always
// give the same results, across releases too (stored keys and records
// depend on them).
//
// # Item identity
//
// ItemKey derives the stable ID of an item from its source's feed URL and
// its GUID, else its clean link, else its title and content. CleanURL
// drops a link's fragment and tracking parameters (utm_*, click IDs of ad
// networks, mailing tools) for display. IdentityURL goes further, for
// dedupe keys only: http and https, "www." and "amp." hosts, AMP markers,
// a trailing slash and the order of query parameters make no difference,
// and a FeedBurner redirect link (IsFeedBurnerLink) loses its token.
//
// # Story fingerprints
//
// Of turns an article's title and sanitised HTML into a Story: the words
// of the title without a publisher suffix (StripTitleSuffix) and of the
// text without wire-agency boilerplate (StripBoilerplate). Its Signature
// holds its sketch keys (MinHash LSH bands of the title words and of the
// lead's three-word shingles, and the opening words), the hashes of its
// title words and of its text's shingles. A Record adds the Published time
// and a hash of the source (SourceHash) to a signature; it is what a store
// keeps per story, so that a candidate found through a sketch key is
// compared without normalising its text again.
//
// # Same story
//
// Similarity scores two stories: the Jaccard similarity of their title
// words and the containment of the shorter text's shingles in the
// longer's. SameStory applies the Dup* thresholds: Published within
// DupWindow, and a containment of DupMinContainment with similar titles,
// or of DupStrongContainment on a long enough text whatever the titles.
// The thresholds were chosen on the labelled set in testdata/dupes
// (TestDuplicatePrecisionRecall).
package story
