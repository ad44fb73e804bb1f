package main

import (
	"io"
	"unicode"
	"unicode/utf8"
)

// terminalWriter is the output boundary of every human-readable command:
// it writes what it is given with each control character replaced by
// U+FFFD, so that text from a feed or a server (a title, a reason phrase,
// an error message) cannot move the cursor, retitle the window or hide
// what follows. Control characters are C0 except newline and tab, DEL,
// C1, bidirectional controls and bytes that are not UTF-8 (a lone 0x9b is
// CSI to some terminals). Each Write is taken as whole text: a rune split
// across two writes is replaced; fmt and text/tabwriter never split one.
type terminalWriter struct {
	w io.Writer
}

// forTerminal returns w behind a terminalWriter, or w itself when it is
// one already.
func forTerminal(w io.Writer) io.Writer {
	if _, ok := w.(terminalWriter); ok {
		return w
	}
	return terminalWriter{w}
}

// Write implements io.Writer. It reports len(p) written when the
// replaced text was written whole.
func (t terminalWriter) Write(p []byte) (int, error) {
	if !needsReplacing(p) {
		return t.w.Write(p)
	}
	if _, err := t.w.Write(printable(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// needsReplacing reports whether p holds a byte printable would change:
// a C0 control other than newline and tab, DEL, or a byte of a non-ASCII
// rune (checked rune by rune by printable).
func needsReplacing(p []byte) bool {
	for _, c := range p {
		if (c < ' ' && c != '\n' && c != '\t') || c >= 0x7f {
			return true
		}
	}
	return false
}

// printable returns p with each control character and each byte that is
// not UTF-8 replaced by U+FFFD.
func printable(p []byte) []byte {
	out := make([]byte, 0, len(p))
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if (r == utf8.RuneError && size == 1) || isControl(r) {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, p[:size]...)
		}
		p = p[size:]
	}
	return out
}

// isControl reports whether r must not reach a terminal as it is.
func isControl(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < ' ' || (r >= 0x7f && r <= 0x9f):
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}
