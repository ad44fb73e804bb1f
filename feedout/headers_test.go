package feedout

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h, _ := pagingFixture(t)
	tests := []struct {
		target string
		page   bool
	}{
		{"/", true},
		{"/c/world", true},
		{"/c/sports", true},
		{"/feeds/world.atom", false},
		{"/feeds/world.rss", false},
		{"/feeds/world.json", false},
		{"/feeds/all.atom?limit=2", false},
		{"/opml", false},
		{"/healthz", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			for _, method := range []string{"GET", "HEAD"} {
				rec := serve(h, method, tt.target, nil)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: status %d", method, rec.Code)
				}
				hdr := rec.Header()
				if got := hdr.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", method, got)
				}
				if !tt.page {
					continue
				}
				csp := hdr.Get("Content-Security-Policy")
				for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("%s: Content-Security-Policy %q lacks %s", method, csp, want)
					}
				}
				if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
					t.Errorf("%s: Content-Security-Policy %q allows inline or script content", method, csp)
				}
				if got := hdr.Get("Referrer-Policy"); got != "no-referrer" {
					t.Errorf("%s: Referrer-Policy = %q", method, got)
				}
			}
			if tt.page {
				checkPageObeysCSP(t, serve(h, "GET", tt.target, nil))
			}
		})
	}
}

// checkPageObeysCSP checks that the page carries nothing its policy would
// block: every <style> element is allowed by its hash, and there is no
// script, style attribute, frame or image.
func checkPageObeysCSP(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	styles := find(doc, "style")
	if len(styles) != 1 {
		t.Fatalf("%d <style> elements, want the layout's one", len(styles))
	}
	text := styles[0].FirstChild.Data
	if want := "style-src '" + styleHash(text) + "'"; !strings.Contains(csp, want) {
		t.Errorf("the page's stylesheet is not allowed: policy %q lacks %s", csp, want)
	}
	for d := range doc.Descendants() {
		if d.Type != html.ElementNode {
			continue
		}
		switch d.Data {
		case "script", "iframe", "img", "object", "embed", "form":
			t.Errorf("the page has a <%s>, which its policy blocks", d.Data)
		}
		if attr(d, "style") != "" {
			t.Errorf("<%s> has a style attribute, which its policy blocks", d.Data)
		}
	}
}
