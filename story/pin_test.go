package story

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"
)

var update = flag.Bool("update", false, "rewrite testdata/signatures.golden")

// pinnedSignatures returns, by name, the SHA-256 of the text signatures of
// the labelled stories (plain and under every edit), of each item of the
// today-news fixtures, and of all items of each corpus directory.
func pinnedSignatures(t *testing.T) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, st := range loadLabelStories(t) {
		out["dupes/"+st.group+"."+st.name] = digest(storyOf(labelArticle(st, nil)).Signature())
		for _, e := range edits() {
			out["dupes/"+st.group+"."+st.name+"/"+e.name] = digest(storyOf(labelArticle(st, &e)).Signature())
		}
	}
	shared := filepath.Join("..", "..", "shared")
	fixtures, err := filepath.Glob(filepath.Join(shared, "fixtures", "today-news", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		for i, it := range parseItems(f) {
			out[fmt.Sprintf("today-news/%s/%d", filepath.Base(f), i)] = digest(itemSignature(it))
		}
	}
	dirs, err := os.ReadDir(filepath.Join(shared, "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() {
			out["corpus/"+d.Name()] = corpusDigest(t, filepath.Join(shared, "corpus", d.Name()))
		}
	}
	return out
}

// corpusDigest is the SHA-256 of the text signatures of every item of
// every feed under dir, in file name and item order.
func corpusDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, it := range parseItems(path) {
			h.Write(itemSignature(it))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// parseItems returns the items of the feed file path, none when it does
// not parse.
func parseItems(path string) []*gofeed.Item {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	return f.Items
}

// itemSignature is the text signature of a parsed item.
func itemSignature(it *gofeed.Item) []byte {
	return Of(it.Title, it.Content, it.Description).Signature()
}

// digest is the SHA-256 of sig, shortened.
func digest(sig []byte) string {
	sum := sha256.Sum256(sig)
	return hex.EncodeToString(sum[:12])
}

// TestSignaturesPinned pins the text signatures (sketch keys, title and
// shingle hashes) bit for bit: stored records and sketch index entries
// must stay findable, so any change to the fingerprint's speed must leave
// its output as it is. go test -run TestSignaturesPinned -update rewrites
// the golden file, which only a versioned change of the format may do.
func TestSignaturesPinned(t *testing.T) {
	got := pinnedSignatures(t)
	golden := filepath.Join("testdata", "signatures.golden")
	if *update {
		var b strings.Builder
		for _, name := range slices.Sorted(maps.Keys(got)) {
			fmt.Fprintf(&b, "%s %s\n", name, got[name])
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, sum, _ := strings.Cut(sc.Text(), " ")
		want[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("signatures differ from %s (-want +got):\n%s", golden, diff)
	}
}
