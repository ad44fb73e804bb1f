package story

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// labelStory is one story of testdata/dupes.
type labelStory struct {
	group, name string
	title       string
	paras       []string
}

// loadLabelStories reads testdata/dupes/GROUP.NAME.txt.
func loadLabelStories(t testing.TB) []labelStory {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "dupes", "*.txt"))
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

// article is what a feed item gives the story engine.
type article struct {
	Title, Content, Summary string
	Published               time.Time
}

// storyOf is the Story of a.
func storyOf(a article) Story { return Of(a.Title, a.Content, a.Summary) }

// labelArticle builds the stored form of a story, optionally edited.
func labelArticle(s labelStory, e *edit) article {
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
	a := article{Title: title, Published: time.Date(2025, 8, 17, 14, 21, 5, 0, time.UTC)}
	if summaryOnly {
		a.Summary = body.String()
	} else {
		a.Content = body.String()
	}
	return a
}

// labelPair is one labelled comparison.
type labelPair struct {
	name string
	a, b article
	same bool
}

// labelPairs builds the labelled set: copies of every story (same) and
// pairs of distinct stories of one group, plain and equally edited
// (different).
func labelPairs(t *testing.T) []labelPair {
	stories := loadLabelStories(t)
	es := edits()
	var pairs []labelPair
	for _, s := range stories {
		base := labelArticle(s, nil)
		for i := range es {
			pairs = append(pairs, labelPair{
				name: fmt.Sprintf("%s.%s/%s", s.group, s.name, es[i].name),
				a:    base, b: labelArticle(s, &es[i]), same: true,
			})
		}
		for _, ij := range [][2]int{{2, 1}, {3, 7}, {10, 5}, {12, 0}, {4, 8}, {2, 9}, {12, 9}, {11, 9}, {3, 9}} {
			pairs = append(pairs, labelPair{
				name: fmt.Sprintf("%s.%s/%s~%s", s.group, s.name, es[ij[0]].name, es[ij[1]].name),
				a:    labelArticle(s, &es[ij[0]]), b: labelArticle(s, &es[ij[1]]), same: true,
			})
		}
	}
	for i, s := range stories {
		for _, o := range stories[i+1:] {
			if o.group != s.group {
				continue
			}
			pairs = append(pairs, labelPair{
				name: fmt.Sprintf("%s.%s~%s", s.group, s.name, o.name),
				a:    labelArticle(s, nil), b: labelArticle(o, nil),
			})
			for k := range es {
				pairs = append(pairs, labelPair{
					name: fmt.Sprintf("%s.%s~%s/%s", s.group, s.name, o.name, es[k].name),
					a:    labelArticle(s, &es[k]), b: labelArticle(o, &es[k]),
				})
				pairs = append(pairs, labelPair{
					name: fmt.Sprintf("%s.%s/%s~%s", s.group, s.name, es[k].name, o.name),
					a:    labelArticle(s, &es[k]), b: labelArticle(o, nil),
				})
			}
		}
	}
	return pairs
}

func TestDuplicatePrecisionRecall(t *testing.T) {
	pairs := labelPairs(t)
	var tp, fp, fn, tn int
	for _, p := range pairs {
		// A copy is found only when the sketch index offers it as a
		// candidate and SameStory confirms it.
		got := shareSketchKey(storyOf(p.a), storyOf(p.b)) &&
			SameStory(storyOf(p.a), storyOf(p.b), p.a.Published, p.b.Published)
		title, cont, short := Similarity(storyOf(p.a), storyOf(p.b))
		switch {
		case got && p.same:
			tp++
		case got && !p.same:
			fp++
			t.Errorf("false merge %s: title %.2f containment %.2f (%d shingles)", p.name, title, cont, short)
		case !got && p.same:
			fn++
			t.Logf("missed copy %s: title %.2f containment %.2f (%d shingles)", p.name, title, cont, short)
		default:
			tn++
		}
	}
	copies, distinct := tp+fn, fp+tn
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, copies))
	t.Logf("labelled pairs: %d copies, %d distinct; precision %.4f, recall %.4f (tp %d, fp %d, fn %d, tn %d)",
		copies, distinct, precision, recall, tp, fp, fn, tn)
	if copies < 100 || distinct < 100 {
		t.Errorf("labelled set too small: %d copies, %d distinct", copies, distinct)
	}
	if recall < 0.99 {
		t.Errorf("recall %.4f, want ≥ 0.99", recall)
	}
	if fp != 0 {
		t.Errorf("%d false merges, want 0", fp)
	}
}

// TestDuplicateMargins reports the closest scores on each side of the
// thresholds, which is how the Dup* constants were chosen.
func TestDuplicateMargins(t *testing.T) {
	var maxDistinct, minCopy float64 = 0, 1
	var maxName, minName string
	for _, p := range labelPairs(t) {
		_, cont, _ := Similarity(storyOf(p.a), storyOf(p.b))
		if p.same && cont < minCopy {
			minCopy, minName = cont, p.name
		}
		if !p.same && cont > maxDistinct {
			maxDistinct, maxName = cont, p.name
		}
	}
	t.Logf("containment: lowest of copies %.2f (%s), highest of distinct stories %.2f (%s)", minCopy, minName, maxDistinct, maxName)
	if maxDistinct >= DupMinContainment {
		t.Errorf("a distinct pair reaches DupMinContainment: %.2f (%s)", maxDistinct, maxName)
	}
}

// shareSketchKey reports whether a and b have a sketch key in common.
func shareSketchKey(a, b Story) bool {
	kb := sketchKeys(b)
	return slices.ContainsFunc(sketchKeys(a), func(k []byte) bool {
		return slices.ContainsFunc(kb, func(o []byte) bool { return string(o) == string(k) })
	})
}
