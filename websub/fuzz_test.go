package websub

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzHubForm feeds arbitrary subscription forms to the hub's parser: it
// must never panic, and what it accepts is well-formed.
func FuzzHubForm(f *testing.F) {
	f.Add("hub.mode=subscribe&hub.topic=https%3A%2F%2Fa.example%2Ffeeds%2Fall.atom&hub.callback=https%3A%2F%2Fs.example%2Fcb&hub.lease_seconds=86400&hub.secret=k")
	f.Add("hub.mode=unsubscribe&hub.topic=t&hub.callback=http://s.example/cb?x=1")
	f.Add("hub.mode=subscribe&hub.topic=t&hub.callback=ftp://x&hub.lease_seconds=-1")
	f.Add("hub.mode=subscribe&hub.topic=t&hub.callback=http://[::1]:80/&hub.lease_seconds=99999999999999999999")
	f.Add("%zz&hub.mode")
	f.Fuzz(func(t *testing.T, form string) {
		vals, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		req, err := parseRequest(vals)
		if err != nil {
			return
		}
		if req.lease < MinLease || req.lease > MaxLease {
			t.Errorf("lease %v out of bounds", req.lease)
		}
		if len(req.secret) > maxSecret || req.topic == "" {
			t.Errorf("accepted %+v", req)
		}
		if _, err := checkCallback(req.callback); err != nil {
			t.Errorf("accepted callback %q: %v", req.callback, err)
		}
	})
}

// FuzzCallback sends arbitrary requests to a subscriber's callbacks, one
// of them a real subscription, of a subscriber alone or sharing its store
// (reading it there): nothing panics, and only a push signed with the
// subscription's secret is ingested.
func FuzzCallback(f *testing.F) {
	f.Add("GET", "/websub/callback/0", "hub.mode=subscribe&hub.topic=t&hub.challenge=c", "", []byte(""), false)
	f.Add("POST", "/websub/callback/0", "", "sha256=00", []byte("<feed/>"), false)
	f.Add("POST", "/websub/callback/0", "", Sign("secret", []byte("<feed/>")), []byte("<feed/>"), true)
	f.Add("GET", "/websub/callback/0", "hub.mode=denied&hub.topic=t", "", []byte(""), true)
	f.Add("POST", "/websub/callback/0", "", "sha1=", []byte{0xff}, false)
	f.Add("POST", "/websub/callback/x/0", "", Sign("secret", []byte("<feed/>")), []byte("<feed/>"), false)
	if data, err := os.ReadFile(filepath.Join(corpus, "TypePadNews.xml")); err == nil {
		f.Add("POST", "/websub/callback/0", "", "sha256=", data, false)
	}
	f.Fuzz(func(t *testing.T, method, path, query, sig string, body []byte, shared bool) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path+query, " \r\n#") {
			return
		}
		var ingested int
		rec := &memRecords{recs: map[string][]byte{
			"0": []byte(`{"id":"0","feed_url":"https://s.example/f","hub":"https://h.example/","topic":"t","secret":"secret","active":true,"expires":"2030-01-01T00:00:00Z"}`),
		}}
		var leader Leader // shared: the callbacks read the store
		if shared {
			leader = &fakeLeader{}
		}
		s, err := NewSubscriber(t.Context(), SubscriberOptions{
			Leader:      leader,
			CallbackURL: "https://agg.example/websub/callback", Store: rec, MaxBody: 1 << 12,
			Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
			Ingest: func(_ context.Context, _ string, b []byte, _ string) error {
				ingested++
				if !Verify("secret", b, sig) {
					t.Errorf("ingested a push with signature %q", sig)
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, "https://agg.example"+path+"?"+query, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set(SignatureHeader, sig)
		s.ServeHTTP(httptest.NewRecorder(), req)
	})
}

// memRecords is an in-memory Records for the fuzz test, where a bbolt
// file per input would be too slow.
type memRecords struct {
	recs map[string][]byte
}

func (m *memRecords) PutWebSub(_ context.Context, _, key string, val []byte) error {
	m.recs[key] = val
	return nil
}

func (m *memRecords) DeleteWebSub(_ context.Context, _, key string) error {
	delete(m.recs, key)
	return nil
}

func (m *memRecords) WebSubRecords(context.Context, string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(m.recs))
	for k, v := range m.recs {
		out[k] = v
	}
	return out, nil
}

func (m *memRecords) WebSubRecord(_ context.Context, _, key string) ([]byte, error) {
	return m.recs[key], nil
}
