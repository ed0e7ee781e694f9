package gitops

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestBranchName(t *testing.T) {
	tests := []struct {
		issue int
		title string
		want  string
	}{
		{12, "Fix README typo", "agentgate/12-fix-readme-typo"},
		{3, "  --force  ", "agentgate/3-force"},
		{4, "../../refs/heads/main", "agentgate/4-refs-heads-main"},
		{5, "refs/heads/main.lock", "agentgate/5-refs-heads-main-lock"},
		{6, "x\n\nCo-authored-by: evil", "agentgate/6-x-co-authored-by-evil"},
		{7, "Ünïcødé 日本語 title", "agentgate/7-n-c-d-title"},
		{8, "🚀🔥", "agentgate/8-change"},
		{9, "!!!@@@###", "agentgate/9-change"},
		{10, "", "agentgate/10-change"},
		{-1, "neg", "agentgate/0-neg"},
		{11, strings.Repeat("abc ", 2500), "agentgate/11-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc"},
		{12, "a..b@{c}~^:?*[\\", "agentgate/12-a-b-c"},
	}
	for _, tt := range tests {
		got := BranchName(tt.issue, tt.title)
		if got != tt.want {
			t.Errorf("BranchName(%d, %.40q) = %q, want %q", tt.issue, tt.title, got, tt.want)
		}
		checkBranch(t, got)
	}
}

func checkBranch(t *testing.T, b string) {
	t.Helper()
	if err := plumbing.NewBranchReferenceName(b).Validate(); err != nil {
		t.Fatalf("branch %q invalid: %v", b, err)
	}
	if !strings.HasPrefix(b, BranchPrefix) || len(b) > len(BranchPrefix)+20+1+maxSlug+1 {
		t.Fatalf("branch %q: bad prefix or too long", b)
	}
	for _, r := range strings.TrimPrefix(b, BranchPrefix) {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			t.Fatalf("branch %q has %q", b, r)
		}
	}
	if strings.Contains(b, "--") || strings.HasSuffix(b, "-") {
		t.Fatalf("branch %q has a double or trailing dash", b)
	}
}

func TestCommitMessage(t *testing.T) {
	who := Signature{Name: "Octo Cat", Email: "octo@example.test"}
	tests := []struct {
		name     string
		title    string
		runID    string
		coauthor Signature
		subject  string
		trailer  string
		run      string
	}{
		{name: "plain", title: "Fix the flaky test", runID: "r1", coauthor: who, subject: "Fix the flaky test", trailer: "Octo Cat <octo@example.test>", run: "r1"},
		{name: "trailer injection", title: "x\n\nCo-authored-by: evil <e@x>", runID: "r1", coauthor: who, subject: "x Co-authored-by: evil <e@x>", trailer: "Octo Cat <octo@example.test>", run: "r1"},
		{name: "carriage returns and tabs", title: "a\r\nb\tc\x00d", runID: "r1", coauthor: who, subject: "a b c d", trailer: "Octo Cat <octo@example.test>", run: "r1"},
		{name: "bidi and line separators", title: "ok\u202Egnp.exe\u2028Signed-off-by: x", runID: "r1", coauthor: who, subject: "ok gnp.exe Signed-off-by: x", trailer: "Octo Cat <octo@example.test>", run: "r1"},
		{name: "empty title", title: " \n ", runID: "r1", coauthor: who, subject: "agentgate: changes for #5", trailer: "Octo Cat <octo@example.test>", run: "r1"},
		{name: "long title", title: strings.Repeat("é", 10000), runID: "r1", coauthor: who, subject: strings.Repeat("é", 71) + "…", trailer: "Octo Cat <octo@example.test>", run: "r1"},
		{name: "emoji", title: "🚀 ship it", runID: "r1", coauthor: who, subject: "🚀 ship it", trailer: "Octo Cat <octo@example.test>", run: "r1"},
		{name: "hostile coauthor", title: "t", runID: "r1\nAgentgate-Run: r2", coauthor: Signature{Name: "Eve\n\nCo-authored-by: x <y>", Email: "e@x>\nFoo: bar"}, subject: "t", trailer: "Eve Co-authored-by: x y <e@xFoo:bar>", run: "r1Agentgate-Runr2"},
		{name: "no coauthor", title: "t", runID: "", coauthor: Signature{}, subject: "t", trailer: "unknown", run: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := CommitMessage(5, tt.title, tt.runID, tt.coauthor)
			checkMessage(t, msg)
			want := tt.subject + "\n\nRequested in #5.\n\nCo-authored-by: " + tt.trailer + "\nAgentgate-Run: " + tt.run + "\n"
			if msg != want {
				t.Fatalf("message\n%q\nwant\n%q", msg, want)
			}
		})
	}
}

// checkMessage asserts the fixed shape: subject, blank, body, blank, two trailers.
func checkMessage(t *testing.T, msg string) {
	t.Helper()
	if !utf8.ValidString(msg) {
		t.Fatalf("invalid UTF-8: %q", msg)
	}
	lines := strings.Split(strings.TrimSuffix(msg, "\n"), "\n")
	if len(lines) != 6 || lines[1] != "" || lines[3] != "" || !strings.HasPrefix(lines[2], "Requested in ") {
		t.Fatalf("message shape wrong: %q", msg)
	}
	if n := utf8.RuneCountInString(lines[0]); n == 0 || n > maxSubject {
		t.Fatalf("subject of %d runes: %q", n, lines[0])
	}
	if !strings.HasPrefix(lines[4], "Co-authored-by: ") || !strings.HasPrefix(lines[5], "Agentgate-Run: ") {
		t.Fatalf("trailers wrong: %q", lines[4:])
	}
	for _, l := range lines {
		for _, r := range l {
			if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u202e' {
				t.Fatalf("control character %U in %q", r, l)
			}
		}
	}
	if strings.Count(msg, "\nCo-authored-by:") != 1 || strings.Count(msg, "\nAgentgate-Run:") != 1 {
		t.Fatalf("trailer lines repeated: %q", msg)
	}
}

func FuzzBranchName(f *testing.F) {
	for _, s := range []string{"Fix README", "../../refs/heads/main", "--force", "🚀", "a\x00b", strings.Repeat("x", 10000)} {
		f.Add(12, s)
	}
	f.Fuzz(func(t *testing.T, issue int, title string) {
		checkBranch(t, BranchName(issue, title))
	})
}

func FuzzCommitMessage(f *testing.F) {
	f.Add(1, "x\n\nCo-authored-by: evil", "run-1", "Octo", "o@x")
	f.Add(2, "\u2028\u202e", "\n", "<>", "\r\n")
	f.Fuzz(func(t *testing.T, issue int, title, runID, name, email string) {
		checkMessage(t, CommitMessage(issue, title, runID, Signature{Name: name, Email: email}))
	})
}

func TestCommitMessageLocalRun(t *testing.T) {
	msg := CommitMessage(0, "", "run-1", Signature{Name: "me", Email: "me@example.test"})
	checkMessage(t, msg)
	want := "agentgate: local changes\n\nRequested in a local run (agentgate run).\n\nCo-authored-by: me <me@example.test>\nAgentgate-Run: run-1\n"
	if msg != want {
		t.Fatalf("message\n%q\nwant\n%q", msg, want)
	}
}
