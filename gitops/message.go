package gitops

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of the names and messages built from user input.
const (
	maxSlug    = 40  // bytes of the branch slug
	maxSubject = 72  // runes of the commit subject
	maxIdent   = 100 // runes of the co-author's name and email
	maxRunID   = 64  // bytes of the run id trailer
)

// BranchName is "agentgate/<issue>-<slug>" with a bounded, valid slug that
// the title cannot steer (lower-case a-z0-9 and single dashes). A title with
// nothing usable gives the slug "change"; a negative issue counts as 0.
func BranchName(issue int, title string) string {
	if issue < 0 {
		issue = 0
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() > maxSlug {
				break
			}
			continue
		}
		dash = true
	}
	slug := b.String()
	if len(slug) > maxSlug {
		// Cut at a word boundary when one is not too far back.
		slug = slug[:maxSlug]
		if i := strings.LastIndexByte(slug, '-'); i > maxSlug/2 {
			slug = slug[:i]
		}
	}
	slug = strings.Trim(slug, "-")
	if slug == "" {
		slug = "change"
	}
	return fmt.Sprintf("%s%d-%s", BranchPrefix, issue, slug)
}

// CommitMessage builds the commit message: a bounded, single-line subject
// from the title, then the body and the trailers
// "Co-authored-by: <coauthor>" and "Agentgate-Run: <runID>".
//
// The result is always exactly
//
//	<subject>
//
//	Requested in #<issue>.
//
//	Co-authored-by: <name> <email>
//	Agentgate-Run: <runID>
//
// with every part sanitised, so no input adds a line or a trailer.
func CommitMessage(issue int, title, runID string, coauthor Signature) string {
	subject := OneLine(title, maxSubject)
	if subject == "" {
		subject = fmt.Sprintf("agentgate: changes for #%d", issue)
		if issue <= 0 {
			subject = "agentgate: local changes"
		}
	}
	name := OneLine(cleanIdent(coauthor.Name), maxIdent)
	email := strings.Join(strings.Fields(OneLine(cleanIdent(coauthor.Email), maxIdent)), "")
	if name == "" {
		name = "unknown"
	}
	who := name
	if email != "" {
		who += " <" + email + ">"
	}
	requested := fmt.Sprintf("Requested in #%d.", issue)
	if issue <= 0 {
		requested = "Requested in a local run (agentgate run)."
	}
	return fmt.Sprintf("%s\n\n%s\n\nCo-authored-by: %s\nAgentgate-Run: %s\n",
		subject, requested, who, cleanRunID(runID))
}

// OneLine makes s a single line of at most max runes: invalid UTF-8
// replaced, control, format (bidi, zero-width) and separator characters
// turned into spaces, runs of spaces collapsed, cut with "…" when long.
// Text from an issue goes through it before it becomes a title or subject.
// A max below 1 yields "".
func OneLine(s string, max int) string {
	if max < 1 {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

// cleanRunID keeps [A-Za-z0-9._-], bounded; "unknown" when nothing is left.
func cleanRunID(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			if b.Len() >= maxRunID {
				break
			}
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}
