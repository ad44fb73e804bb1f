package storage

import (
	"context"
	"errors"
	"time"
)

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("database in use by another process")

// AllSlug is the reserved category slug that holds every article.
const AllSlug = "all"

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for the file lock before failing
	// with ErrLocked; zero means one second.
	LockTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the bbolt-backed article store. It is safe for concurrent use.
type Store struct{}

// Open opens (creating if needed) the database file at path.
func Open(path string, opts Options) (*Store, error) { panic("unimplemented") }

// Close releases the database. The Store must not be used afterwards.
func (s *Store) Close() error { panic("unimplemented") }

// SaveArticles stores articles: new ones are inserted, changed ones rewritten
// in place (keeping ID and FirstSeen), identical ones skipped. All writes of
// one call happen in one transaction; a call that changes nothing writes nothing.
func (s *Store) SaveArticles(ctx context.Context, articles []Article) (SaveResult, error) {
	panic("unimplemented")
}

// Latest returns up to limit articles of the category slug (AllSlug for
// every article), newest Published first.
func (s *Store) Latest(ctx context.Context, slug string, limit int) ([]Article, error) {
	panic("unimplemented")
}

// Article returns the article with the given ID.
func (s *Store) Article(ctx context.Context, id string) (Article, bool, error) {
	panic("unimplemented")
}

// Categories lists every category holding articles, sorted by slug,
// including AllSlug.
func (s *Store) Categories(ctx context.Context) ([]CategoryInfo, error) { panic("unimplemented") }

// SourceState returns the stored state of the source feedURL.
func (s *Store) SourceState(ctx context.Context, feedURL string) (SourceState, bool, error) {
	panic("unimplemented")
}

// PutSourceState stores st under st.FeedURL.
func (s *Store) PutSourceState(ctx context.Context, st SourceState) error { panic("unimplemented") }

// SourceStates lists every stored source state, sorted by FeedURL.
func (s *Store) SourceStates(ctx context.Context) ([]SourceState, error) { panic("unimplemented") }

// Check verifies the store's invariants: every index entry points at an
// existing article filed in that category, and every article is indexed
// under AllSlug and each of its categories, at its Published time.
func (s *Store) Check(ctx context.Context) error { panic("unimplemented") }
