package websub

import (
	"context"
	"time"
)

// Records is where hubs and subscribers keep their subscriptions; the
// store of package storage implements it. Its methods must be safe for
// concurrent use.
type Records interface {
	PutWebSub(ctx context.Context, kind, key string, val []byte) error
	DeleteWebSub(ctx context.Context, kind, key string) error
	WebSubRecords(ctx context.Context, kind string) (map[string][]byte, error)
	// WebSubRecord returns the record key of kind, nil when there is none.
	WebSubRecord(ctx context.Context, kind, key string) ([]byte, error)
}

// Lease bounds of the hub, in seconds of hub.lease_seconds: a request
// without one gets DefaultLease, and one outside [MinLease, MaxLease] is
// brought within.
const (
	MinLease     = time.Hour
	DefaultLease = 10 * 24 * time.Hour
	MaxLease     = 30 * 24 * time.Hour
)

// Modes of hub.mode.
const (
	modeSubscribe   = "subscribe"
	modeUnsubscribe = "unsubscribe"
	modeDenied      = "denied"
)

// clampLease returns the lease granted for a request of secs seconds (0:
// none asked).
func clampLease(secs int64) time.Duration {
	if secs <= 0 {
		return DefaultLease
	}
	if secs > int64(MaxLease/time.Second) {
		return MaxLease
	}
	return max(time.Duration(secs)*time.Second, MinLease)
}
