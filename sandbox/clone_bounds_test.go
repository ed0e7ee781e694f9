package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/runner/agents"
)

// gitIn runs git in dir with stdin and returns its trimmed output.
func gitIn(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// bareRepo makes a bare repository whose main branch has the tree that
// tree (given the repository's directory) writes, built with git's
// plumbing.
func bareRepo(t *testing.T, tree func(dir string) string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	gitIn(t, filepath.Dir(dir), "", "init", "-q", "--bare", "-b", "main", dir)
	c := gitIn(t, dir, "", "commit-tree", "-m", "base", tree(dir))
	gitIn(t, dir, "", "update-ref", "refs/heads/main", c)
	return dir
}

// TestExecuteRefusesGitBomb: a repository whose tree is a git bomb (six
// levels of ten trees over one blob: a million files from a few
// kilobytes) ends the run as rejected, with the reason, before anything
// is checked out; not as agentgate's failure, which would be retried.
// Positive control: an ordinary repository gets past the checkout to the
// agent's choice.
func TestExecuteRefusesGitBomb(t *testing.T) {
	bomb := bareRepo(t, func(dir string) string {
		h, mode, kind, prefix := gitIn(t, dir, "boom\n", "hash-object", "-w", "--stdin"), "100644", "blob", "f"
		for range 6 {
			var b strings.Builder
			for i := range 10 {
				fmt.Fprintf(&b, "%s %s %s\t%s%d\n", mode, kind, h, prefix, i)
			}
			h, mode, kind, prefix = gitIn(t, dir, b.String(), "mktree"), "040000", "tree", "d"
		}
		return h
	})
	plain := bareRepo(t, func(dir string) string {
		blob := gitIn(t, dir, "hello\n", "hash-object", "-w", "--stdin")
		return gitIn(t, dir, "100644 blob "+blob+"\tREADME.md\n", "mktree")
	})
	errNoAgent := errors.New("no agent in this test")
	for _, tt := range []struct {
		name, repo string
		outcome    Outcome
		reason     string
	}{
		{"git bomb", bomb, OutcomeRejected, "does not fit the run's work tree"},
		{"ordinary repository", plain, OutcomeSandboxError, errNoAgent.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sandbox{
				DataDir: t.TempDir(), WorkerID: "w", Events: discardEvents{}, Unbounded: true,
				WorkspaceBytes: 2 << 30, WorkspaceInodes: 200_000,
				Agent: func([]string) (agents.Preset, error) { return agents.Preset{}, errNoAgent },
			}
			att, err := s.Execute(context.Background(), Task{RunID: "run-1", CloneURL: tt.repo, Branch: "main"})
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			defer att.Close()
			if att.Outcome != tt.outcome || !strings.Contains(att.Reason, tt.reason) {
				t.Fatalf("outcome %q (%s), want %q with %q", att.Outcome, att.Reason, tt.outcome, tt.reason)
			}
		})
	}
}
