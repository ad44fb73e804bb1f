package fetcher

import (
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

func TestItemTimesFromFeeds(t *testing.T) {
	// Each case is parsed by gofeed first: the named zones are its table's,
	// and itemTimes sees exactly what it gets from a real fetch.
	rssItem := func(pubDate string) string {
		if pubDate == "" {
			return `<rss version="2.0"><channel><title>t</title><item><title>i</title></item></channel></rss>`
		}
		return `<rss version="2.0"><channel><title>t</title><item><title>i</title><pubDate>` + pubDate + `</pubDate></item></channel></rss>`
	}
	atomEntry := func(published, updated string) string {
		s := `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>i</title>`
		if published != "" {
			s += `<published>` + published + `</published>`
		}
		if updated != "" {
			s += `<updated>` + updated + `</updated>`
		}
		return s + `</entry></feed>`
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	now := utc("2025-08-18T06:00:00Z")
	tests := []struct {
		name          string
		doc           string
		wantPublished time.Time
		wantUpdated   time.Time
	}{
		{name: "EDT", doc: rssItem("Sun, 17 Aug 2025 10:26:19 EDT"), wantPublished: utc("2025-08-17T14:26:19Z"), wantUpdated: utc("2025-08-17T14:26:19Z")},
		{name: "PST", doc: rssItem("Tue, 05 Feb 2019 09:00:00 PST"), wantPublished: utc("2019-02-05T17:00:00Z"), wantUpdated: utc("2019-02-05T17:00:00Z")},
		{name: "+0530", doc: rssItem("Sun, 17 Aug 2025 19:56:19 +0530"), wantPublished: utc("2025-08-17T14:26:19Z"), wantUpdated: utc("2025-08-17T14:26:19Z")},
		{name: "GMT", doc: rssItem("Sun, 17 Aug 2025 14:26:19 GMT"), wantPublished: utc("2025-08-17T14:26:19Z"), wantUpdated: utc("2025-08-17T14:26:19Z")},
		{name: "missing is unknown", doc: rssItem("")},
		{name: "unparseable is unknown", doc: rssItem("sometime last week")},
		{name: "future is unknown", doc: rssItem("Mon, 01 Jan 2035 00:00:00 +0000")},
		{name: "atom updated after published", doc: atomEntry("2025-08-17T14:21:05Z", "2025-08-17T14:40:00Z"), wantPublished: utc("2025-08-17T14:21:05Z"), wantUpdated: utc("2025-08-17T14:40:00Z")},
		{name: "atom updated before published", doc: atomEntry("2025-08-17T14:21:05Z", "2025-08-17T10:00:00Z"), wantPublished: utc("2025-08-17T14:21:05Z"), wantUpdated: utc("2025-08-17T14:21:05Z")},
		{name: "atom only updated", doc: atomEntry("", "2025-08-17T14:40:00+02:00"), wantPublished: utc("2025-08-17T12:40:00Z"), wantUpdated: utc("2025-08-17T12:40:00Z")},
		{name: "atom future update ignored", doc: atomEntry("2025-08-17T14:21:05Z", "2030-01-01T00:00:00Z"), wantPublished: utc("2025-08-17T14:21:05Z"), wantUpdated: utc("2025-08-17T14:21:05Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed, err := gofeed.NewParser().ParseString(tt.doc)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			item := feed.Items[0]
			pub, upd := itemTimes(item.PublishedParsed, item.UpdatedParsed, now)
			if !pub.Equal(tt.wantPublished) || pub.Location() != time.UTC {
				t.Errorf("published = %v, want %v (UTC)", pub, tt.wantPublished)
			}
			if !upd.Equal(tt.wantUpdated) || upd.Location() != time.UTC {
				t.Errorf("updated = %v, want %v (UTC)", upd, tt.wantUpdated)
			}
		})
	}
}

func TestItemTimes(t *testing.T) {
	now := time.Date(2025, 8, 18, 6, 0, 0, 0, time.UTC)
	at := func(h int) *time.Time {
		tm := time.Date(2025, 8, 17, h, 0, 0, 0, time.FixedZone("UTC+2", 2*3600))
		return &tm
	}
	zero := time.Time{}
	future := now.Add(time.Hour)
	tests := []struct {
		name               string
		published, updated *time.Time
		wantPub, wantUpd   time.Time
	}{
		{name: "both nil is unknown"},
		{name: "zero times count as missing", published: &zero, updated: &zero},
		{name: "future counts as missing", published: &future},
		{name: "zone converted to UTC", published: at(12), wantPub: at(12).UTC(), wantUpd: at(12).UTC()},
		{name: "published from updated", updated: at(12), wantPub: at(12).UTC(), wantUpd: at(12).UTC()},
		{name: "updated never before published", published: at(12), updated: at(9), wantPub: at(12).UTC(), wantUpd: at(12).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, upd := itemTimes(tt.published, tt.updated, now)
			if pub != tt.wantPub || upd != tt.wantUpd {
				t.Errorf("itemTimes = %v, %v; want %v, %v", pub, upd, tt.wantPub, tt.wantUpd)
			}
		})
	}
}
