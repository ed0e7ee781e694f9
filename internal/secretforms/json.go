package secretforms

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// ScanJSON is Scan for a JSON document: b as it is, then b with its
// string escapes decoded (JSONUnescape), so a secret written with JSON
// escapes ("\u0041KIA…", "\/") is found as well. Without a backslash in
// b there is nothing to decode and the first scan suffices. It reports
// whether the hit was found only in the decoded text.
func (s *Scanner) ScanJSON(b []byte) (h Hit, decoded, found bool) {
	if h, ok := s.Scan(b); ok {
		return h, false, true
	}
	if s.Len() == 0 || bytes.IndexByte(b, '\\') < 0 {
		return Hit{}, false, false
	}
	if h, ok := s.Scan(JSONUnescape(b)); ok {
		return h, true, true
	}
	return Hit{}, false, false
}

// JSONUnescape is b with every JSON string escape (\uXXXX, surrogate
// pairs included, \/ \" \\ \b \f \n \r \t) replaced by what it stands for.
// Valid JSON has backslashes only inside strings, so this is the
// document with its strings decoded in place, in one pass and without
// parsing: it works on a truncated or invalid document too. A malformed
// escape is kept as it is.
func JSONUnescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return append(out, b[i:]...)
		}
		out = append(out, b[i:i+j]...)
		i += j
		if i+1 >= len(b) {
			return append(out, b[i:]...)
		}
		switch c := b[i+1]; c {
		case '"', '\\', '/':
			out = append(out, c)
			i += 2
		case 'b':
			out, i = append(out, '\b'), i+2
		case 'f':
			out, i = append(out, '\f'), i+2
		case 'n':
			out, i = append(out, '\n'), i+2
		case 'r':
			out, i = append(out, '\r'), i+2
		case 't':
			out, i = append(out, '\t'), i+2
		case 'u':
			r, ok := hex4(b[i+2:])
			if !ok {
				out, i = append(out, b[i:i+2]...), i+2
				continue
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if len(b) >= i+6 && b[i] == '\\' && b[i+1] == 'u' {
					if r2, ok := hex4(b[i+2:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out, i = utf8.AppendRune(out, d), i+6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			out, i = append(out, b[i:i+2]...), i+2
		}
	}
	return out
}

// hex4 reads four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
