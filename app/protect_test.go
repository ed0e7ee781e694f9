package app

import (
	"strings"
	"testing"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/sandbox"
)

func TestHoldMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"subject\n\nbody\n\nCo-authored-by: a <b>\n", "subject\n\n[skip ci]\n\nbody\n\nCo-authored-by: a <b>\n"},
		{"subject\n", "subject\n\n[skip ci]\n"},
	}
	for _, tt := range tests {
		if got := holdMessage(tt.in); got != tt.want {
			t.Errorf("holdMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The real message keeps its trailers last.
	msg := holdMessage(gitops.CommitMessage(7, "Fix it", "run-1", gitops.Signature{Name: "alice", Email: "a@example.test"}))
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "Agentgate-Run: ") || !strings.Contains(msg, "\n\n[skip ci]\n\n") {
		t.Errorf("held message:\n%s", msg)
	}
}

func TestCommitMethod(t *testing.T) {
	files := func(n int, size int64) *gitops.Change {
		ch := &gitops.Change{}
		for range n {
			ch.Files = append(ch.Files, gitops.FileChange{Size: size})
		}
		return ch
	}
	tests := []struct {
		name, configured string
		ch               *gitops.Change
		want             string
	}{
		{"auto small", "auto", files(3, 100), methodAPI},
		{"auto many files", "auto", files(apiMaxFiles+1, 1), methodGit},
		{"auto large content", "auto", files(2, apiMaxBytes), methodGit},
		{"auto at the bound", "", files(apiMaxFiles, apiMaxBytes/apiMaxFiles), methodAPI},
		{"forced api", "api", files(500, 1), methodAPI},
		{"forced git", "git", files(1, 1), methodGit},
	}
	for _, tt := range tests {
		if got := commitMethod(tt.configured, tt.ch); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestFileListAndButtons(t *testing.T) {
	l := sandbox.FileList([]sandbox.ChangedFile{{Path: "a`b.md", Added: 2, Removed: 1}, {Path: "img.png", Binary: true}, {Path: "ln", Symlink: true}})
	for _, want := range []string{"- ``a`b.md`` (+2 −1)", "- `img.png` (+0 −0, binary)", "- `ln` (+0 −0, symlink)"} {
		if !strings.Contains(l, want) {
			t.Errorf("file list lacks %q:\n%s", want, l)
		}
	}
	many := make([]sandbox.ChangedFile, 60)
	if l := sandbox.FileList(many); !strings.Contains(l, "and 10 more") {
		t.Errorf("long list not bounded:\n%s", l)
	}
	// GitHub's limits on check run actions.
	for _, s := range []struct {
		text string
		max  int
	}{{approveLabel, 20}, {ciLabel, 20}, {approveDesc, 40}, {ciDesc, 40}} {
		if n := len([]rune(s.text)); n > s.max {
			t.Errorf("%q is %d characters; GitHub allows %d", s.text, n, s.max)
		}
	}
}
