package telemetry

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of a rendered summary.
const (
	// MaxMarkdown is GitHub's limit for a check run summary, in characters.
	MaxMarkdown = 65535
	// maxFileRows is how many changed files the table lists.
	maxFileRows = 200
	// maxFlags is how many policy flags are listed.
	maxFlags = 50
	// maxInline is the longest path or reason shown, in runes.
	maxInline = 300
	// maxTail is the most agent output shown, in bytes.
	maxTail = 16 << 10
)

// Markdown renders the summary as GitHub-flavoured markdown, bounded to
// GitHub's 65535-character check run summary limit: one section per
// concern (limits, flags, network, files, commands, model usage), then the
// output's tail, then Footer. When the sections do not fit, the last one
// that does not is cut at a row boundary and a note says so, with a link
// to RunURL (the run page, which shows everything) when it is set.
// Everything that came from the sandbox (paths, output) is treated as
// hostile: paths are shown as code spans, text is escaped and neutralized,
// and the output sits in a fence longer than any backtick run inside it.
func (s Summary) Markdown() string {
	return s.MarkdownMax(MaxMarkdown)
}

// maxSection bounds the policy flags and network sections, so that even at
// their longest the sections after them (files, commands) still get room,
// and so that they are never pushed out by the agent's files or commands.
const maxSection = 16 << 10

// MarkdownMax is Markdown bounded to limit bytes instead of MaxMarkdown,
// for a body that adds agentgate's own notes or the agent's text after
// it. The sections come in order of what a reviewer must not miss: the
// outcome, limits hit, policy flags, network decisions, then files,
// commands and model usage; flags and network are each capped at
// maxSection, so files and commands (whose rows the agent chooses) can
// push neither out.
func (s Summary) MarkdownMax(limit int) string {
	var head strings.Builder
	outcome := s.Outcome
	if outcome == "" {
		outcome = "in progress"
	}
	fmt.Fprintf(&head, "**Outcome:** %s", escapeText(outcome))
	if s.Duration != "" {
		fmt.Fprintf(&head, " · **Duration:** %s", escapeText(s.Duration))
	}
	if s.ExitCode != nil {
		fmt.Fprintf(&head, " · **Agent exit code:** %d", *s.ExitCode)
	}
	head.WriteString("\n")
	if s.Reason != "" {
		fmt.Fprintf(&head, "\n**Reason:** %s\n", escapeText(s.Reason))
	}
	sections := []string{head.String()}
	section := func(write func(b *strings.Builder)) {
		var b strings.Builder
		write(&b)
		if b.Len() > 0 {
			sections = append(sections, b.String())
		}
	}
	section(func(b *strings.Builder) {
		if len(s.LimitsHit) > 0 {
			parts := make([]string, len(s.LimitsHit))
			for i, l := range s.LimitsHit {
				parts[i] = escapeText(l)
			}
			fmt.Fprintf(b, "\n**Limits hit:** %s\n", strings.Join(parts, ", "))
		}
	})
	section(func(b *strings.Builder) {
		capSection(b, maxSection, func(b *strings.Builder) { writeFlags(b, s.Flags) })
	})
	section(func(b *strings.Builder) {
		for _, w := range s.Warnings {
			fmt.Fprintf(b, "\n**Warning:** %s\n", escapeText(w))
		}
	})
	section(func(b *strings.Builder) {
		capSection(b, maxSection, func(b *strings.Builder) { writeNetwork(b, s.Network) })
	})
	section(func(b *strings.Builder) { writeFiles(b, s) })
	section(func(b *strings.Builder) { writeCommands(b, s.Commands, s.CommandsDropped) })
	section(func(b *strings.Builder) { writeLLM(b, s.LLM) })
	section(func(b *strings.Builder) { writeTools(b, s.Tools) })
	section(func(b *strings.Builder) {
		if s.DroppedBytes > 0 {
			fmt.Fprintf(b, "\nThe output limit dropped %d of %d bytes of agent output.\n", s.DroppedBytes, s.OutputBytes)
		}
	})

	footer := s.Footer
	if s.RunURL != "" {
		footer = "\n" + runPageLine(s.RunURL) + footer
	}
	note := truncatedNote(s.RunURL)
	budget := limit - len(footer)
	var b strings.Builder
	for _, sec := range sections {
		if b.Len()+len(sec) <= budget-len(note) {
			b.WriteString(sec)
			continue
		}
		b.WriteString(cutAtLine(sec, budget-len(note)-b.Len()))
		b.WriteString(note)
		return b.String() + footer
	}
	if s.OutputTail != "" {
		b.WriteString(outputBlock(s.OutputTail, budget-b.Len()))
	}
	return b.String() + footer
}

// capSection writes what write writes, cut at a line boundary to at most
// n bytes with a note when it is longer.
func capSection(b *strings.Builder, n int, write func(b *strings.Builder)) {
	var sec strings.Builder
	write(&sec)
	if sec.Len() <= n {
		b.WriteString(sec.String())
		return
	}
	const note = "\n… (cut: the run page lists all)\n"
	b.WriteString(cutAtLine(sec.String(), n-len(note)))
	b.WriteString(note)
}

// runPageLine links the run page. The link text is fixed: an escaped URL
// reads badly, and the target carries the address.
func runPageLine(runURL string) string {
	return "**Run page:** [timeline, commands, network and provenance](" + linkTarget(runURL) + ")\n"
}

// linkTarget makes a URL safe as a markdown link destination.
func linkTarget(u string) string {
	return "<" + strings.NewReplacer("<", "%3C", ">", "%3E", "\n", "", "\r", "").Replace(u) + ">"
}

// truncatedNote ends a summary that had to be cut.
func truncatedNote(runURL string) string {
	if runURL == "" {
		return "\n\n_(summary truncated)_\n"
	}
	return "\n\n_(summary truncated: the [run page](" + linkTarget(runURL) + ") shows everything)_\n"
}

// cutAtLine keeps at most n bytes of s, ending after a whole line (a table
// row), or nothing when no whole line fits.
func cutAtLine(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], '\n'); i >= 0 {
		return s[:i+1]
	}
	return ""
}

// writeFiles renders the changed-files table and the totals.
func writeFiles(b *strings.Builder, s Summary) {
	if len(s.Files) == 0 {
		return
	}
	b.WriteString("\n| File | Change | Lines |\n| --- | --- | ---: |\n")
	for i, f := range s.Files {
		if i == maxFileRows {
			fmt.Fprintf(b, "\n… and %d more files\n", len(s.Files)-maxFileRows)
			break
		}
		lines := fmt.Sprintf("+%d −%d", f.Added, f.Removed)
		if f.Binary {
			lines = "binary"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", codeSpan(f.Path), escapeText(f.Op), lines)
	}
	noun := "files"
	if len(s.Files) == 1 {
		noun = "file"
	}
	fmt.Fprintf(b, "\n**%d %s changed**, +%d −%d\n", len(s.Files), noun, s.Added, s.Removed)
}

// writeFlags renders the policy flags as a list.
func writeFlags(b *strings.Builder, flags []string) {
	if len(flags) == 0 {
		return
	}
	b.WriteString("\n**Policy flags:**\n")
	for i, f := range flags {
		if i == maxFlags {
			fmt.Fprintf(b, "- … and %d more\n", len(flags)-maxFlags)
			break
		}
		fmt.Fprintf(b, "- %s\n", escapeText(f))
	}
}

// outputBlock renders the last part of the agent's output as a fenced code
// block of at most budget bytes (nothing when not even a little fits).
func outputBlock(out string, budget int) string {
	out = Neutralize(cleanOutput(out))
	if len(out) > maxTail {
		out = tailRunes(out, maxTail)
	}
	const title = "\n**Output** (last part):\n\n"
	for {
		fence := strings.Repeat("`", max(3, longestRun(out, '`')+1))
		block := title + fence + "text\n" + out + "\n" + fence + "\n"
		if len(block) <= budget {
			return block
		}
		over := len(block) - budget
		if over >= len(out) || budget < 2*len(title) {
			return ""
		}
		out = tailRunes(out, len(out)-over)
	}
}

// cleanOutput makes agent output safe to show: valid UTF-8, no terminal
// control sequences or other control characters but newline and tab.
func cleanOutput(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || isBidi(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// isBidi reports bidirectional formatting characters, which can make
// displayed text differ from what it is (Trojan Source).
func isBidi(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') || r == '\u200E' || r == '\u200F'
}

// CodeText shows s, a name the agent chose (a path), literally as an
// inline code span for agentgate's own markdown outside tables: one line,
// bounded, control and bidirectional characters replaced, mentions and
// closing keywords broken, delimited by more backticks than any run
// inside, so nothing in it is markup.
func CodeText(s string) string {
	s = Neutralize(oneLine(s))
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// codeSpan shows s literally as an inline code span inside a table cell:
// control characters replaced, mentions and closing keywords broken
// (GitHub acts on neither inside code, but a copy of the text elsewhere
// might), pipes escaped (GFM splits cells on them even in code), delimited
// by more backticks than any run inside.
func codeSpan(s string) string {
	s = Neutralize(oneLine(s))
	s = strings.ReplaceAll(s, "|", `\|`)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	return fence + " " + s + " " + fence
}

// escapeText shows s as plain text: one line, bounded, every ASCII
// punctuation character backslash-escaped (so no markdown, HTML, entity or
// autolink forms), and mentions and closing keywords broken (Neutralize)
// so they notify nobody and close nothing.
func escapeText(s string) string {
	return escapeLine(oneLine(s))
}

// escapeLine is escapeText without the bound: s must be one line without
// control characters.
func escapeLine(s string) string {
	s = Neutralize(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '@':
			b.WriteRune(r) // Neutralize put a zero-width space after it
		case r < utf8.RuneSelf && unicode.IsPunct(r) || r < utf8.RuneSelf && unicode.IsSymbol(r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine bounds s to maxInline runes on one line without control or
// bidirectional formatting characters.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidi(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxInline {
		s = truncateRunes(s, maxInline) + "…"
	}
	return s
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// truncateRunes keeps at most n bytes from the start of s, on a rune
// boundary.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// tailRunes keeps at most n bytes from the end of s, on a rune boundary.
func tailRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}
