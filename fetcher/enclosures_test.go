package fetcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/config"
	"github.com/tributary/tributary/storage"
)

func TestNormalizeEnclosures(t *testing.T) {
	base := "https://example.com/podcast/feed.xml"
	tests := []struct {
		name string
		item string
		want []storage.Enclosure
	}{
		{
			name: "rss enclosure with length",
			item: `<item><guid>a</guid><enclosure url="ep1.mp3" length="12345" type="audio/mpeg"/></item>`,
			want: []storage.Enclosure{{URL: "https://example.com/podcast/ep1.mp3", Type: "audio/mpeg", Length: 12345}},
		},
		{
			name: "media content and group, duplicates once, bad length zero",
			item: `<item><guid>b</guid><enclosure url="https://cdn.example/v.mp4" length="x" type="video/mp4"/>` +
				`<media:content url="https://cdn.example/v.mp4" type="video/mp4"/>` +
				`<media:group><media:content url="https://cdn.example/i.jpg" type="image/jpeg" fileSize="99"/></media:group></item>`,
			want: []storage.Enclosure{
				{URL: "https://cdn.example/v.mp4", Type: "video/mp4"},
				{URL: "https://cdn.example/i.jpg", Type: "image/jpeg", Length: 99},
			},
		},
		{
			name: "non-http dropped",
			item: `<item><guid>c</guid><enclosure url="javascript:x" type="audio/mpeg"/></item>`,
		},
	}
	n := newNormalizer(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := n.normalize(normParse(t, normRSS(tt.item)), config.Feed{URL: base}, normURL(t, base), normNow)
			if len(got.Articles) != 1 {
				t.Fatalf("%d articles, want 1", len(got.Articles))
			}
			if diff := cmp.Diff(tt.want, got.Articles[0].Enclosures); diff != "" {
				t.Errorf("enclosures (-want +got):\n%s", diff)
			}
		})
	}
}
