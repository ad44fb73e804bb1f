package storage

import "context"

// perSourceScan bounds the work of LatestPerSource: it reads at most this
// many index entries per article asked for.
const perSourceScan = 20

// LatestPerSource is Latest with at most maxPerSource articles of any one
// source (by Source.FeedURL; a merged story counts for its first source):
// walking the index newest first, articles of a source that already has
// maxPerSource are skipped, so that one chatty source cannot swamp a
// category. maxPerSource <= 0 means no cap (Latest). The work is bounded:
// at most perSourceScan × limit index entries are read, so a category
// swamped beyond that gives fewer than limit articles. Safe for concurrent
// use; the articles are copies the caller owns.
func (s *Store) LatestPerSource(ctx context.Context, slug string, limit, maxPerSource int) ([]Article, error) {
	p, err := s.Page(ctx, slug, PageQuery{Limit: limit, MaxPerSource: maxPerSource})
	if err != nil {
		return nil, err
	}
	return p.Articles, nil
}
