package app_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/runner/relayimage"
	"github.com/agentgate/agentgate/sandbox"
)

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=u", "-c", "user.email=u@example.test"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestRunLocal(t *testing.T) {
	requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli := dockertest.Client(t)
	if _, err := testagent.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	if _, err := relayimage.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		task    string
		outcome sandbox.Outcome
		file    string // expected on the new branch
	}{
		{"change", "agentgate-test: write NOTES.md hello", sandbox.OutcomeSucceeded, "NOTES.md"},
		{"failure", "agentgate-test: exit 3", sandbox.OutcomeFailed, ""},
		{"no change", "agentgate-test: exit 0", sandbox.OutcomeNoChange, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			repo := filepath.Join(dir, "repo")
			if out, err := exec.Command("git", "init", "-q", "-b", "main", repo).CombinedOutput(); err != nil {
				t.Fatalf("git init: %v %s", err, out)
			}
			gitIn(t, repo, "commit", "-q", "--allow-empty", "-m", "init")
			gitIn(t, repo, "checkout", "-q", "-b", "work")
			headBefore := gitIn(t, repo, "rev-parse", "HEAD")

			cfg := app.DefaultConfig()
			cfg.DatabaseURL = filepath.Join(dir, "a.db")
			cfg.DataDir = filepath.Join(dir, "data")
			cfg.WorkerID = "local-test"
			cfg.AgentImage = testagent.Image
			cfg.Limits.Timeout = time.Minute
			cfg.WorkspaceBytes = 32 << 20
			res, err := app.RunLocal(ctx, cfg, app.LocalRun{RepoPath: repo, Task: tt.task}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome {
				t.Fatalf("outcome %q (%s), want %q", res.Outcome, res.Reason, tt.outcome)
			}
			if !strings.Contains(res.Summary, "Outcome:") {
				t.Errorf("summary:\n%s", res.Summary)
			}
			branches := gitIn(t, repo, "branch", "--format=%(refname:short)")
			if got := gitIn(t, repo, "rev-parse", "--abbrev-ref", "HEAD"); got != "work" || gitIn(t, repo, "rev-parse", "HEAD") != headBefore {
				t.Errorf("the user's checkout moved: %s", got)
			}
			if gitIn(t, repo, "status", "--porcelain") != "" {
				t.Errorf("the user's work tree changed")
			}
			if tt.file == "" {
				if strings.Contains(branches, "agentgate/") {
					t.Errorf("a failed run created a branch: %s", branches)
				}
				return
			}
			if res.Branch != "agentgate/local-"+res.RunID || !strings.Contains(branches, res.Branch) {
				t.Fatalf("branch %q not among %q", res.Branch, branches)
			}
			if got := gitIn(t, repo, "show", res.Branch+":"+tt.file); got != "hello" {
				t.Errorf("%s on the branch = %q", tt.file, got)
			}
			if parent := gitIn(t, repo, "rev-parse", res.Branch+"^"); parent != headBefore {
				t.Errorf("branch parent %s, want the checkout's HEAD %s", parent, headBefore)
			}
		})
	}
}
