// Package mdcheck renders GitHub-flavoured markdown the way GitHub's
// parser does (CommonMark with the table, strikethrough, autolink and task
// list extensions, raw HTML passed through) and reports what a reader of
// the rendered page would get: elements, links, images, HTML comments and
// text. Tests use it to show that what agentgate posts cannot turn the
// agent's text into markup. It is a test aid: it approximates GitHub's
// renderer with goldmark, it is not GitHub.
package mdcheck

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
	xhtml "golang.org/x/net/html"
)

// Report is what rendering a markdown document produced.
type Report struct {
	HTML string
	// Elements counts the elements by tag name.
	Elements map[string]int
	// Links are the href of each <a>, Images the src of each <img>
	// (and of <source>, <video>, <audio>, <iframe>, <object>, <embed>).
	Links, Images []string
	// Comments are the HTML comments, which hide what follows them.
	Comments []string
	// Text is the text a reader sees outside code; Code the text inside
	// <code> and <pre>.
	Text, Code string
	// Headings are the text of each h1 to h6, in document order, the text
	// of code spans in them included.
	Headings []string
}

var gfm = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(html.WithUnsafe()),
)

// Render renders md and walks the result.
func Render(md string) (Report, error) {
	var buf bytes.Buffer
	if err := gfm.Convert([]byte(md), &buf); err != nil {
		return Report{}, fmt.Errorf("render markdown: %w", err)
	}
	doc, err := xhtml.Parse(strings.NewReader(buf.String()))
	if err != nil {
		return Report{}, fmt.Errorf("parse rendered html: %w", err)
	}
	r := Report{HTML: buf.String(), Elements: map[string]int{}}
	var text, code strings.Builder
	var walk func(n *xhtml.Node, inCode bool)
	walk = func(n *xhtml.Node, inCode bool) {
		switch n.Type {
		case xhtml.ElementNode:
			r.Elements[n.Data]++
			switch n.Data {
			case "a":
				r.Links = append(r.Links, attr(n, "href"))
			case "img", "source", "video", "audio", "iframe", "embed":
				r.Images = append(r.Images, attr(n, "src"))
			case "object":
				r.Images = append(r.Images, attr(n, "data"))
			case "code", "pre":
				inCode = true
			case "h1", "h2", "h3", "h4", "h5", "h6":
				r.Headings = append(r.Headings, textOf(n))
			}
		case xhtml.CommentNode:
			r.Comments = append(r.Comments, n.Data)
		case xhtml.TextNode:
			if inCode {
				code.WriteString(n.Data)
			} else {
				text.WriteString(n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inCode)
		}
	}
	walk(doc, false)
	r.Text, r.Code = text.String(), code.String()
	for _, skip := range []string{"html", "head", "body"} {
		delete(r.Elements, skip)
	}
	return r, nil
}

// textOf is the text of n's subtree.
func textOf(n *xhtml.Node) string {
	if n.Type == xhtml.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

// Anchors are the fragment ids GitHub gives the document's headings: a
// heading's text in lower case, without punctuation (letters, digits,
// '-' and '_' kept), each space a '-', and "-1", "-2"… after the second,
// third… heading with the same id.
func (r Report) Anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, h := range r.Headings {
		id := Slug(h)
		if n := seen[id]; n > 0 {
			seen[id]++
			id = fmt.Sprintf("%s-%d", id, n)
		} else {
			seen[id] = 1
		}
		out[id] = true
	}
	return out
}

// Slug is the id GitHub gives a heading whose text is h.
func Slug(h string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case c == ' ':
			b.WriteRune('-')
		case c == '-' || c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.Is(unicode.M, c):
			b.WriteRune(c)
		}
	}
	return b.String()
}

func attr(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var (
	mention = regexp.MustCompile(`@[A-Za-z0-9]`)
	closing = regexp.MustCompile(`(?i)\b(close[sd]?|fix(e[sd])?|resolve[sd]?)\b[\s:]*(#|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#|https?://|GH-)`)
)

// Mentions are the @mentions GitHub would link in s.
func Mentions(s string) []string { return mention.FindAllString(s, -1) }

// ClosingRefs are the closing keywords followed by an issue reference
// that GitHub would act on in s.
func ClosingRefs(s string) []string { return closing.FindAllString(s, -1) }
