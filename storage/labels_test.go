package storage

import (
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The labelled stories of the story engine's precision and recall test,
// here to store them: as they are, and as republishers edit them.

// labelStory is one story of the labelled set of the story engine,
// ../story/testdata/dupes.
type labelStory struct {
	group, name string
	title       string
	paras       []string
}

// loadLabelStories reads ../story/testdata/dupes/GROUP.NAME.txt.
func loadLabelStories(t testing.TB) []labelStory {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "story", "testdata", "dupes", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no labelled stories: %v", err)
	}
	var out []labelStory
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		group, name, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".txt"), ".")
		blocks := strings.Split(strings.TrimSpace(string(raw)), "\n\n")
		out = append(out, labelStory{group: group, name: name, title: blocks[0], paras: blocks[1:]})
	}
	return out
}

// edit is one realistic change a republisher makes to a story.
type edit struct {
	name  string
	apply func(s labelStory) (title string, paras []string, summaryOnly bool)
}

// edits are the syndication edits of the labelled set.
func edits() []edit {
	keep := func(s labelStory) []string { return slices.Clone(s.paras) }
	return []edit{
		{"suffix-today", func(s labelStory) (string, []string, bool) { return s.title + " | Today News", keep(s), false }},
		{"suffix-bloomberg", func(s labelStory) (string, []string, bool) { return s.title + " - Bloomberg", keep(s), false }},
		{"summary", func(s labelStory) (string, []string, bool) { return s.title, s.paras[:1], true }},
		{"two-paragraphs", func(s labelStory) (string, []string, bool) { return s.title, s.paras[:2], false }},
		{"assistance", func(s labelStory) (string, []string, bool) {
			return s.title, append(keep(s), "With assistance from Tony Czuczka and Josh Wingrove."), false
		}},
		{"wire-agency", func(s labelStory) (string, []string, bool) {
			return s.title + " | Mint", append(keep(s), "(This story has been published from a wire agency feed without modifications to the text. Only the headline has been changed.)"), false
		}},
		{"tracking-links", func(s labelStory) (string, []string, bool) {
			p := keep(s)
			p[0] = `<a href="https://example.com/topic?utm_source=rss&amp;utm_medium=feed">` + p[0] + `</a>`
			return s.title, p, false
		}},
		{"reordered", func(s labelStory) (string, []string, bool) {
			p := keep(s)
			if len(p) > 4 {
				p[1], p[2] = p[2], p[1]
				p[3], p[4] = p[4], p[3]
			}
			return s.title, p, false
		}},
		{"copyright", func(s labelStory) (string, []string, bool) {
			return s.title, append(keep(s), "©2025 Bloomberg L.P.", "Read more: Markets Wrap: Stocks Drift as Traders Await Data."), false
		}},
		{"new-headline", func(s labelStory) (string, []string, bool) {
			w := strings.Fields(s.title)
			return "Update: " + strings.Join(w[:max(1, len(w)-2)], " "), keep(s), false
		}},
		{"copyedit", func(s labelStory) (string, []string, bool) {
			p := keep(s)
			for i := range p {
				p[i] = strings.NewReplacer(" said", " says", "US ", "U.S. ", "'", "’").Replace(p[i])
				p[i] = strings.Replace(p[i], `"`, "“", 1)
			}
			return s.title, p, false
		}},
		{"summary-suffix-boilerplate", func(s labelStory) (string, []string, bool) {
			return s.title + " - Reuters", []string{s.paras[0], "(Reporting by Jane Doe; Editing by John Smith)"}, true
		}},
		{"truncated-ellipsis", func(s labelStory) (string, []string, bool) {
			w := strings.Fields(strings.Join(s.paras, " "))
			return s.title, []string{strings.Join(w[:min(40, len(w))], " ") + "… Read more."}, true
		}},
		{"last-dropped-added", func(s labelStory) (string, []string, bool) {
			p := keep(s)
			return s.title, append(p[:len(p)-1], "The story has been updated with comments from analysts."), false
		}},
	}
}

// labelArticle builds the stored form of a story, optionally edited.
func labelArticle(s labelStory, e *edit) Article {
	title, paras, summaryOnly := s.title, s.paras, false
	if e != nil {
		title, paras, summaryOnly = e.apply(s)
	}
	var body strings.Builder
	for _, p := range paras {
		if !strings.HasPrefix(p, "<a ") {
			p = html.EscapeString(p)
		}
		body.WriteString("<p>" + p + "</p>")
	}
	a := Article{Title: title, Published: time.Date(2025, 8, 17, 14, 21, 5, 0, time.UTC)}
	if summaryOnly {
		a.Summary = body.String()
	} else {
		a.Content = body.String()
	}
	return a
}
