package fetcher

import (
	"bytes"
	"fmt"

	"github.com/mmcdole/gofeed"
)

// MaxNesting is the deepest nesting of elements (XML) or of objects and
// arrays (JSON) a feed document may have. gofeed builds a value per level
// of every extension element, recursively: a few megabytes of nested
// elements take gigabytes to parse. Real feeds nest about 10 deep.
const MaxNesting = 256

// ErrTooDeep is wrapped by a fetch whose document nests deeper than
// MaxNesting; outcome "parse-error". Such a document is never parsed.
var ErrTooDeep = fmt.Errorf("document nested deeper than %d elements", MaxNesting)

// checkNesting returns ErrTooDeep when body, a document
// of type typ as gofeed detects it, nests deeper than MaxNesting. It scans
// the bytes once and keeps only a counter, whatever the depth.
func checkNesting(body []byte, typ gofeed.FeedType) error {
	if nestingDepth(body, typ, MaxNesting) > MaxNesting {
		return ErrTooDeep
	}
	return nil
}

// nestingDepth returns the deepest nesting of body, a document of type
// typ, or limit+1 as soon as that is exceeded; 0 for an unknown type.
func nestingDepth(body []byte, typ gofeed.FeedType, limit int) int {
	switch typ {
	case gofeed.FeedTypeAtom, gofeed.FeedTypeRSS:
		return xmlDepth(body, limit)
	case gofeed.FeedTypeJSON:
		return jsonDepth(body, limit)
	}
	return 0
}

// xmlDepth returns the deepest element nesting of the XML document b, or
// limit+1 as soon as that is exceeded. Comments, CDATA sections,
// processing instructions and declarations (a DOCTYPE with its internal
// subset) hold no elements; quoted attribute values may hold '>'. End tags
// are not matched against start tags: an end tag closes one level.
func xmlDepth(b []byte, limit int) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 || i+j+1 >= len(b) {
			break
		}
		i += j + 1
		rest := b[i:]
		switch {
		case rest[0] == '/':
			depth = max(depth-1, 0)
			i = skipPast(b, i, ">")
		case rest[0] == '?':
			i = skipPast(b, i+1, "?>")
		case bytes.HasPrefix(rest, []byte("!--")):
			i = skipPast(b, i+3, "-->")
		case bytes.HasPrefix(rest, []byte("![CDATA[")):
			i = skipPast(b, i+8, "]]>")
		case rest[0] == '!':
			i = skipDeclaration(b, i+1)
		default:
			var empty bool
			i, empty = skipStartTag(b, i)
			depth++
			deepest = max(deepest, depth)
			if deepest > limit {
				return deepest
			}
			if empty {
				depth--
			}
		}
	}
	return deepest
}

// skipPast returns the index just after the first end at or after i in b,
// or len(b).
func skipPast(b []byte, i int, end string) int {
	if k := bytes.Index(b[i:], []byte(end)); k >= 0 {
		return i + k + len(end)
	}
	return len(b)
}

// skipStartTag returns the index just after the start tag whose name
// starts at i in b, and whether it is an empty-element tag (ends in "/>").
// A quote opens an attribute value only after '=', as in XML, so a stray
// quote cannot hide the markup that follows it.
func skipStartTag(b []byte, i int) (int, bool) {
	afterEq := false
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == '>':
			return i + 1, b[i-1] == '/'
		case afterEq && (c == '"' || c == '\''):
			k := bytes.IndexByte(b[i+1:], c)
			if k < 0 {
				return len(b), false
			}
			i += k + 1
			afterEq = false
		case c == '=':
			afterEq = true
		case c != ' ' && c != '\t' && c != '\r' && c != '\n':
			afterEq = false
		}
	}
	return len(b), false
}

// skipDeclaration returns the index just after the declaration (such as
// <!DOCTYPE …>) whose body starts at i in b: its '>' at nesting zero,
// with quoted strings, nested <!ELEMENT …> declarations and comments
// skipped, as encoding/xml reads them.
func skipDeclaration(b []byte, i int) int {
	nested := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"', '\'':
			k := bytes.IndexByte(b[i+1:], c)
			if k < 0 {
				return len(b)
			}
			i += k + 1
		case '<':
			if bytes.HasPrefix(b[i+1:], []byte("!--")) {
				i = skipPast(b, i+4, "-->") - 1
				continue
			}
			nested++
		case '>':
			if nested == 0 {
				return i + 1
			}
			nested--
		}
	}
	return len(b)
}

// jsonDepth returns the deepest nesting of objects and arrays of the JSON
// document b, or limit+1 as soon as that is exceeded. Brackets inside
// strings do not count.
func jsonDepth(b []byte, limit int) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = skipJSONString(b, i+1)
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
			if deepest > limit {
				return deepest
			}
		case '}', ']':
			depth = max(depth-1, 0)
		}
	}
	return deepest
}

// skipJSONString returns the index of the quote that ends the JSON string
// whose contents start at i in b, or len(b).
func skipJSONString(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b)
}
