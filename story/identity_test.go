package story

import (
	"regexp"
	"testing"
)

// isItemKey reports whether s has the form of an ItemKey: 32 lower-case
// hex digits.
var isItemKey = regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString

func TestCleanURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "today-news Mint link: utm and fragment",
			in:   "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html?utm_source=rss&utm_medium=feed#comments",
			want: "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html",
		},
		{
			name: "today-news clean link unchanged",
			in:   "https://today-news.example/perspectives/ukraine-security-guarantees",
			want: "https://today-news.example/perspectives/ukraine-security-guarantees",
		},
		{
			name: "today-news relative Atom link unchanged",
			in:   "news/articles/2025-08-17/us-russia-agreed-on-ukraine-security-pledges-witkoff-says",
			want: "news/articles/2025-08-17/us-russia-agreed-on-ukraine-security-pledges-witkoff-says",
		},
		{"fbclid between others", "https://example.com/a?x=1&fbclid=IwAR0abc&y=2", "https://example.com/a?x=1&y=2"},
		{"other params keep order", "https://example.com/s?z=1&a=2&m=3", "https://example.com/s?z=1&a=2&m=3"},
		{"other params keep encoding", "https://example.com/s?q=a+b%20c&utm_campaign=x&r=%2F", "https://example.com/s?q=a+b%20c&r=%2F"},
		{"names are case-insensitive", "https://example.com/?UTM_Source=x&FBCLID=y&GClid=z&id=7", "https://example.com/?id=7"},
		{"escaped name", "https://example.com/?utm%5Fsource=x&id=7", "https://example.com/?id=7"},
		{"listed trackers", "https://example.com/?mc_cid=1&mc_eid=2&igshid=3&_hsenc=4&_hsmi=5&yclid=6&msclkid=7&dclid=8&ref_src=twsrc&__twitter_impression=true&oly_anon_id=9&oly_enc_id=10&vero_id=11&wt_mc=12&p=1", "https://example.com/?p=1"},
		{"only trackers: no dangling ?", "https://example.com/a?utm_source=rss", "https://example.com/a"},
		{"empty query: no dangling ?", "https://example.com/a?", "https://example.com/a"},
		{"stray & after removal", "https://example.com/a?utm_source=rss&&p=1&", "https://example.com/a?p=1"},
		{"valueless param", "https://example.com/a?print&utm_medium", "https://example.com/a?print"},
		{"fragment only", "https://example.com/a#section-2", "https://example.com/a"},
		{"mixed-case scheme and host, path kept", "HTTPS://WWW.Example.COM/Path/Case", "https://www.example.com/Path/Case"},
		{"default http port", "http://example.com:80/a", "http://example.com/a"},
		{"default https port", "https://example.com:443/a", "https://example.com/a"},
		{"https port on http kept", "http://example.com:443/a", "http://example.com:443/a"},
		{"other port kept", "https://example.com:8443/a", "https://example.com:8443/a"},
		{"IPv6 default port", "http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"},
		{"empty port", "https://example.com:/a", "https://example.com/a"},
		{"colons in a bad host kept", "A://0::", "a://0::"},
		{"path escapes kept", "https://example.com/caf%C3%A9/%7Euser?utm_source=x", "https://example.com/caf%C3%A9/%7Euser"},
		{"userinfo kept", "https://user:pw@Example.com/a", "https://user:pw@example.com/a"},
		{"relative: only the fragment goes", "/news/x?utm_source=y#top", "/news/x?utm_source=y"},
		{"protocol-relative", "//example.com/a?utm_source=y#top", "//example.com/a?utm_source=y"},
		{"opaque", "mailto:desk@example.com?utm_source=x", "mailto:desk@example.com?utm_source=x"},
		{"unparseable unchanged", "http://[::1/a?utm_source=x#f", "http://[::1/a?utm_source=x#f"},
		{"bad escape unchanged", "https://example.com/%zz?utm_source=x", "https://example.com/%zz?utm_source=x"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanURL(tt.in); got != tt.want {
				t.Errorf("CleanURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzCleanURL(f *testing.F) {
	for _, seed := range []string{
		"https://www.livemint.com/news/world/x-11755440779394.html?utm_source=rss&utm_medium=feed#comments",
		"HTTP://Example.COM:80/a%20b/?q=1&utm_x=2&&fbclid=3#f",
		"https://[2001:db8::1]:443/?a",
		"/relative?utm_source=x#frag",
		"mailto:a@example.com",
		"http://[::1",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		once := CleanURL(raw)
		if twice := CleanURL(once); twice != once {
			t.Errorf("CleanURL not idempotent:\n  in %q\nonce %q\ntwice %q", raw, once, twice)
		}
	})
}

func TestItemKey(t *testing.T) {
	const feed = "https://www.livemint.com/rss/world"
	const link = "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html"
	// The key of the today-news Mint item: stored IDs depend on it, so it
	// must never change silently.
	const mintKey = "8394939fcb20b646b14eda860f152494"
	if got := ItemKey(feed, "11755440779394", link+"?utm_source=rss&utm_medium=feed#comments", "US, Russia agreed", "text"); got != mintKey {
		t.Errorf("ItemKey of the Mint item = %s, want %s", got, mintKey)
	}

	type args struct{ feed, guid, link, title, content string }
	tests := []struct {
		name string
		a, b args
		same bool
	}{
		{"guid wins over link and text", args{feed, "g1", link, "T", "C"}, args{feed, "g1", link + "/other", "T2", "C2"}, true},
		{"different guids", args{feed, "g1", link, "T", "C"}, args{feed, "g2", link, "T", "C"}, false},
		{"guid is trimmed", args{feed, "  g1\n", "", "", ""}, args{feed, "g1", "", "", ""}, true},
		{"blank guid falls back to link", args{feed, " \t", link, "T", "C"}, args{feed, "", link, "T2", "C2"}, true},
		{"link is cleaned", args{feed, "", link + "?utm_source=rss#comments", "", ""}, args{feed, "", link, "", ""}, true},
		{"guid equal to a link is not that link", args{feed, link, "", "", ""}, args{feed, "", link, "", ""}, false},
		{"text when no guid or link", args{feed, "", "", "T", "C"}, args{feed, "", "", "T", "C"}, true},
		{"text differs", args{feed, "", "", "T", "C"}, args{feed, "", "", "T", "C2"}, false},
		{"title and content are separated", args{feed, "", "", "ab", "c"}, args{feed, "", "", "a", "bc"}, false},
		{"same guid in two feeds", args{feed, "g1", "", "", ""}, args{"https://feeds.bloomberg.com/politics/news.atom", "g1", "", "", ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka := ItemKey(tt.a.feed, tt.a.guid, tt.a.link, tt.a.title, tt.a.content)
			kb := ItemKey(tt.b.feed, tt.b.guid, tt.b.link, tt.b.title, tt.b.content)
			if !isItemKey(ka) || !isItemKey(kb) {
				t.Fatalf("keys %q, %q: want 32 lower-case hex digits", ka, kb)
			}
			if again := ItemKey(tt.a.feed, tt.a.guid, tt.a.link, tt.a.title, tt.a.content); again != ka {
				t.Errorf("ItemKey not stable: %s then %s", ka, again)
			}
			if (ka == kb) != tt.same {
				t.Errorf("ItemKey(%+v) = %s, ItemKey(%+v) = %s; want same = %t", tt.a, ka, tt.b, kb, tt.same)
			}
		})
	}
}
