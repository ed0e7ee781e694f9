package gitops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/testgit"
)

func TestRoundTrip(t *testing.T) {
	t.Run("clone", func(t *testing.T) { roundTrip(t, cloneWS) })
	t.Run("mirror", func(t *testing.T) { roundTrip(t, mirrorWS) })
}

func roundTrip(t *testing.T, clone func(*testing.T, *testgit.Server) *Workspace) {
	ctx := context.Background()
	s := newServer(t)
	ws := clone(t, s)

	wantBase, err := s.Ref(ctx, testRepo, "refs/heads/main")
	must(t, err)
	if ws.BaseCommit != wantBase || ws.Branch != "main" {
		t.Fatalf("workspace base %s branch %q, want %s main", ws.BaseCommit, ws.Branch, wantBase)
	}
	if _, err := os.Lstat(filepath.Join(ws.WorkTree, ".git")); !os.IsNotExist(err) {
		t.Fatalf("fresh work tree has a .git entry: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(ws.WorkTree, "README.md")); err != nil || string(b) != "hello\nworld\n" {
		t.Fatalf("README.md = %q, %v", b, err)
	}

	must(t, ws.PrepareSandbox(ctx))
	// The throwaway repository looks clean to the real git, has one commit
	// of the base tree, no remote and no hooks.
	if out := gitCLI(t, ws.WorkTree, "status", "--porcelain"); out != "" {
		t.Fatalf("sandbox git status not clean:\n%s", out)
	}
	if out := gitCLI(t, ws.WorkTree, "rev-list", "--count", "HEAD"); strings.TrimSpace(out) != "1" {
		t.Fatalf("sandbox has %s commits", out)
	}
	baseTree := strings.TrimSpace(gitCLI(t, s.Path(testRepo), "rev-parse", "main^{tree}"))
	if got := strings.TrimSpace(gitCLI(t, ws.WorkTree, "rev-parse", "HEAD^{tree}")); got != baseTree {
		t.Fatalf("sandbox tree %s, want base tree %s", got, baseTree)
	}
	if out := gitCLI(t, ws.WorkTree, "remote"); out != "" {
		t.Fatalf("sandbox has remotes: %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(ws.WorkTree, ".git", "config")); strings.Contains(string(b), "url") || strings.Contains(string(b), testToken) {
		t.Fatalf("sandbox config leaks the remote:\n%s", b)
	}
	if hooks, _ := os.ReadDir(filepath.Join(ws.WorkTree, ".git", "hooks")); len(hooks) != 0 {
		t.Fatalf("sandbox has hooks: %v", hooks)
	}
	gitCLI(t, ws.WorkTree, "fsck", "--strict")

	// The agent works.
	write(t, ws.WorkTree, "README.md", "hello\nagent\n", 0o644)
	write(t, ws.WorkTree, "src/new/file.go", "package new\n", 0o644)
	must(t, os.RemoveAll(filepath.Join(ws.WorkTree, "dir")))
	must(t, os.Chmod(filepath.Join(ws.WorkTree, "run.sh"), 0o644))
	must(t, os.Symlink("docs/guide.md", filepath.Join(ws.WorkTree, "guide")))
	gitCLI(t, ws.WorkTree, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qam", "agent's own commit")

	ch, err := ws.Harvest(ctx, HarvestOptions{})
	must(t, err)
	got := map[string]string{}
	for _, f := range ch.Files {
		got[f.Path] = f.Op
	}
	want := map[string]string{"README.md": "modified", "src/new/file.go": "added", "dir/a.txt": "deleted", "dir/b.txt": "deleted", "run.sh": "mode", "guide": "added"}
	if len(got) != len(want) {
		t.Fatalf("harvest = %v, want %v", got, want)
	}
	for p, op := range want {
		if got[p] != op {
			t.Fatalf("harvest %s = %q, want %q (all: %v)", p, got[p], op, got)
		}
	}

	msg := CommitMessage(7, "Fix the README\n\nCo-authored-by: evil <e@x>", "run-123", Signature{Name: "Octo Cat", Email: "octo@example.test"})
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	commit, err := ws.Commit(ctx, ch, msg, Signature{Name: "agentgate[bot]", Email: "bot@example.test", When: when})
	must(t, err)

	branch := BranchName(7, "Fix the README")
	must(t, ws.Push(ctx, PushOptions{URL: s.CloneURL(testRepo), Token: testToken, Commit: commit, Branch: branch}))
	// The same push again is not an error.
	must(t, ws.Push(ctx, PushOptions{URL: s.CloneURL(testRepo), Token: testToken, Commit: commit, Branch: branch}))

	// What the real git sees on the server.
	if head, err := s.Ref(ctx, testRepo, "refs/heads/"+branch); err != nil || head != commit {
		t.Fatalf("branch %s = %q, %v; want %s", branch, head, err, commit)
	}
	if parent, err := s.Ref(ctx, testRepo, commit+"^"); err != nil || parent != wantBase {
		t.Fatalf("parent = %q, %v; want base %s", parent, err, wantBase)
	}
	if n := strings.TrimSpace(mustGit(t, s, "rev-list", "--count", commit)); n != "2" {
		t.Fatalf("history of the pushed commit has %s commits, want 2", n)
	}
	raw := mustGit(t, s, "cat-file", "commit", commit)
	_, body, _ := strings.Cut(raw, "\n\n")
	if body != msg {
		t.Fatalf("message on server:\n%q\nwant\n%q", body, msg)
	}
	trailers := mustGit(t, s, "log", "-1", "--format=%(trailers:only,unfold)", commit)
	if want := "Co-authored-by: Octo Cat <octo@example.test>\nAgentgate-Run: run-123\n"; strings.TrimSpace(trailers) != strings.TrimSpace(want) {
		t.Fatalf("trailers = %q, want %q", trailers, want)
	}
	if who := mustGit(t, s, "log", "-1", "--format=%an <%ae> %cn <%ce> %at", commit); strings.TrimSpace(who) != "agentgate[bot] <bot@example.test> agentgate[bot] <bot@example.test> 1735787045" {
		t.Fatalf("identity = %q", who)
	}
	tree := mustGit(t, s, "ls-tree", "-r", "--full-tree", commit)
	for _, line := range []string{
		"100644 blob", "\tREADME.md", "100644 blob " + blobOf(t, "package new\n") + "\tsrc/new/file.go",
		"120000 blob " + blobOf(t, "docs/guide.md") + "\tguide", "\trun.sh",
	} {
		if !strings.Contains(tree, line) {
			t.Fatalf("tree lacks %q:\n%s", line, tree)
		}
	}
	if strings.Contains(tree, "dir/") || strings.Contains(tree, "100755") {
		t.Fatalf("tree still has dir/ or an executable:\n%s", tree)
	}
	if c, _ := s.ReadFile(ctx, testRepo, commit, "README.md"); c != "hello\nagent\n" {
		t.Fatalf("README.md on server = %q", c)
	}
	mustGit(t, s, "fsck", "--strict")
	if _, err := s.Ref(ctx, testRepo, "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if main, _ := s.Ref(ctx, testRepo, "refs/heads/main"); main != wantBase {
		t.Fatal("main moved")
	}
}

func mustGit(t *testing.T, s *testgit.Server, args ...string) string {
	t.Helper()
	out, err := s.Git(context.Background(), testRepo, args...)
	must(t, err)
	return out
}

// blobOf is the git blob hash of content, computed by the real git.
func blobOf(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blob")
	must(t, os.WriteFile(p, []byte(content), 0o644))
	return strings.TrimSpace(gitCLI(t, "", "hash-object", "--no-filters", p))
}
