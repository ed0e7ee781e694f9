package sandbox

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// TestResume: a kept change's workspace is a fresh clone at the kept
// base with the kept blobs in its repository; a moved branch is
// ErrBaseMoved, a blob that does not hash to its name ends the attempt as
// rejected; Close removes the run directory.
func TestResume(t *testing.T) {
	repo := bareRepo(t, func(dir string) string {
		blob := gitIn(t, dir, "hello\n", "hash-object", "-w", "--stdin")
		return gitIn(t, dir, "100644 blob "+blob+"\tREADME.md\n", "mktree")
	})
	base := gitIn(t, repo, "", "rev-parse", "refs/heads/main")
	content := []byte("kept\n")
	hash := plumbing.ComputeHash(plumbing.BlobObject, content).String()
	s := &Sandbox{DataDir: t.TempDir(), WorkerID: "w", Events: discardEvents{}, WorkspaceBytes: 1 << 30, WorkspaceInodes: 10_000}
	ctx := context.Background()
	task := ResumeTask{RunID: "run-1", CloneURL: repo, Branch: "main", Base: base, Blobs: map[string][]byte{hash: content}}

	att, err := s.Resume(ctx, task)
	if err != nil || att.Outcome != "" || att.Workspace == nil || att.Workspace.BaseCommit != base {
		t.Fatalf("Resume = %+v, %v; want the workspace at %s", att, err, base)
	}
	if got, err := att.Workspace.WriteBlob(content); err != nil || got != hash {
		t.Errorf("the kept blob is not in the repository: %s, %v", got, err)
	}
	if err := att.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(s.runDir("run-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run directory left after Close: %v", err)
	}

	bad := task
	bad.Blobs = map[string][]byte{strings.Repeat("0", 40): content}
	att, err = s.Resume(ctx, bad)
	if err != nil || att.Outcome != OutcomeRejected || !strings.Contains(att.Reason, "stored as "+hash) {
		t.Errorf("a blob under another name: %+v, %v; want rejected", att, err)
	}
	_ = att.Close()

	moved := task
	moved.Base = strings.Repeat("1", 40)
	if att, err := s.Resume(ctx, moved); !errors.Is(err, ErrBaseMoved) || att != nil {
		t.Errorf("a moved branch: %+v, %v; want ErrBaseMoved", att, err)
	}
	if _, err := os.Lstat(s.runDir("run-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run directory left after a refused resume: %v", err)
	}
}
