// Package tasktext makes the issue text an agent reads equal to what a
// person reads on GitHub. Issue bodies and comments are untrusted input
// and a prompt-injection channel: text that GitHub does not display (HTML
// comments, zero-width, bidirectional and tag characters, link reference
// definitions, empty links carrying a title) would otherwise reach the
// agent without the human who reviewed the issue ever seeing it.
//
// Sanitize removes what GitHub hides and makes invisible characters
// visible, and says what it did, so the task file can record it.
package tasktext

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Report counts what Sanitize changed.
type Report struct {
	HTMLComments   int // <!-- … --> removed (outside code)
	LinkDefs       int // link reference definitions removed
	EmptyLinks     int // [](url "title") removed
	Invisible      int // zero-width, bidi, tag and other format or control characters made visible
	HiddenRunes    int // characters of text removed in all
	ReplacedBadUTF bool
}

// Empty reports whether nothing was changed.
func (r Report) Empty() bool { return r == Report{} }

// String describes the report in one line for the task file, "" when empty.
func (r Report) String() string {
	var parts []string
	if r.HTMLComments > 0 {
		parts = append(parts, fmt.Sprintf("%d HTML comment(s) removed", r.HTMLComments))
	}
	if r.LinkDefs > 0 {
		parts = append(parts, fmt.Sprintf("%d link reference definition(s) removed", r.LinkDefs))
	}
	if r.EmptyLinks > 0 {
		parts = append(parts, fmt.Sprintf("%d empty link(s) removed", r.EmptyLinks))
	}
	if r.HiddenRunes > 0 {
		parts = append(parts, fmt.Sprintf("%d hidden character(s) in all", r.HiddenRunes))
	}
	if r.Invisible > 0 {
		parts = append(parts, fmt.Sprintf("%d invisible character(s) shown as [U+XXXX]", r.Invisible))
	}
	if r.ReplacedBadUTF {
		parts = append(parts, "invalid UTF-8 replaced")
	}
	return strings.Join(parts, "; ")
}

// Add accumulates o into r.
func (r *Report) Add(o Report) {
	r.HTMLComments += o.HTMLComments
	r.LinkDefs += o.LinkDefs
	r.EmptyLinks += o.EmptyLinks
	r.Invisible += o.Invisible
	r.HiddenRunes += o.HiddenRunes
	r.ReplacedBadUTF = r.ReplacedBadUTF || o.ReplacedBadUTF
}

// Sanitize returns the markdown s as GitHub shows it to a reader:
//
//   - HTML comments outside code are removed (an unterminated one hides
//     the rest of the text on GitHub, so the rest is removed);
//   - link reference definitions (`[x]: url "title"`) and empty links
//     (`[](url "title")`) outside code are removed;
//   - zero-width, bidirectional, tag and other format characters, and
//     control characters but tab and newline, are replaced by a visible
//     `[U+XXXX]` everywhere, code included;
//   - invalid UTF-8 becomes U+FFFD, CRLF becomes LF.
//
// Visible markup (`<details>`, code, links with text) is kept as is.
func Sanitize(s string) (string, Report) {
	var rep Report
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		rep.ReplacedBadUTF = true
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out strings.Builder
	lines := strings.SplitAfter(s, "\n")
	var prose strings.Builder // consecutive lines outside fenced code
	flush := func() {
		if prose.Len() > 0 {
			out.WriteString(cleanProse(prose.String(), &rep))
			prose.Reset()
		}
	}
	fence := ""
	for _, line := range lines {
		if fence != "" {
			out.WriteString(line)
			if closesFence(line, fence) {
				fence = ""
			}
			continue
		}
		if f := opensFence(line); f != "" {
			flush()
			fence = f
			out.WriteString(line)
			continue
		}
		prose.WriteString(line)
	}
	flush()
	return showInvisible(out.String(), &rep), rep
}

// opensFence returns the fence (``` or ~~~, three or more) a line opens, or "".
func opensFence(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(t) && t[n] == c {
			n++
		}
		if n >= 3 {
			if c == '`' && strings.ContainsRune(strings.TrimRight(t[n:], "\n"), '`') {
				return "" // an info string with a backtick is not a fence
			}
			return t[:n]
		}
	}
	return ""
}

// closesFence reports whether line closes a block opened by fence.
func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	if len(line)-len(strings.TrimLeft(line, " ")) > 3 || len(t) < len(fence) {
		return false
	}
	return strings.Trim(t, fence[:1]) == ""
}

var (
	// linkDef is a link reference definition on its own line.
	linkDef = regexp.MustCompile(`^ {0,3}\[[^\]\n]+\]:[ \t]*\S+([ \t]+("[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*\n?$`)
	// emptyLink is a link (not an image) without text.
	emptyLink = regexp.MustCompile(`(^|[^!\\])\[\s*\]\([^)\n]*\)`)
)

// cleanProse removes hidden markup from text outside fenced code, keeping
// inline code spans as they are.
func cleanProse(s string, rep *Report) string {
	s = dropLinkDefs(s, rep)
	var b strings.Builder
	for s != "" {
		i := strings.IndexAny(s, "`<")
		if i < 0 {
			b.WriteString(cleanMarkup(s, rep))
			break
		}
		if s[i] == '<' {
			if !strings.HasPrefix(s[i:], "<!--") {
				b.WriteString(cleanMarkup(s[:i+1], rep))
				s = s[i+1:]
				continue
			}
			b.WriteString(cleanMarkup(s[:i], rep))
			end := strings.Index(s[i+4:], "-->")
			var hidden string
			if end < 0 {
				hidden, s = s[i:], ""
			} else {
				hidden, s = s[i:i+4+end+3], s[i+4+end+3:]
			}
			rep.HTMLComments++
			rep.HiddenRunes += utf8.RuneCountInString(hidden)
			continue
		}
		// A code span: a run of n backticks up to the next run of exactly n.
		b.WriteString(cleanMarkup(s[:i], rep))
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		run := s[i : i+n]
		rest := s[i+n:]
		if j := closingRun(rest, n); j >= 0 {
			b.WriteString(run + rest[:j+n])
			s = rest[j+n:]
			continue
		}
		b.WriteString(run)
		s = rest
	}
	return b.String()
}

// closingRun finds a run of exactly n backticks in s.
func closingRun(s string, n int) int {
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		if j-i == n {
			return i
		}
		i = j
	}
	return -1
}

// dropLinkDefs removes the lines that are link reference definitions:
// those at the start of a paragraph (after a blank line, the start, or
// another definition); elsewhere such a line is shown as text.
func dropLinkDefs(s string, rep *Report) string {
	var b strings.Builder
	paraStart := true
	for _, line := range strings.SplitAfter(s, "\n") {
		if paraStart && linkDef.MatchString(line) {
			rep.LinkDefs++
			rep.HiddenRunes += utf8.RuneCountInString(strings.TrimRight(line, "\n"))
			continue
		}
		b.WriteString(line)
		paraStart = strings.TrimSpace(line) == ""
	}
	return b.String()
}

// cleanMarkup removes empty links.
func cleanMarkup(s string, rep *Report) string {
	return emptyLink.ReplaceAllStringFunc(s, func(m string) string {
		rep.EmptyLinks++
		keep := ""
		if m != "" && m[0] != '[' {
			// The character before the link, a whole rune: the
			// pattern's [^!\\] matches runes, not bytes.
			_, size := utf8.DecodeRuneInString(m)
			keep = m[:size]
		}
		rep.HiddenRunes += utf8.RuneCountInString(m) - utf8.RuneCountInString(keep)
		return keep
	})
}

// Invisible reports whether r is shown as nothing (or moves other text)
// on GitHub: format characters (zero-width, bidi controls, tag
// characters, soft hyphen), control characters but tab and newline,
// line and paragraph separators, and variation selectors but the two
// emoji ones.
func Invisible(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r == 0xFE0E || r == 0xFE0F: // text / emoji presentation
		return false
	case unicode.IsControl(r), unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
		return true
	case r >= 0xFE00 && r <= 0xFE0D, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	case r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0: // Hangul fillers
		return true
	}
	return false
}

// showInvisible replaces each invisible character by [U+XXXX].
func showInvisible(s string, rep *Report) string {
	if strings.IndexFunc(s, Invisible) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if Invisible(r) {
			rep.Invisible++
			fmt.Fprintf(&b, "[U+%04X]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
