package gitops

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCommitFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", src},
		{"-C", src, "-c", "user.name=u", "-c", "user.email=u@e", "commit", "-q", "--allow-empty", "-m", "init"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	root := filepath.Join(dir, "run")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ws, err := Clone(ctx, CloneOptions{URL: src, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	// What the agent left in the work tree does not enter this commit.
	if err := os.WriteFile(filepath.Join(ws.WorkTree, "agent.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sha, err := ws.CommitFile(ctx, ".github/agentgate.yml", []byte("network:\n  allow: [a.example]\n"), "allow a.example", Signature{Name: "agentgate", Email: "a@e", When: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Push(ctx, PushOptions{URL: src, Commit: sha, Branch: "agentgate/1-allowlist"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", src, "ls-tree", "-r", "--name-only", "agentgate/1-allowlist").CombinedOutput()
	if err != nil {
		t.Fatalf("ls-tree: %v %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != ".github/agentgate.yml" {
		t.Errorf("tree = %q, want only the config file", got)
	}
	if _, err := ws.CommitFile(ctx, "../escape", []byte("x"), "m", Signature{Name: "a"}); err == nil {
		t.Error("a path out of the tree was committed")
	}
}
