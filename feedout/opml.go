package feedout

import (
	"encoding/xml"
	"net/http"
	"time"
)

// opmlContentType is the Content-Type of the OPML document.
const opmlContentType = "text/x-opml; charset=utf-8"

// opmlDoc is an OPML 2.0 document.
type opmlDoc struct {
	XMLName xml.Name    `xml:"opml"`
	Version string      `xml:"version,attr"`
	Head    opmlHead    `xml:"head"`
	Body    []opmlEntry `xml:"body>outline"`
}

// opmlHead is the head element.
type opmlHead struct {
	Title       string `xml:"title"`
	DateCreated string `xml:"dateCreated"`
	Docs        string `xml:"docs"`
}

// opmlEntry is one subscription outline (OPML 2.0, "subscription lists").
type opmlEntry struct {
	Type    string `xml:"type,attr"`
	Text    string `xml:"text,attr"`
	Title   string `xml:"title,attr"`
	XMLURL  string `xml:"xmlUrl,attr"`
	HTMLURL string `xml:"htmlUrl,attr"`
}

// serveOPML answers GET /opml[?key=]: an OPML 2.0 subscription list with
// the Atom feed of every category and view, "all" first (a private one
// only with its key).
func (h *handler) serveOPML(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	infos, err := h.listFeeds(ctx, r.URL.Query().Get("key"))
	if err != nil {
		h.fail(ctx, w, "list categories", "", err)
		return
	}
	var modified time.Time
	doc := opmlDoc{Version: "2.0", Head: opmlHead{Title: xmlText(h.title), Docs: "http://opml.org/spec2.opml"}}
	for _, l := range infos {
		info := l.info
		title := xmlText(h.categoryTitle(info.Category))
		v := h.view(l)
		doc.Body = append(doc.Body, opmlEntry{
			Type: "rss", Text: title, Title: title, XMLURL: v.Feeds[0].URL, HTMLURL: v.PageURL,
		})
		if info.Updated.After(modified) {
			modified = info.Updated
		}
	}
	modified = modified.UTC()
	if modified.IsZero() {
		modified = neverUpdated
	}
	doc.Head.DateCreated = modified.Format(time.RFC1123Z)
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		h.fail(ctx, w, "render opml", "", err)
		return
	}
	body := append([]byte(xml.Header), out...)
	d, err := newDocument(version{}, modified, append(body, '\n'))
	if err != nil {
		h.fail(ctx, w, "render opml", "", err)
		return
	}
	serveDocument(w, r, d, opmlContentType)
}
