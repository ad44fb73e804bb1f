package config

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Slug returns the URL slug of a category name: Unicode NFKD, diacritics
// dropped, lower case, every run of characters other than a-z0-9 replaced by
// "-", trimmed of "-". It may return "" for a name with no letters or digits.
// Slug is a pure function, safe for concurrent use.
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(name) {
		if unicode.Is(unicode.Mn, r) {
			continue // a diacritic split off by NFKD
		}
		r = unicode.ToLower(r)
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}
