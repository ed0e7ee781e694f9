package gitops

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/testgit"
)

const (
	testRepo  = "octo/demo"
	testToken = "run-token"
)

// baseFiles is the base commit every test starts from.
var baseFiles = []testgit.File{
	{Path: "README.md", Content: "hello\nworld\n"},
	{Path: "run.sh", Content: "#!/bin/sh\necho hi\n", Mode: 0o755},
	{Path: "docs/guide.md", Content: "guide\n"},
	{Path: "dir/a.txt", Content: "a\n"},
	{Path: "dir/b.txt", Content: "b\n"},
	{Path: "link", Content: "README.md", Symlink: true},
	{Path: ".gitignore", Content: "*.log\nbuild/\n"},
	{Path: "keep.log", Content: "tracked though ignored\n"},
}

// newServer starts a git server holding testRepo; testToken may read and
// write it, "read-only" may only read.
func newServer(t *testing.T) *testgit.Server {
	t.Helper()
	s, err := testgit.New(t.TempDir(), func(token, repo string, write bool) bool {
		return repo == testRepo && (token == testToken || token == "read-only" && !write)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, err := s.CreateRepoFiles(context.Background(), testRepo, baseFiles); err != nil {
		t.Fatal(err)
	}
	return s
}

// cloneWS clones testRepo into a fresh run directory.
func cloneWS(t *testing.T, s *testgit.Server) *Workspace {
	t.Helper()
	ws, err := Clone(context.Background(), CloneOptions{
		URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("Clone: %v", err)
	}
	return ws
}

// gitCLI runs the real git in dir with an isolated configuration.
func gitCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func write(t *testing.T, root, p, content string, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkCloneError fails unless err is the refusal a clone case expects:
// wantErr (when set) in its chain, errText in its message, and never the
// token.
func checkCloneError(t *testing.T, err, wantErr error, errText string) {
	t.Helper()
	if err == nil {
		t.Fatal("the clone succeeded")
	}
	if wantErr != nil && !errors.Is(err, wantErr) {
		t.Fatalf("error %v, want %v", err, wantErr)
	}
	if !strings.Contains(err.Error(), errText) {
		t.Fatalf("error %q lacks %q", err, errText)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error leaks the token: %v", err)
	}
}
