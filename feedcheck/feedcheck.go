// Package feedcheck validates rendered feed documents the way their readers
// see them: Atom against the RFC 4287 RELAX NG schema with jing, plus the
// schema's Schematron rules that jing ignores, and every format through
// Debian's python3-feedparser. It exists for tests.
//
// The external tools are optional on a developer's machine: when jing or
// feedparser is missing the check is skipped, unless the CI environment
// variable is set, where a missing tool fails the test.
package feedcheck

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// python is Debian's interpreter, which has python3-feedparser; the first
// python3 on PATH may be another installation.
const python = "/usr/bin/python3"

// Atom fails t unless doc is a valid Atom 1.0 document: it must pass
// atom.rnc and atom-judge.rnc with jing, satisfy the two Schematron rules of
// RFC 4287 (an author for every entry, an alternate link or content for
// every entry), and parse in feedparser without a bozo error.
func Atom(t testing.TB, doc []byte) {
	t.Helper()
	schematron(t, doc)
	Jing(t, doc)
	Feedparser(t, doc)
}

// missing skips t, or fails it in CI, because tool is unavailable.
func missing(t testing.TB, tool string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", tool, err)
	}
	t.Skipf("%s not available: %v", tool, err)
}

// SpecDir returns the directory holding atom.rnc: shared/spec in the
// working directory or one of its parents' siblings.
func SpecDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		for _, cand := range []string{filepath.Join(dir, "shared", "spec"), filepath.Join(dir, "..", "shared", "spec")} {
			if _, err := os.Stat(filepath.Join(cand, "atom.rnc")); err == nil {
				return cand
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			missing(t, "shared/spec/atom.rnc", os.ErrNotExist)
			return ""
		}
		dir = parent
	}
}

// Jing validates doc against atom.rnc and atom-judge.rnc.
func Jing(t testing.TB, doc []byte) {
	t.Helper()
	jing, err := exec.LookPath("jing")
	if err != nil {
		missing(t, "jing", err)
		return
	}
	spec := SpecDir(t)
	file := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{"atom.rnc", "atom-judge.rnc"} {
		out, err := exec.Command(jing, "-c", filepath.Join(spec, schema), file).CombinedOutput()
		if err != nil {
			t.Errorf("jing -c %s: %v\n%s\ndocument:\n%s", schema, err, relevant(out), head(doc))
		}
	}
}

// relevant drops the harmless warnings of Debian's jing wrapper.
func relevant(out []byte) string {
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" && !strings.Contains(line, "[warning]") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func head(doc []byte) string {
	const max = 4000
	if len(doc) > max {
		return string(doc[:max]) + "\n…"
	}
	return string(doc)
}

// feedparserScript parses stdin and prints what a reader sees as JSON.
const feedparserScript = `
import sys, json, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
print(json.dumps({
  "bozo": int(d.bozo),
  "bozo_exception": str(d.get("bozo_exception", "")),
  "version": d.version,
  "title": d.feed.get("title", ""),
  "entries": [{"id": e.get("id", ""), "title": e.get("title", ""), "link": e.get("link", "")} for e in d.entries],
}))
`

// Parsed is what feedparser made of a document.
type Parsed struct {
	Bozo          int    `json:"bozo"`
	BozoException string `json:"bozo_exception"`
	Version       string `json:"version"`
	Title         string `json:"title"`
	Entries       []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
		Link  string `json:"link"`
	} `json:"entries"`
}

// Feedparser parses doc with python3-feedparser, fails t on a bozo error,
// and returns what it read.
func Feedparser(t testing.TB, doc []byte) Parsed {
	t.Helper()
	var p Parsed
	if _, err := os.Stat(python); err != nil {
		missing(t, python, err)
		return p
	}
	if err := exec.Command(python, "-c", "import feedparser").Run(); err != nil {
		missing(t, "python3-feedparser", err)
		return p
	}
	cmd := exec.Command(python, "-c", feedparserScript)
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("feedparser: %v", err)
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("feedparser output: %v\n%s", err, out)
	}
	if p.Bozo != 0 {
		t.Errorf("feedparser bozo: %s\ndocument:\n%s", p.BozoException, head(doc))
	}
	return p
}

// atomDoc is the part of an Atom document the Schematron rules look at.
type atomDoc struct {
	Authors []struct{} `xml:"http://www.w3.org/2005/Atom author"`
	Entries []struct {
		ID      string     `xml:"http://www.w3.org/2005/Atom id"`
		Authors []struct{} `xml:"http://www.w3.org/2005/Atom author"`
		Content *struct{}  `xml:"http://www.w3.org/2005/Atom content"`
		Links   []struct {
			Rel string `xml:"rel,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Source *struct {
			Authors []struct{} `xml:"http://www.w3.org/2005/Atom author"`
		} `xml:"http://www.w3.org/2005/Atom source"`
	} `xml:"http://www.w3.org/2005/Atom entry"`
}

// schematron checks the RFC 4287 rules that the RELAX NG schema cannot.
func schematron(t testing.TB, doc []byte) {
	t.Helper()
	var d atomDoc
	if err := xml.Unmarshal(doc, &d); err != nil {
		t.Fatalf("parse Atom: %v", err)
	}
	ids := map[string]bool{}
	for i, e := range d.Entries {
		hasAuthor := len(d.Authors) > 0 || len(e.Authors) > 0 || (e.Source != nil && len(e.Source.Authors) > 0)
		if !hasAuthor {
			t.Errorf("entry %d (%s): no author in entry, source or feed (RFC 4287 4.1.2)", i, e.ID)
		}
		hasAlternate := false
		for _, l := range e.Links {
			if l.Rel == "" || l.Rel == "alternate" {
				hasAlternate = true
			}
		}
		if !hasAlternate && e.Content == nil {
			t.Errorf("entry %d (%s): neither content nor an alternate link (RFC 4287 4.1.2)", i, e.ID)
		}
		if ids[e.ID] {
			t.Errorf("entry %d: id %q repeats within the document", i, e.ID)
		}
		ids[e.ID] = true
	}
}
