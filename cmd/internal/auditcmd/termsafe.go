package auditcmd

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// termSafe makes text an agent wrote safe to print on a terminal: every
// control byte or character that a terminal acts on (C0 controls but tab
// and newline, carriage return, DEL, C1 controls such as CSI U+009B),
// every bidi override or isolate (which reorder what is shown, "Trojan
// Source") and every byte that is not UTF-8 is written as a visible
// escape: \x1b, \r, \u202e. Everything else is kept, so a diff stays
// readable; `--raw` prints the bytes as stored (for `git apply`).
func termSafe(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case (r >= 0x80 && r <= 0x9f) || isBidiControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isBidiControl reports the characters that change the display order of
// text: the embeddings and overrides, the isolates and the marks.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c:
		return true
	}
	return false
}
