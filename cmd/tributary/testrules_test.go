package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestTestRules(t *testing.T) {
	feeds := todayNewsServer(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tributary.yaml")
	writeFile(t, cfg, fmt.Sprintf(`data_dir: %[2]s
categories:
  - name: U.S.–NATO Relations
    exclude: '(?i)witkoff'
feeds:
  - url: %[1]s/livemint-world.rss
    source_categories: true
    exclude: '(?i)fed minutes'
    category_map:
      "Foreign Policy & International Relations": World
  - url: %[1]s/bloomberg-politics.atom
    source_categories: true
    include: 'bloomberg\.com/news'
    category_map:
      Politics: World
`, feeds.URL, filepath.Join(dir, "data")))

	tests := []struct {
		name string
		feed string
		want []string
	}{
		{"mint", "/livemint-world.rss", []string{
			"KEEP US, Russia Agreed on Ukraine Security Pledges, Witkoff Says\n",
			"     link: https://www.livemint.com/news/world/us-russia-agreed-on-ukraine-security-pledges-witkoff-says-11755440779394.html\n",
			"     rule: kept: no feed rule drops it\n",
			"     categories: all, U.S.–Russia Relations (u-s-russia-relations), World (world)\n",
			"     not in u-s-nato-relations: category exclude '(?i)witkoff' matches\n",
			"DROP Markets steady ahead of Fed minutes\n",
			"     rule: dropped: feed exclude '(?i)fed minutes' matches\n",
			"2 items: 1 kept, 1 dropped\n",
		}},
		{"bloomberg: include on the link, category renamed", "/bloomberg-politics.atom", []string{
			"KEEP US, Russia Agreed on Ukraine Security Pledges, Witkoff Says\n",
			`     rule: kept: feed include 'bloomberg\.com/news' matches` + "\n",
			"     categories: all, World (world)\n",
			"1 items: 1 kept, 0 dropped\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tributary(t, "test-rules", "-config", cfg, feeds.URL+tt.feed)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
	if r := tributary(t, "test-rules", "-config", cfg); r.code != 2 {
		t.Errorf("without URL: exit %d, want 2", r.code)
	}
}
