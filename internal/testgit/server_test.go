package testgit

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// tokens: "rw" may read and write, "ro" may only read, anonymous may do nothing.
func testAuth(token, repo string, write bool) bool {
	if repo != "octo/demo" {
		return false
	}
	switch token {
	case "rw":
		return true
	case "ro":
		return !write
	}
	return false
}

func newServer(t *testing.T) (*Server, string) {
	t.Helper()
	s, err := New(t.TempDir(), testAuth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx := context.Background()
	url, err := s.CreateRepo(ctx, "octo/demo", map[string]string{"README.md": "hello\n", "src/a.go": "package a\n"})
	if err != nil {
		t.Fatal(err)
	}
	return s, url
}

func auth(token string) *githttp.BasicAuth {
	return &githttp.BasicAuth{Username: "x-access-token", Password: token}
}

func TestCreateRepoAndInspect(t *testing.T) {
	s, url := newServer(t)
	ctx := context.Background()
	if want := s.URL() + "/octo/demo.git"; url != want {
		t.Fatalf("clone URL %q, want %q", url, want)
	}
	head, err := s.Ref(ctx, "octo/demo", "refs/heads/main")
	if err != nil || len(head) != 40 {
		t.Fatalf("Ref = %q, %v", head, err)
	}
	if _, err := s.Ref(ctx, "octo/demo", "refs/heads/missing"); err == nil {
		t.Fatal("Ref of a missing branch succeeded")
	}
	msg, err := s.Show(ctx, "octo/demo", head)
	if err != nil || strings.TrimSpace(msg) != "initial commit" {
		t.Fatalf("Show = %q, %v", msg, err)
	}
	got, err := s.ReadFile(ctx, "octo/demo", "main", "src/a.go")
	if err != nil || got != "package a\n" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	if _, err := s.CreateRepo(ctx, "octo/demo", nil); err == nil {
		t.Fatal("creating an existing repository succeeded")
	}
	if _, err := s.CreateRepo(ctx, "../evil", nil); err == nil {
		t.Fatal("bad repository name accepted")
	}
}

func TestGoGitCloneAndPush(t *testing.T) {
	s, url := newServer(t)
	ctx := context.Background()

	tests := []struct {
		name      string
		token     string
		cloneErr  error
		pushErr   error
		wantClone bool
	}{
		{name: "read-write token", token: "rw", wantClone: true},
		{name: "read-only token", token: "ro", wantClone: true, pushErr: transport.ErrAuthorizationFailed},
		{name: "wrong token", token: "nope", cloneErr: transport.ErrAuthorizationFailed},
		{name: "no token", token: "", cloneErr: transport.ErrAuthenticationRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &git.CloneOptions{URL: url}
			if tt.token != "" {
				opts.Auth = auth(tt.token)
			}
			dir := t.TempDir()
			repo, err := git.PlainCloneContext(ctx, dir, false, opts)
			if !tt.wantClone {
				if !errors.Is(err, tt.cloneErr) {
					t.Fatalf("clone error %v, want %v", err, tt.cloneErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("clone: %v", err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || string(b) != "hello\n" {
				t.Fatalf("README.md = %q, %v", b, err)
			}
			wt, _ := repo.Worktree()
			if err := os.WriteFile(filepath.Join(dir, "new.txt"), []byte("new\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := wt.Add("new.txt"); err != nil {
				t.Fatal(err)
			}
			sig := &object.Signature{Name: "t", Email: "t@example.test", When: time.Now()}
			hash, err := wt.Commit("add new", &git.CommitOptions{Author: sig})
			if err != nil {
				t.Fatal(err)
			}
			branch := "topic-" + tt.token
			err = repo.PushContext(ctx, &git.PushOptions{
				Auth:     auth(tt.token),
				RefSpecs: []config.RefSpec{config.RefSpec("refs/heads/main:refs/heads/" + branch)},
			})
			if tt.pushErr != nil {
				if !errors.Is(err, tt.pushErr) {
					t.Fatalf("push error %v, want %v", err, tt.pushErr)
				}
				if _, err := s.Ref(ctx, "octo/demo", "refs/heads/"+branch); err == nil {
					t.Fatal("refused push still created the branch")
				}
				return
			}
			if err != nil {
				t.Fatalf("push: %v", err)
			}
			got, err := s.Ref(ctx, "octo/demo", "refs/heads/"+branch)
			if err != nil || got != hash.String() {
				t.Fatalf("pushed branch = %q, %v; want %s", got, err, hash)
			}
			if c, err := s.ReadFile(ctx, "octo/demo", branch, "new.txt"); err != nil || c != "new\n" {
				t.Fatalf("new.txt on server = %q, %v", c, err)
			}
		})
	}
}

func TestGitCLICloneAndPush(t *testing.T) {
	s, _ := newServer(t)
	ctx := context.Background()
	home := t.TempDir()
	run := func(dir string, args ...string) error {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	withToken := func(token string) string {
		return strings.Replace(s.CloneURL("octo/demo"), "http://", "http://x-access-token:"+token+"@", 1)
	}

	if err := run("", "clone", "--quiet", withToken("wrong"), filepath.Join(t.TempDir(), "x")); err == nil {
		t.Fatal("clone with a wrong token succeeded")
	}
	if err := run("", "clone", "--quiet", s.CloneURL("octo/demo"), filepath.Join(t.TempDir(), "x")); err == nil {
		t.Fatal("anonymous clone succeeded")
	}

	dir := filepath.Join(t.TempDir(), "c")
	if err := run("", "clone", "--quiet", withToken("ro"), dir); err != nil {
		t.Fatalf("clone with read-only token: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cli.txt"), []byte("cli\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, "add", "cli.txt"); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, "commit", "--quiet", "-m", "cli"); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, "push", "--quiet", withToken("ro"), "HEAD:refs/heads/cli"); err == nil {
		t.Fatal("push with a read-only token succeeded")
	}
	if _, err := s.Ref(ctx, "octo/demo", "refs/heads/cli"); err == nil {
		t.Fatal("refused push created the branch")
	}
	if err := run(dir, "push", "--quiet", withToken("rw"), "HEAD:refs/heads/cli"); err != nil {
		t.Fatalf("push with read-write token: %v", err)
	}
	if c, err := s.ReadFile(ctx, "octo/demo", "refs/heads/cli", "cli.txt"); err != nil || c != "cli\n" {
		t.Fatalf("cli.txt on server = %q, %v", c, err)
	}
}

func TestCommitFilesModes(t *testing.T) {
	s, err := New(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	_, err = s.CreateRepoFiles(ctx, "o/r", []File{
		{Path: "run.sh", Content: "#!/bin/sh\n", Mode: 0o755},
		{Path: "link", Content: "run.sh", Symlink: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Git(ctx, "o/r", "ls-tree", "main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "100755 blob") || !strings.Contains(out, "120000 blob") {
		t.Fatalf("ls-tree = %q, want an executable and a symlink", out)
	}
	first, _ := s.Ref(ctx, "o/r", "main")
	second, err := s.Commit(ctx, "o/r", "main", "second", []File{{Path: "b.txt", Content: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	parent, err := s.Ref(ctx, "o/r", second+"^")
	if err != nil || parent != first {
		t.Fatalf("parent of second = %q, %v; want %s", parent, err, first)
	}
	if _, err := s.ReadFile(ctx, "o/r", "main", "run.sh"); err != nil {
		t.Fatalf("second commit lost run.sh: %v", err)
	}
	if _, err := s.Commit(ctx, "o/r", "main", "bad", []File{{Path: "../x", Content: "x"}}); err == nil {
		t.Fatal("path leaving the work tree accepted")
	}
}

// A push whose new commits touch .github/workflows/ is refused unless the
// token holds the workflows permission, as GitHub refuses a GitHub App.
func TestPushTouchingWorkflowsNeedsPermission(t *testing.T) {
	ctx := context.Background()
	s, url := newServer(t)
	push := func(token, branch, path string) error {
		dir := t.TempDir()
		r, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{URL: url, Auth: auth(token)})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte("on: push\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		wt, _ := r.Worktree()
		if _, err := wt.Add(path); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "a", Email: "a@example.test", When: time.Now()}
		if _, err := wt.Commit("touch "+path, &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
			t.Fatal(err)
		}
		return r.PushContext(ctx, &git.PushOptions{Auth: auth(token), RefSpecs: []config.RefSpec{config.RefSpec("refs/heads/main:refs/heads/" + branch)}})
	}
	err := push("rw", "agentgate/wf", ".github/workflows/ci.yml")
	if err == nil || !strings.Contains(err.Error(), "pre-receive hook declined") {
		t.Fatalf("workflow push without permission: err = %v, want a declined push", err)
	}
	if _, err := s.Ref(ctx, "octo/demo", "refs/heads/agentgate/wf"); err == nil {
		t.Error("the refused branch exists")
	}
	if err := push("rw", "agentgate/other", "docs/ci.yml"); err != nil {
		t.Errorf("push of another path refused: %v", err)
	}
	s.SetWorkflowsAuthorizer(func(token, repo string) bool { return token == "rw" && repo == "octo/demo" })
	if err := push("rw", "agentgate/wf2", ".github/workflows/ci.yml"); err != nil {
		t.Errorf("workflow push with the permission refused: %v", err)
	}
}
