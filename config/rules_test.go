package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRuleKeys(t *testing.T) {
	const good = `output:
  max_per_source: 3
categories:
  - name: World
    include: '(?i)ukraine|russia'
    exclude: '(?i)sponsored'
feeds:
  - url: https://example.com/feed
    source_categories: true
    category_map:
      Politics: World
      "Foreign Policy & International Relations": Diplomacy
`
	cfg, err := Parse("t.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Output.MaxPerSource != 3 {
		t.Errorf("MaxPerSource = %d", cfg.Output.MaxPerSource)
	}
	if c := cfg.Categories[0]; c.Include == nil || c.Exclude == nil || !c.Include.MatchString("Ukraine") {
		t.Errorf("category rules = %v, %v", c.Include, c.Exclude)
	}
	want := map[string]string{"politics": "World", "foreign-policy-international-relations": "Diplomacy"}
	if diff := cmp.Diff(want, cfg.Feeds[0].CategoryMap); diff != "" {
		t.Errorf("CategoryMap (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, src string
		want      []string
	}{
		{"max_per_source negative", "output:\n  max_per_source: -1\n",
			[]string{"t.yaml:2: output.max_per_source: must be from 0 to 1000, found -1"}},
		{"category include regex", "categories:\n  - name: World\n    include: '(unclosed'\n",
			[]string{"t.yaml:3: categories[0].include: "}},
		{"category exclude regex", "categories:\n  - name: World\n    exclude: '[z-a]'\n",
			[]string{"t.yaml:3: categories[0].exclude: "}},
		{"category_map not a mapping", "feeds:\n  - url: https://example.com/f\n    category_map: [a, b]\n",
			[]string{"t.yaml:3: feeds[0].category_map: must be a mapping"}},
		{"category_map target reserved", "feeds:\n  - url: https://example.com/f\n    category_map:\n      Everything: All\n",
			[]string{`t.yaml:4: feeds[0].category_map.Everything: name "All" has the slug "all", which is reserved`}},
		{"category_map empty source", "feeds:\n  - url: https://example.com/f\n    category_map:\n      '--': World\n",
			[]string{`t.yaml:4: feeds[0].category_map: source category "--" has no letters or digits`}},
		{"category_map missing target", "feeds:\n  - url: https://example.com/f\n    category_map:\n      Politics:\n",
			[]string{"t.yaml:4: feeds[0].category_map.Politics: must be a category name"}},
		{"unknown category key", "categories:\n  - name: World\n    includes: x\n",
			[]string{`t.yaml:3: unknown key "includes"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
