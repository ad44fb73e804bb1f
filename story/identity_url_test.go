package story

import (
	"strings"
	"testing"
)

func TestIdentityURL(t *testing.T) {
	const mint = "livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"today-news Mint link", "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html?utm_source=rss&utm_medium=feed#comments", mint},
		{"http is https", "http://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html", mint},
		{"no www", "https://livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html", mint},
		{"amp host", "https://amp.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html", mint},
		{"amp path segment", "https://www.livemint.com/amp/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html", mint},
		{"amp.html suffix", "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.amp.html", mint},
		{"amp query", "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html?amp", mint},
		{"amp=1 and outputType=amp", "https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html?amp=1&outputType=amp", mint},
		{"trailing amp segment", "https://example.com/story/amp/", "example.com/story"},
		{"trailing slash", "https://example.com/story/", "example.com/story"},
		{"root", "https://example.com/", "example.com"},
		{"default port and case", "HTTPS://WWW.Example.COM:443/Story", "example.com/Story"},
		{"other port kept", "http://example.com:8080/a", "example.com:8080/a"},
		{"query sorted, trackers gone", "https://example.com/a?z=1&utm_source=x&a=2", "example.com/a?a=2&z=1"},
		{"feedproxy", "http://feedproxy.google.com/~r/Example/~3/AbC123/story.html", "feedburner/Example/story.html"},
		{"feedburner host same item", "https://feeds.feedburner.com/~r/Example/~3/AbC123/story.html", "feedburner/Example/story.html"},
		{"feedburner token changes", "https://feeds.feedburner.com/~r/Example/~3/XyZ789/story.html", "feedburner/Example/story.html"},
		{"feedburner non-redirect path", "https://feeds.feedburner.com/Example", "feeds.feedburner.com/Example"},
		{"word amp inside a segment kept", "https://example.com/camp/ample", "example.com/camp/ample"},
		{"relative unchanged", "news/a?utm_source=x#top", "news/a?utm_source=x"},
		{"opaque unchanged", "mailto:a@example.com", "mailto:a@example.com"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IdentityURL(tt.in)
			if got != tt.want {
				t.Errorf("IdentityURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := IdentityURL(got); again != got {
				t.Errorf("IdentityURL is not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestStripTitleSuffix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"US, Russia Agreed on Ukraine Security Pledges, Witkoff Says | Today News", "US, Russia Agreed on Ukraine Security Pledges, Witkoff Says"},
		{"US, Russia Agreed on Ukraine Security Pledges, Witkoff Says - Bloomberg", "US, Russia Agreed on Ukraine Security Pledges, Witkoff Says"},
		{"Fed Holds Rates Steady — The Wall Street Journal", "Fed Holds Rates Steady"},
		{"Markets steady ahead of Fed minutes", "Markets steady ahead of Fed minutes"},
		{"Trump - Putin talks", "Trump - Putin talks"}, // would leave fewer than four words
		{"  Padded title | Site  ", "Padded title | Site"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := StripTitleSuffix(tt.in); got != tt.want {
				t.Errorf("StripTitleSuffix(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStripBoilerplate(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"assistance", "Rubio said. With assistance from Tony Czuczka, María Paula Mijares Torres and Josh Wingrove.", "Rubio said."},
		{"wire agency", "End. This story has been published from a wire agency feed without modifications to the text. Only the headline has been changed.", "End."},
		{"copyright", "End. ©2025 Bloomberg L.P.", "End."},
		{"reporting by", "End. (Reporting by Jane Doe; Editing by John Smith)", "End."},
		{"read more", "End. Read more: Markets Wrap: Stocks Drift.", "End."},
		{"plain text kept", "Witkoff said on CNN.", "Witkoff said on CNN."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collapse(StripBoilerplate(tt.in)); got != tt.want {
				t.Errorf("StripBoilerplate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// collapse trims s and joins its fields with single spaces.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
