package gitops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

func TestClone(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	_, err := s.Commit(ctx, testRepo, "release", "release", []testgit.File{{Path: "RELEASE", Content: "1\n"}})
	must(t, err)
	release, err := s.Ref(ctx, testRepo, "refs/heads/release")
	must(t, err)
	main, err := s.Ref(ctx, testRepo, "refs/heads/main")
	must(t, err)

	tests := []struct {
		name       string
		opts       CloneOptions
		wantErr    error  // errors.Is
		errText    string // substring, when wantErr is nil
		wantCommit string
		wantBranch string
		wantFile   string
	}{
		{name: "default branch", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken}, wantCommit: main, wantBranch: "main", wantFile: "README.md"},
		{name: "named branch", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "release"}, wantCommit: release, wantBranch: "release", wantFile: "RELEASE"},
		{name: "read-only token clones", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: "read-only"}, wantCommit: main, wantBranch: "main", wantFile: "README.md"},
		{name: "local path", opts: CloneOptions{URL: s.Path(testRepo)}, wantCommit: main, wantBranch: "main", wantFile: "README.md"},
		{name: "file URL", opts: CloneOptions{URL: "file://" + s.Path(testRepo), Branch: "release"}, wantCommit: release, wantBranch: "release", wantFile: "RELEASE"},
		{name: "wrong token", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: "wrong"}, wantErr: transport.ErrAuthorizationFailed},
		{name: "no token", opts: CloneOptions{URL: s.CloneURL(testRepo)}, wantErr: transport.ErrAuthenticationRequired},
		{name: "missing branch", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "nope"}, errText: "clone:"},
		{name: "bad branch name", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "a..b"}, errText: "branch"},
		{name: "token over plain http to a public host", opts: CloneOptions{URL: "http://example.com/o/r.git", Token: testToken}, errText: "loopback"},
		{name: "credentials in URL", opts: CloneOptions{URL: "https://x:tok@example.com/o/r.git"}, errText: "credentials in the URL"},
		{name: "ssh", opts: CloneOptions{URL: "git@github.com:o/r.git", Token: testToken}, errText: "scp-like"},
		{name: "git scheme", opts: CloneOptions{URL: "git://127.0.0.1/o/r.git"}, errText: "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Root = t.TempDir()
			ws, err := Clone(ctx, tt.opts)
			if tt.wantErr != nil || tt.errText != "" {
				checkCloneError(t, err, tt.wantErr, tt.errText)
				return
			}
			if err != nil {
				t.Fatalf("Clone: %v", err)
			}
			if ws.BaseCommit != tt.wantCommit || ws.Branch != tt.wantBranch {
				t.Fatalf("got %s %q, want %s %q", ws.BaseCommit, ws.Branch, tt.wantCommit, tt.wantBranch)
			}
			if _, err := os.Stat(filepath.Join(ws.WorkTree, tt.wantFile)); err != nil {
				t.Fatalf("work tree lacks %s: %v", tt.wantFile, err)
			}
			if _, err := os.Lstat(filepath.Join(ws.WorkTree, ".git")); !os.IsNotExist(err) {
				t.Fatalf("work tree has .git: %v", err)
			}
			shallow, err := os.ReadFile(filepath.Join(ws.Root, "repo.git", "shallow"))
			if err != nil || strings.TrimSpace(string(shallow)) != tt.wantCommit {
				t.Fatalf("shallow = %q, %v; want depth 1 at %s", shallow, err, tt.wantCommit)
			}
			cfg, _ := os.ReadFile(filepath.Join(ws.Root, "repo.git", "config"))
			if strings.Contains(string(cfg), testToken) {
				t.Fatal("the token was written to the repository config")
			}
			if tt.wantBranch != "main" {
				return // the release branch holds only RELEASE
			}
			if fi, err := os.Lstat(filepath.Join(ws.WorkTree, "link")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("symlink not checked out as a symlink: %v", err)
			}
		})
	}
}

func TestCloneRefusesExisting(t *testing.T) {
	s := newServer(t)
	root := t.TempDir()
	must(t, os.Mkdir(filepath.Join(root, "work"), 0o755))
	if _, err := Clone(context.Background(), CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: root}); err == nil {
		t.Fatal("Clone over an existing work tree succeeded")
	}
	if _, err := Clone(context.Background(), CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: filepath.Join(root, "missing")}); err == nil {
		t.Fatal("Clone into a missing root succeeded")
	}
}

func TestRemove(t *testing.T) {
	s := newServer(t)
	ws := cloneWS(t, s)
	outside := filepath.Join(t.TempDir(), "keep")
	must(t, os.WriteFile(outside, []byte("x"), 0o644))
	must(t, os.Symlink(filepath.Dir(outside), filepath.Join(ws.WorkTree, "escape")))
	ro := filepath.Join(ws.WorkTree, "ro")
	write(t, ws.WorkTree, "ro/f", "x", 0o644)
	must(t, os.Chmod(ro, 0o555))
	must(t, ws.Remove())
	entries, err := os.ReadDir(ws.Root)
	if err != nil || len(entries) != 0 {
		t.Fatalf("root after Remove: %v, %v", entries, err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("Remove followed a symlink out of the work tree: %v", err)
	}
}
