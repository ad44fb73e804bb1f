// Package docs holds the documentation beyond the README, one topic per
// Markdown file, and a test that keeps the links between them working.
package docs

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// linkRE matches the target of an inline Markdown link or image.
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// codeSpanRE matches inline code, whose text is never a link.
var codeSpanRE = regexp.MustCompile("`[^`]*`")

// markdownFile is what the link check needs of one Markdown file.
type markdownFile struct {
	anchors map[string]bool
	links   []link
}

// link is one link target and the line it is on.
type link struct {
	line   int
	target string
}

// readMarkdown reads path's headings (as GitHub anchors) and link targets,
// outside fenced code blocks.
func readMarkdown(path string) (markdownFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return markdownFile{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	md := markdownFile{anchors: map[string]bool{}}
	seen := map[string]int{}
	fence := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		if text, ok := heading(line); ok {
			a := anchor(text)
			if k := seen[a]; k > 0 {
				md.anchors[fmt.Sprintf("%s-%d", a, k)] = true
			} else {
				md.anchors[a] = true
			}
			seen[a]++
		}
		for _, m := range linkRE.FindAllStringSubmatch(codeSpanRE.ReplaceAllString(line, ""), -1) {
			md.links = append(md.links, link{line: n, target: m[1]})
		}
	}
	if err := sc.Err(); err != nil {
		return markdownFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	return md, nil
}

// heading returns the text of an ATX heading line.
func heading(line string) (string, bool) {
	level := len(line) - len(strings.TrimLeft(line, "#"))
	if level == 0 || level > 6 || !strings.HasPrefix(line[level:], " ") {
		return "", false
	}
	return strings.TrimSpace(line[level:]), true
}

// anchor is the id GitHub gives a heading: lower case, inline code marks
// and punctuation other than '-' and '_' dropped, spaces made '-'.
func anchor(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-', r == '_', unicode.IsLetter(r), unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestAnchor checks anchor against ids GitHub gives the headings of these files.
func TestAnchor(t *testing.T) {
	for text, want := range map[string]string{
		"One story, once": "one-story-once",
		"Fetching politely, surviving the open web": "fetching-politely-surviving-the-open-web",
		"WebSub: push instead of poll":              "websub-push-instead-of-poll",
		"Full text for summary-only sources":        "full-text-for-summary-only-sources",
		"JSON Feed and RSS sources of a story":      "json-feed-and-rss-sources-of-a-story",
	} {
		if got := anchor(text); got != want {
			t.Errorf("anchor(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestDocsLinks fails on a relative link of README.md or docs/*.md to a
// file that does not exist or to a #fragment that is no heading of its
// target, and on a docs file the README's table of contents does not list.
func TestDocsLinks(t *testing.T) {
	paths, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, filepath.Join("..", "README.md"))
	files := map[string]markdownFile{}
	for _, p := range paths {
		md, err := readMarkdown(p)
		if err != nil {
			t.Fatal(err)
		}
		files[key(t, p)] = md
	}
	for _, p := range paths {
		for _, l := range files[key(t, p)].links {
			if msg := checkLink(t, p, l.target, files); msg != "" {
				t.Errorf("%s:%d: %s: %s", p, l.line, l.target, msg)
			}
		}
	}
	readme := files[key(t, filepath.Join("..", "README.md"))]
	for _, p := range paths {
		if filepath.Dir(p) != "." {
			continue
		}
		if !slices.ContainsFunc(readme.links, func(l link) bool { return l.target == "docs/"+p }) {
			t.Errorf("README.md does not link docs/%s in its table of contents", p)
		}
	}
}

// key is the absolute path that names a file in the map of checked files.
func key(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// checkLink returns why target, a link in the file from, is broken, or "".
func checkLink(t *testing.T, from, target string, files map[string]markdownFile) string {
	u, err := url.Parse(target)
	if err != nil {
		return err.Error()
	}
	if u.Scheme != "" || u.Host != "" {
		return ""
	}
	dest := from
	if u.Path != "" {
		dest = filepath.Join(filepath.Dir(from), filepath.FromSlash(u.Path))
		if _, err := os.Stat(dest); err != nil {
			return "no such file"
		}
	}
	if u.Fragment == "" {
		return ""
	}
	md, ok := files[key(t, dest)]
	if !ok {
		return "a #fragment of a file that is not checked"
	}
	if !md.anchors[u.Fragment] {
		return "no such heading"
	}
	return ""
}
