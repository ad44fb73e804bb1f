package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// NewFeed is a source to append to a config file.
type NewFeed struct {
	// URL is the feed's URL.
	URL string
	// Title, when non-empty, is written as the title override.
	Title string
	// Categories are written as the source's categories, in order.
	Categories []string
}

// ErrDuplicateFeed is returned (wrapped) by AppendFeeds when every feed
// given is already in the file.
var ErrDuplicateFeed = errors.New("feed already in the config")

// AppendFeeds appends feeds to the feeds: list of the config file at path.
// The new entries are inserted as text after the last entry of the list,
// in its indentation (or a feeds: list is added at the end of the file), so
// every other byte of the file stays as it was: comments, blank lines,
// quoting. A list it cannot extend that way (a flow-style `feeds: []`, a
// file with CRLF line ends) is rewritten from the file's YAML node tree
// instead, which keeps comments and the order of keys but not blank lines.
// A feed whose URL is already
// listed (or given twice), the same by FeedKey, is skipped and returned in
// skipped; when all are skipped nothing is written and the error wraps ErrDuplicateFeed. The
// result must load without problems, else nothing is written and the
// error lists them. The file is replaced atomically (a temporary file
// renamed over it) and keeps its mode. A missing file is created.
func AppendFeeds(path string, feeds []NewFeed) (skipped []string, err error) {
	data, err := os.ReadFile(path)
	mode := os.FileMode(0o644)
	switch {
	case errors.Is(err, os.ErrNotExist):
		data = nil
	case err != nil:
		return nil, fmt.Errorf("append to %s: %w", path, err)
	default:
		if info, err := os.Stat(path); err == nil {
			mode = info.Mode().Perm()
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("append to %s: %w", path, err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("append to %s: the file is not a mapping", path)
	}
	have := map[string]bool{}
	for _, item := range listedFeeds(top) {
		if item.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(item.Content); i += 2 {
			if item.Content[i].Value == "url" {
				have[FeedKey(item.Content[i+1].Value)] = true
			}
		}
	}
	var added []*yaml.Node
	for _, f := range feeds {
		if have[FeedKey(f.URL)] {
			skipped = append(skipped, f.URL)
			continue
		}
		have[FeedKey(f.URL)] = true
		added = append(added, feedNode(f))
	}
	if len(added) == 0 {
		return skipped, fmt.Errorf("append to %s: %w", path, ErrDuplicateFeed)
	}
	out, ok := insertFeeds(data, top, added)
	if !ok {
		out, err = rewriteWithFeeds(&doc, top, added)
		if err != nil {
			return nil, fmt.Errorf("append to %s: %w", path, err)
		}
	}
	if _, err := Parse(path, out); err != nil {
		return nil, fmt.Errorf("append to %s: the result would not load:\n%w", path, err)
	}
	if err := writeAtomic(path, out, mode); err != nil {
		return nil, fmt.Errorf("append to %s: %w", path, err)
	}
	return skipped, nil
}

// rewriteWithFeeds appends added to the feeds: list of the document doc
// (whose top mapping is top) and encodes it anew.
func rewriteWithFeeds(doc, top *yaml.Node, added []*yaml.Node) ([]byte, error) {
	list := feedList(top)
	list.Content = append(list.Content, added...)
	return encodeYAML(doc)
}

// encodeYAML encodes n with the two-space indentation of the example config.
func encodeYAML(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// insertFeeds returns data with the entries added inserted as text at the
// end of its feeds: list (top is data's top-level mapping), and whether it
// could: false for a layout it does not extend in place, or when the
// result would not read as the old list followed by added.
func insertFeeds(data []byte, top *yaml.Node, added []*yaml.Node) ([]byte, bool) {
	if bytes.Contains(data, []byte("\r")) {
		return nil, false
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var key, list, next *yaml.Node // the feeds key, its value, the key after it
	if i := feedsKey(top); i >= 0 {
		key, list = top.Content[i], top.Content[i+1]
		if i+2 < len(top.Content) {
			next = top.Content[i+2]
		}
	}
	var at int        // index in lines before which the entries go
	var indent string // of the entries' dashes
	var before string // text before the entries
	switch {
	case key == nil && len(lines) == 0:
		indent, before = "  ", "feeds:\n"
	case key == nil:
		at, indent, before = len(lines), "  ", "\nfeeds:\n"
	case list.Kind == yaml.ScalarNode && list.Tag == "!!null" && list.Line == key.Line && onlyKey(lines[key.Line-1]):
		at, indent = key.Line, "  "
	case list.Kind == yaml.SequenceNode && list.Style&yaml.FlowStyle == 0 && len(list.Content) > 0:
		var ok bool
		if indent, ok = dashIndent(lines, list.Content[0]); !ok {
			return nil, false
		}
		// The list ends at the key after it, less the blank lines and
		// comments before that key.
		end := len(lines)
		if next != nil {
			end = next.Line - 1
		}
		for end > 0 && blankOrComment(lines[end-1]) {
			end--
		}
		last := list.Content[len(list.Content)-1]
		if end < last.Line {
			return nil, false
		}
		at = end
		if len(list.Content) > 1 && blankBefore(lines, last.Line-1) {
			before = "\n" // the entries are spaced by blank lines
		}
	default:
		return nil, false
	}
	var b strings.Builder
	for _, l := range lines[:at] {
		b.WriteString(l)
	}
	if at > 0 && !strings.HasSuffix(lines[at-1], "\n") {
		b.WriteString("\n")
	}
	for i, n := range added {
		if i == 0 || before == "\n" {
			b.WriteString(before)
		}
		text, err := entryText(n, indent)
		if err != nil {
			return nil, false
		}
		b.WriteString(text)
	}
	for _, l := range lines[at:] {
		b.WriteString(l)
	}
	out := []byte(b.String())
	return out, appendedAsText(data, out, added)
}

// onlyKey reports whether a "feeds:" line holds nothing after the key but
// a comment.
func onlyKey(line string) bool {
	_, rest, _ := strings.Cut(line, ":")
	rest = strings.TrimSpace(rest)
	return rest == "" || strings.HasPrefix(rest, "#")
}

// dashIndent returns the white space before the dash of the sequence entry
// item.
func dashIndent(lines []string, item *yaml.Node) (string, bool) {
	if item.Line < 1 || item.Line > len(lines) {
		return "", false
	}
	line := lines[item.Line-1]
	dash := strings.IndexByte(line, '-')
	if dash < 0 || dash >= item.Column || strings.TrimLeft(line[:dash], " ") != "" {
		return "", false
	}
	return line[:dash], true
}

// blankOrComment reports whether line is empty or only a comment.
func blankOrComment(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

// blankBefore reports whether the first line above lines[i] that is not a
// comment is blank.
func blankBefore(lines []string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		t := strings.TrimSpace(lines[j])
		if !strings.HasPrefix(t, "#") {
			return t == ""
		}
	}
	return false
}

// entryText renders the feed mapping n as one block sequence entry whose
// dash is preceded by indent.
func entryText(n *yaml.Node, indent string) (string, error) {
	text, err := encodeYAML(&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{n}})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for line := range strings.SplitAfterSeq(string(text), "\n") {
		if line != "" {
			b.WriteString(indent + line)
		}
	}
	return b.String(), nil
}

// appendedAsText reports whether the feeds: list of out is that of data
// followed by the URLs of added.
func appendedAsText(data, out []byte, added []*yaml.Node) bool {
	type feeds struct {
		Feeds []struct {
			URL string `yaml:"url"`
		} `yaml:"feeds"`
	}
	var before, after feeds
	if yaml.Unmarshal(data, &before) != nil || yaml.Unmarshal(out, &after) != nil {
		return false
	}
	if len(after.Feeds) != len(before.Feeds)+len(added) {
		return false
	}
	for i, f := range before.Feeds {
		if after.Feeds[i].URL != f.URL {
			return false
		}
	}
	for i, n := range added {
		if after.Feeds[len(before.Feeds)+i].URL != n.Content[1].Value {
			return false
		}
	}
	return true
}

// listedFeeds returns the entries of the feeds: sequence of top, if any.
func listedFeeds(top *yaml.Node) []*yaml.Node {
	if i := feedsKey(top); i >= 0 && top.Content[i+1].Kind == yaml.SequenceNode {
		return top.Content[i+1].Content
	}
	return nil
}

// feedsKey returns the index in top.Content of the feeds key, or -1.
func feedsKey(top *yaml.Node) int {
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "feeds" {
			return i
		}
	}
	return -1
}

// feedList returns the feeds: sequence of top, adding an empty one (and
// turning a null value into one) when needed.
func feedList(top *yaml.Node) *yaml.Node {
	if i := feedsKey(top); i >= 0 {
		v := top.Content[i+1]
		if v.Kind != yaml.SequenceNode {
			*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		}
		v.Style &^= yaml.FlowStyle
		return v
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	top.Content = append(top.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "feeds"}, seq)
	return seq
}

// feedNode is the mapping of one new feed.
func feedNode(f NewFeed) *yaml.Node {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, str("url"), str(f.URL))
	if f.Title != "" {
		m.Content = append(m.Content, str("title"), str(f.Title))
	}
	if len(f.Categories) > 0 {
		cats := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, c := range f.Categories {
			cats.Content = append(cats.Content, str(c))
		}
		m.Content = append(m.Content, str("categories"), cats)
	}
	return m
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, renamed over path.
func writeAtomic(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
