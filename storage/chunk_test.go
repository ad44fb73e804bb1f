package storage

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestSaveArticlesEndsBetweenChunks cancels a save of three chunks while
// the first one is written: the first chunk's articles are stored whole
// and counted, the others are not stored, the error says so, and the
// database checks out.
func TestSaveArticlesEndsBetweenChunks(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int32
	clock := func() time.Time {
		// The first call classifies in a read transaction; the second
		// is the first chunk's write transaction.
		if calls.Add(1) == 2 {
			cancel()
		}
		return testNow()
	}
	s := openTestStoreOpts(t, Options{Now: clock})
	published := testNow().Add(-time.Hour)
	var arts []Article
	for i := range 3 * SaveChunk {
		arts = append(arts, testArticle(fmt.Sprintf("item-%d", i), published, "world"))
	}
	res, err := s.SaveArticles(ctx, arts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SaveArticles: %v, want context.Canceled", err)
	}
	if res.New != SaveChunk {
		t.Errorf("result counts %d new, want %d (the first chunk)", res.New, SaveChunk)
	}
	counts, err := s.SourceArticleCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[testFeed]; got != SaveChunk {
		t.Errorf("%d articles stored, want %d", got, SaveChunk)
	}
	if _, ok, err := s.Article(t.Context(), arts[SaveChunk].ID); ok || err != nil {
		t.Errorf("article of the second chunk: stored %v, error %v; want not stored", ok, err)
	}
}
