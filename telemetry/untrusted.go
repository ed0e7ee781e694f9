package telemetry

import (
	"fmt"
	"regexp"
	"strings"
)

// GitHub's limits on the markdown agentgate posts, in characters. Every
// composer here measures in bytes, which are never fewer than characters
// (whether GitHub counts code points or UTF-16 units), so a body within
// the byte limit is within GitHub's.
const (
	// MaxPRBody is the longest pull request body GitHub accepts.
	MaxPRBody = 65536
	// MaxComment is the longest issue or pull request comment.
	MaxComment = 65536
)

// zwsp is the zero-width space that breaks mentions and closing keywords:
// invisible to a reader, but "@\u200Bname" mentions nobody and
// "F\u200Bixes #1" closes nothing.
const zwsp = "\u200B"

// closingKeyword finds GitHub's closing keywords (close, closes, closed,
// fix, fixes, fixed, resolve, resolves, resolved) in any case. Whether one
// is a word of its own followed by a reference is checked by Neutralize.
var closingKeyword = regexp.MustCompile(`(?i)close[sd]?|fix(?:e[sd])?|resolve[sd]?`)

// Neutralize breaks, in text someone else wrote, what GitHub acts on even
// in plain text: every "@" is followed by a zero-width space (no user or
// team is mentioned), and a zero-width space goes after the first letter
// of every closing keyword that could close an issue on merge ("Fixes #12",
// "closes owner/repo#3", "Resolves: https://github.com/…/issues/4", "fix
// GH-5"): a keyword no ASCII letter or digit touches, followed (after
// spaces, line breaks or colons) by a word holding "#" or "/" or starting
// with "gh-" or "www.". That is broader than what GitHub links; ordinary
// prose ("Fixed the typo", "prefix #1") is left alone.
func Neutralize(s string) string {
	s = strings.ReplaceAll(s, "@", "@"+zwsp)
	locs := closingKeyword.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		if l[0] > 0 && isASCIIAlnum(s[l[0]-1]) || l[1] < len(s) && isASCIIAlnum(s[l[1]]) || !refFollows(s[l[1]:]) {
			continue
		}
		b.WriteString(s[last : l[0]+1])
		b.WriteString(zwsp)
		last = l[0] + 1
	}
	b.WriteString(s[last:])
	return b.String()
}

// refFollows reports whether rest (what follows a closing keyword) starts,
// after spaces, line breaks and colons, with a word that could be an issue
// reference.
func refFollows(rest string) bool {
	rest = strings.TrimLeft(rest, " \t\n\r\f\v:")
	word, _, _ := strings.Cut(rest, " ")
	word, _, _ = strings.Cut(word, "\n")
	lower := strings.ToLower(word)
	return strings.ContainsAny(word, "#/") || strings.HasPrefix(lower, "gh-") || strings.HasPrefix(lower, "www.")
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// UntrustedBlock renders text agentgate did not write (the agent's
// summary or plan) for a GitHub markdown body, in at most max bytes.
//
// The text is shown, never interpreted: it sits in a fenced code block
// whose backtick fence is longer than any backtick run in the text, so no
// line of it can close the block, and inside a code block GitHub renders
// no HTML (tags, comments, entities), no image, no link and no autolink.
// Before that, control and bidirectional formatting characters are
// replaced, carriage returns dropped (a lone "\r" would end a line), and
// mentions and closing keywords broken (Neutralize), which GitHub does not
// act on in code anyway.
//
// Text longer than fits keeps its beginning; a line after the block, which
// agentgate writes, says how many bytes were left out. The result starts
// and ends with a newline, so it must follow a complete block (a paragraph,
// a table, a closed fence) at the top level of the document. It is "" when
// max leaves no room for even a little of the text.
func UntrustedBlock(text string, max int) string {
	text = Neutralize(cleanOutput(text))
	text = strings.TrimRight(text, "\n")
	total := len(text)
	for {
		fence := strings.Repeat("`", max3(longestRun(text, '`')+1))
		note := ""
		if len(text) < total {
			note = fmt.Sprintf("_(cut: %d more bytes not shown)_\n", total-len(text))
		}
		block := "\n" + fence + "text\n" + text + "\n" + fence + "\n" + note
		if len(block) <= max {
			return block
		}
		keep := len(text) - (len(block) - max) - 64
		if keep <= 0 {
			return ""
		}
		// Cut a little more than the overflow: the note that now appears
		// takes room too.
		text = truncateRunes(text, keep)
	}
}

func max3(n int) int { return max(3, n) }

// CutMarkdown bounds markdown agentgate composed to n bytes: a longer one
// is cut after a whole line (so no inline code span or table row is left
// open; a fenced block may be, so nothing may be appended after a cut) and
// ends with a note that it was cut.
func CutMarkdown(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const note = "\n\n_(truncated to fit GitHub's size limit)_\n"
	return cutAtLine(s, n-len(note)) + note
}
