package fetcher

import (
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary/tributary/storage"
)

// syndicationSources is the number of feeds of the syndication corpus.
const syndicationSources = 8

// syndicationCorpus builds syndicationSources RSS feeds from the labelled
// stories of ../story/testdata/dupes (distinct stories of one topic side
// by side): each story is carried by two to six sources, each with an edit
// a republisher makes (headline suffix, summary only, two paragraphs, wire
// boilerplate, truncation, copy edits, a new headline) and its own
// publication time within two days of the others. Summaries and truncated
// copies match the full text but not always each other, so the corpus has
// chains. The random choices come from a fixed seed.
func syndicationCorpus(t *testing.T) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "story", "testdata", "dupes", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no labelled stories: %v", err)
	}
	r := rand.New(rand.NewPCG(11, 42))
	items := make([][]string, syndicationSources)
	base := time.Date(2025, 8, 10, 6, 0, 0, 0, time.UTC)
	for i, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(strings.TrimSpace(string(raw)), "\n\n")
		title, paras := blocks[0], blocks[1:]
		story := strings.TrimSuffix(filepath.Base(f), ".txt")
		carriers := r.Perm(syndicationSources)[:2+r.IntN(5)]
		for _, src := range carriers {
			head, body := syndicatedCopy(r, title, paras)
			published := base.Add(time.Duration(i)*7*time.Hour + time.Duration(r.IntN(48*60))*time.Minute)
			items[src] = append(items[src], fmt.Sprintf(
				"<item><title>%s</title><link>https://src%d.example/%s</link><pubDate>%s</pubDate><description>%s</description></item>\n",
				html.EscapeString(head), src, story, published.Format(time.RFC1123Z), html.EscapeString(body)))
		}
	}
	feeds := make([][]byte, syndicationSources)
	for src, its := range items {
		feeds[src] = fmt.Appendf(nil, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Source %d</title><link>https://src%d.example/</link>\n%s</channel></rss>",
			src, src, strings.Join(its, ""))
	}
	return feeds
}

// syndicatedCopy returns the title and HTML body of one republished copy
// of the story title/paras, edited at random.
func syndicatedCopy(r *rand.Rand, title string, paras []string) (string, string) {
	paras = slices.Clone(paras)
	switch r.IntN(8) {
	case 1:
		title += " | Today News"
	case 2:
		paras = paras[:1]
	case 3:
		paras = paras[:min(2, len(paras))]
	case 4:
		paras = append(paras, "With assistance from Tony Czuczka and Josh Wingrove.")
	case 5:
		w := strings.Fields(strings.Join(paras, " "))
		paras = []string{strings.Join(w[:min(40, len(w))], " ") + "… Read more."}
	case 6:
		for i := range paras {
			paras[i] = strings.NewReplacer(" said", " says", "US ", "U.S. ").Replace(paras[i])
		}
	case 7:
		w := strings.Fields(title)
		title = "Update: " + strings.Join(w[:max(1, len(w)-2)], " ")
	}
	var body strings.Builder
	for _, p := range paras {
		body.WriteString("<p>" + html.EscapeString(p) + "</p>")
	}
	return title, body.String()
}

// storyView is a stored story as the order test compares it: its members
// (source and link of every copy) and its primary source.
type storyView struct {
	Members string
	Primary string
}

// storiesOf lists every story of store, sorted.
func storiesOf(t *testing.T, store *storage.Store) []storyView {
	t.Helper()
	arts, err := store.Latest(t.Context(), storage.AllSlug, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]storyView, 0, len(arts))
	for _, a := range arts {
		members := []string{a.Source.FeedURL + " " + a.Link}
		for _, c := range a.Via {
			members = append(members, c.Source.FeedURL+" "+c.Link)
		}
		slices.Sort(members)
		out = append(out, storyView{Members: strings.Join(members, ", "), Primary: a.Source.FeedURL})
	}
	slices.SortFunc(out, func(x, y storyView) int { return strings.Compare(x.Members, y.Members) })
	return out
}

// TestMergeIndependentOfOrder ingests one corpus of syndicated feeds with
// the real fetcher into fresh stores, one source at a time in config order,
// sixteen at a time in reverse order, and four at a time in a shuffled
// order: every run must make the same stories, with the same members and
// the same primary source.
func TestMergeIndependentOfOrder(t *testing.T) {
	srv := newFeedServer(t)
	var urls []string
	for i, body := range syndicationCorpus(t) {
		urls = append(urls, srv.set(fmt.Sprintf("/src%d.rss", i), route{body: body}))
	}
	reversed := slices.Clone(urls)
	slices.Reverse(reversed)
	shuffled := slices.Clone(urls)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	runs := []struct {
		name        string
		urls        []string
		concurrency int
	}{
		{"config order, one at a time", urls, 1},
		{"reverse order, sixteen at a time", reversed, 16},
		{"shuffled, four at a time", shuffled, 4},
	}
	var want []storyView
	for i, run := range runs {
		cfg := testConfig(feedsAt(run.urls...)...)
		cfg.Fetch.Concurrency = run.concurrency
		cfg.Fetch.PerHost = run.concurrency
		clock := newTestClock()
		store := newTestStore(t, clock.Now)
		f := newTestFetcher(t, cfg, store, Options{Now: clock.Now})
		res, err := f.RunOnce(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		merged := 0
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("%s: %s: %v", run.name, r.FeedURL, r.Err)
			}
			merged += r.Merged
		}
		got := storiesOf(t, store)
		if i == 0 {
			want = got
			t.Logf("%s: %d stories, %d copies merged", run.name, len(got), merged)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: stories differ from %q (-%s +%s):\n%s", run.name, runs[0].name, runs[0].name, run.name, diff)
		}
	}
}
