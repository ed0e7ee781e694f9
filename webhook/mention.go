package webhook

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Where a mention counts. People address a bot the way they write to a
// colleague: often after a line of thanks or context, sometimes with a
// comma or a colon. So a mention starts a task or a command when it begins
// a line (after white space), wherever that line is in the comment, and is
// followed by white space, a comma, a colon or the end. It never counts in
// text that is not the comment's own prose as GitHub renders it: a code
// span, a code block (fenced or indented), an HTML block or a quote
// ("> @agentgate …", including the lines CommonMark continues a quote
// with). goldmark (CommonMark) finds those regions; the mention itself is
// matched byte by byte, ASCII case-insensitively.

// markdown is the CommonMark parser that finds the prose of a comment:
// every block parser, and of the inline parsers only those that make
// text that is not prose (code spans, raw HTML, autolinks). Links and
// emphasis are prose either way, and their parsers are the costly ones on
// hostile input ("[a](" repeated takes seconds), so they are left out.
// goldmark's parser is safe for concurrent use.
var markdown = goldmark.New(goldmark.WithParser(parser.NewParser(
	parser.WithBlockParsers(parser.DefaultBlockParsers()...),
	parser.WithInlineParsers(
		util.Prioritized(parser.NewCodeSpanParser(), 100),
		util.Prioritized(parser.NewAutoLinkParser(), 300),
		util.Prioritized(parser.NewRawHTMLParser(), 400),
	),
)))

// maxNesting bounds the quote and list markers one line of a comment may
// open for its mentions to count: deeper nesting is never a person's
// request, and parsing it costs time quadratic in the depth (64 KiB of
// ">" takes seconds). Such a comment addresses nobody.
const maxNesting = 16

// tooDeep reports whether a line of body opens more than maxNesting
// quotes and list items (">", "-", "+", "*", "1." or "1)" markers one
// after another at its start). It is linear in the length of body.
func tooDeep(body string) bool {
	for _, line := range strings.FieldsFunc(body, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if nesting(line) > maxNesting {
			return true
		}
	}
	return false
}

// nesting counts the container markers at the start of line, up to one
// more than maxNesting.
func nesting(line string) int {
	depth, i := 0, 0
	for depth <= maxNesting {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return depth
		}
		switch c := line[i]; {
		case c == '>':
			i++
		case (c == '-' || c == '+' || c == '*') && i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t'):
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(line) && j-i < 10 && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j >= len(line) || (line[j] != '.' && line[j] != ')') {
				return depth
			}
			i = j + 1
		default:
			return depth
		}
		depth++
	}
	return depth
}

// span is a byte range [start, stop) of a comment.
type span struct{ start, stop int }

// proseSpans returns the ranges of body that are prose: the text of
// paragraphs, headings and list items, outside quotes and code. Adjacent
// ranges are merged, so a word split between two text nodes stays whole.
// A comment nested deeper than maxNesting has none.
func proseSpans(body string) []span {
	if tooDeep(body) {
		return nil
	}
	src := []byte(body)
	doc := markdown.Parser().Parse(text.NewReader(src))
	var out []span
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindCodeSpan, ast.KindCodeBlock, ast.KindFencedCodeBlock,
			ast.KindHTMLBlock, ast.KindRawHTML, ast.KindAutoLink:
			return ast.WalkSkipChildren, nil
		case ast.KindText:
			seg := n.(*ast.Text).Segment
			if seg.Start < seg.Stop && seg.Stop <= len(src) {
				out = append(out, span{seg.Start, seg.Stop})
			}
		}
		return ast.WalkContinue, nil
	})
	slices.SortFunc(out, func(a, b span) int { return a.start - b.start })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.start <= merged[n-1].stop {
			merged[n-1].stop = max(merged[n-1].stop, s.stop)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// inProse reports whether [start, stop) lies within one of spans.
func inProse(spans []span, start, stop int) bool {
	i, _ := slices.BinarySearchFunc(spans, start, func(s span, v int) int {
		if s.stop <= v {
			return -1
		}
		if s.start > v {
			return 1
		}
		return 0
	})
	return i < len(spans) && spans[i].start <= start && stop <= spans[i].stop
}

// mentionAt reports whether body has mention at byte i, ASCII
// case-insensitively.
func mentionAt(body string, i int, mention string) bool {
	return i+len(mention) <= len(body) && asciiEqualFold(body[i:i+len(mention)], mention)
}

// lineStartMentions returns the offsets where mention begins a line
// (after white space) and is followed by white space, ',' or ':' or the
// end, in order. It does not look at Markdown.
func lineStartMentions(body, mention string) []int {
	var out []int
	for start := 0; start <= len(body); {
		i := start
		for i < len(body) && body[i] != '\n' && body[i] != '\r' {
			r, n := utf8.DecodeRuneInString(body[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += n
		}
		if mentionAt(body, i, mention) && mentionEnds(body[i+len(mention):]) {
			out = append(out, i)
		}
		next := strings.IndexAny(body[start:], "\n\r")
		if next < 0 {
			break
		}
		start += next + 1
	}
	return out
}

// mentionEnds reports whether rest, the text right after a mention, ends
// it: nothing, white space, a comma or a colon.
func mentionEnds(rest string) bool {
	if rest == "" || rest[0] == ',' || rest[0] == ':' {
		return true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return isSpace(r)
}

// ParseMention reports whether body addresses mention: the mention begins
// a line of the comment's prose (after white space; ASCII
// case-insensitive), followed by white space, ',' or ':' or the end, and
// is not in a code span, a code block, an HTML block or a quote. It
// returns the trimmed text after the first such mention (and its comma or
// colon): the instructions. "@agentgatex" is not a mention of
// "@agentgate".
func ParseMention(body, mention string) (instructions string, ok bool) {
	if mention == "" {
		return "", false
	}
	cands := lineStartMentions(body, mention)
	if len(cands) == 0 {
		return "", false
	}
	spans := proseSpans(body)
	for _, i := range cands {
		if !inProse(spans, i, i+len(mention)) {
			continue
		}
		rest := body[i+len(mention):]
		if rest != "" && (rest[0] == ',' || rest[0] == ':') {
			rest = rest[1:]
		}
		return strings.TrimSpace(rest), true
	}
	return "", false
}

// MentionsAnywhere reports whether body mentions mention as a word
// anywhere in its prose (a review that "mentions" the app need not start
// with it): not preceded or followed by a login character (nor followed
// by '/'), and not in a code span, a code block, an HTML block or a quote.
func MentionsAnywhere(body, mention string) bool {
	if mention == "" {
		return false
	}
	var spans []span
	parsed := false
	for i := 0; i+len(mention) <= len(body); i++ {
		if !mentionAt(body, i, mention) {
			continue
		}
		if i > 0 && loginChar(body[i-1]) {
			continue
		}
		if j := i + len(mention); j < len(body) && (loginChar(body[j]) || body[j] == '/') {
			continue
		}
		if !parsed {
			spans, parsed = proseSpans(body), true
		}
		if inProse(spans, i, i+len(mention)) {
			return true
		}
	}
	return false
}
