package fetcher

import "time"

// itemTimes returns an item's published and updated times in UTC from the
// times gofeed parsed (nil or zero when absent or unparseable), by the rules
// of storage.Article:
//   - published is the parsed publication time, else the update time, else
//     zero: unknown, which storage turns into the time the item was first
//     seen (and keeps on later fetches, so an undated item is not an edit);
//   - a date after now is unknown too, so a future date ends up as the
//     first-seen time;
//   - updated is the later of published and the parsed update time, and
//     published when there is no update time.
//
// now must be in UTC.
func itemTimes(published, updated *time.Time, now time.Time) (pub, upd time.Time) {
	p, hasP := validTime(published, now)
	u, hasU := validTime(updated, now)
	switch {
	case hasP:
		pub = p
	case hasU:
		pub = u
	}
	upd = pub
	if hasU && u.After(pub) {
		upd = u
	}
	return pub, upd
}

// validTime returns *t in UTC and whether it is set and not after now.
func validTime(t *time.Time, now time.Time) (time.Time, bool) {
	if t == nil || t.IsZero() || t.After(now) {
		return time.Time{}, false
	}
	return t.UTC(), true
}
