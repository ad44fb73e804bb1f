package main

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/tributary/tributary/config"
)

// opmlDoc is an OPML 2.0 document: folders are outlines without xmlUrl,
// feeds are outlines of type "rss" with xmlUrl.
type opmlDoc struct {
	XMLName xml.Name  `xml:"opml"`
	Version string    `xml:"version,attr"`
	Title   string    `xml:"head>title"`
	Body    []outline `xml:"body>outline"`
}

type outline struct {
	Text     string    `xml:"text,attr"`
	Title    string    `xml:"title,attr,omitempty"`
	Type     string    `xml:"type,attr,omitempty"`
	XMLURL   string    `xml:"xmlUrl,attr,omitempty"`
	Children []outline `xml:"outline"`
}

func runExportOPML(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("export-opml", "[-config FILE]",
		"Print the config's sources as OPML 2.0: one folder per category holding its\n"+
			"sources (a source with several categories is in each), then the sources\n"+
			"without a category.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("export-opml: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	doc := opmlDoc{Version: "2.0", Title: cfg.Title}
	folders := map[string]int{}
	for _, f := range cfg.Feeds {
		o := outline{Text: cmpOr(f.Title, f.URL), Title: f.Title, Type: "rss", XMLURL: f.URL}
		if len(f.Categories) == 0 {
			doc.Body = append(doc.Body, o)
			continue
		}
		for _, c := range f.Categories {
			i, ok := folders[c]
			if !ok {
				i = len(doc.Body)
				folders[c] = i
				doc.Body = append(doc.Body, outline{Text: c, Title: c})
			}
			doc.Body[i].Children = append(doc.Body[i].Children, o)
		}
	}
	// Folders first, in order of first use, then the loose sources.
	slices.SortStableFunc(doc.Body, func(a, b outline) int { return boolRank(a.XMLURL != "") - boolRank(b.XMLURL != "") })
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("export-opml: %w", err)
	}
	fmt.Fprintf(stdout, "%s%s\n", xml.Header, out)
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func runImportOPML(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("import-opml", "[-config FILE] OPML",
		"Append the sources of an OPML file to the config, keeping its comments and\n"+
			"order. Folders become categories (a feed in nested folders gets each\n"+
			"folder's name). Sources already in the config are skipped, so importing the\n"+
			"same file twice changes nothing. Sources are not probed.", stdout)
	configPath := configFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"import-opml: want exactly one argument, the OPML file"}
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("import-opml: %w", err)
	}
	var doc opmlDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("import-opml: %s: %w", fs.Arg(0), err)
	}
	feeds := opmlFeeds(doc.Body, nil, nil, map[string]int{})
	if len(feeds) == 0 {
		return fmt.Errorf("import-opml: %s lists no feeds (outlines with xmlUrl)", fs.Arg(0))
	}
	skipped, err := config.AppendFeeds(*configPath, feeds)
	if err != nil && !errors.Is(err, config.ErrDuplicateFeed) {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d sources added, %d already there\n", *configPath, len(feeds)-len(skipped), len(skipped))
	return nil
}

// opmlFeeds collects the feeds under outlines, in document order, each URL
// once (by config.FeedKey, as first written) with the names of every folder
// it appears in.
func opmlFeeds(outlines []outline, folders []string, out []config.NewFeed, pos map[string]int) []config.NewFeed {
	for _, o := range outlines {
		name := strings.TrimSpace(cmpOr(o.Title, o.Text))
		url := strings.TrimSpace(o.XMLURL)
		if url == "" {
			out = opmlFeeds(o.Children, append(slices.Clip(folders), name), out, pos)
			continue
		}
		i, ok := pos[config.FeedKey(url)]
		if !ok {
			i = len(out)
			pos[config.FeedKey(url)] = i
			title := name
			if title == url {
				title = ""
			}
			out = append(out, config.NewFeed{URL: url, Title: title})
		}
		for _, f := range folders {
			if f != "" && !slices.Contains(out[i].Categories, f) {
				out[i].Categories = append(out[i].Categories, f)
			}
		}
	}
	return out
}
