package feedout

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// referrerPolicy keeps the address of this server, and of the page a
// reader came from, from the sites its pages link to.
const referrerPolicy = "no-referrer"

// pageCSP is the Content-Security-Policy of the HTML pages: nothing may
// load or run but the layout's one inline stylesheet, allowed by its hash
// (styleHash); no script, no frames, no forms, and no site may frame the
// pages.
var pageCSP = "default-src 'none'; style-src '" + styleHash(layoutStyle()) + "'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// layoutStyle returns the text of the <style> element of the layout
// template, as the pages carry it: the template has no action inside it.
// The layout is compiled into the binary, so a missing element is a
// programming error.
func layoutStyle() string {
	b, err := templateFS.ReadFile("templates/layout.html")
	if err != nil {
		panic(err)
	}
	_, rest, ok := strings.Cut(string(b), "<style>")
	style, _, ok2 := strings.Cut(rest, "</style>")
	if !ok || !ok2 {
		panic("templates/layout.html has no <style> element")
	}
	return style
}

// styleHash is the CSP source expression allowing the inline stylesheet
// style: 'sha256-' and the base64 SHA-256 of its text (CSP 3, "hash-source").
func styleHash(style string) string {
	sum := sha256.Sum256([]byte(style))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// setPageHeaders sets the security headers of an HTML page.
func setPageHeaders(hdr http.Header) {
	hdr.Set("Content-Security-Policy", pageCSP)
	hdr.Set("Referrer-Policy", referrerPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
}
