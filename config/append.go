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

// AppendFeeds appends feeds to the feeds: list of the config file at path
// by editing its YAML node tree, which keeps the file's comments and the
// order of its keys (blank lines are not kept). A feed whose URL is already
// listed (or given twice) is skipped and returned in skipped; when all are
// skipped nothing is written and the error wraps ErrDuplicateFeed. The
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
	list := feedList(top)
	have := map[string]bool{}
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(item.Content); i += 2 {
			if item.Content[i].Value == "url" {
				have[strings.TrimSpace(item.Content[i+1].Value)] = true
			}
		}
	}
	added := 0
	for _, f := range feeds {
		if have[f.URL] {
			skipped = append(skipped, f.URL)
			continue
		}
		have[f.URL] = true
		list.Content = append(list.Content, feedNode(f))
		added++
	}
	if added == 0 {
		return skipped, fmt.Errorf("append to %s: %w", path, ErrDuplicateFeed)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("append to %s: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("append to %s: %w", path, err)
	}
	if _, err := Parse(path, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("append to %s: the result would not load:\n%w", path, err)
	}
	if err := writeAtomic(path, buf.Bytes(), mode); err != nil {
		return nil, fmt.Errorf("append to %s: %w", path, err)
	}
	return skipped, nil
}

// feedList returns the feeds: sequence of top, adding an empty one (and
// turning a null value into one) when needed.
func feedList(top *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "feeds" {
			v := top.Content[i+1]
			if v.Kind != yaml.SequenceNode {
				*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			}
			v.Style &^= yaml.FlowStyle
			return v
		}
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
