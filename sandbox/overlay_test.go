package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/sandbox"
)

// Runs through the mirror cache, as root: the agent's work tree is an
// overlay over the checkout cached for the commit, the real container
// edits it as the sandbox user, the change is exactly the agent's, the
// cached checkout never changes, the run's bounds hold, and nothing stays
// mounted once the attempt is closed.
func TestSandboxOverlayWorkTree(t *testing.T) {
	requireDocker(t)
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("overlay work trees need root; CI runs as root")
		}
		t.Skip("overlay work trees need root: skipped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	repo := initRepo(t, dir)
	for p, content := range map[string]string{"AGENTS.md": "Run the tests.\n", "main.go": "package main\n", "old/gone.txt": "bye\n"} {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(repo, p)), 0o755))
		must(t, os.WriteFile(filepath.Join(repo, p), []byte(content), 0o644))
	}
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "init")

	uid, gid, err := runner.UserIDs(runner.DefaultUser())
	must(t, err)
	mirrors := &gitops.Mirrors{Dir: filepath.Join(dir, "data", "mirrors"), Owner: &gitops.FileOwner{UID: uid, GID: gid}}
	sb, _ := testSandbox(ctx, t, dir, "overlay-test", func(sb *sandbox.Sandbox) {
		sb.WorkspaceInodes = 2_000
		sb.Mirrors = mirrors
	})
	run := func(id, task string) *sandbox.Attempt {
		t.Helper()
		att, err := sb.Execute(ctx, sandbox.Task{RunID: id, CloneURL: repo, Text: task, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = att.Close() })
		return att
	}
	changes := func(att *sandbox.Attempt) []string {
		var got []string
		for _, f := range att.Change.Files {
			got = append(got, f.Op+" "+f.Path)
		}
		return got
	}
	lowerOf := func() string {
		t.Helper()
		ws, err := filepath.Glob(filepath.Join(mirrors.Dir, "*.trees", "*", "work"))
		must(t, err)
		if len(ws) != 1 {
			t.Fatalf("%d cached checkouts, want 1", len(ws))
		}
		return ws[0]
	}

	att := run("overlay-1", "agentgate-test: append AGENTS.md Also lint.\\n\nagentgate-test: write NOTES.md note\nagentgate-test: delete old\n")
	if att.Outcome != sandbox.OutcomeSucceeded {
		t.Fatalf("outcome %q: %s\n%s", att.Outcome, att.Reason, att.Result.Output)
	}
	var st unix.Statfs_t
	must(t, unix.Statfs(att.Workspace.WorkTree, &st))
	if st.Type != unix.OVERLAYFS_SUPER_MAGIC {
		t.Fatalf("the run's work tree is not an overlay (filesystem type %#x)", st.Type)
	}
	if got, want := changes(att), []string{"modified AGENTS.md", "added NOTES.md", "deleted old/gone.txt"}; !slices.Equal(got, want) {
		t.Errorf("change = %q, want %q", got, want)
	}
	lower := lowerOf()
	if b, err := os.ReadFile(filepath.Join(lower, "AGENTS.md")); err != nil || string(b) != "Run the tests.\n" {
		t.Errorf("the agent's edit reached the cached checkout: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(lower, "old", "gone.txt")); err != nil {
		t.Errorf("the agent's delete reached the cached checkout: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(lower, "NOTES.md")); !os.IsNotExist(err) {
		t.Errorf("the agent's new file is in the cached checkout: %v", err)
	}
	must(t, att.Close())
	assertNoMountsUnder(t, dir)

	// The next run on the same commit starts from the pristine checkout
	// (no second one is built) and from nothing the first run wrote.
	att = run("overlay-2", "agentgate-test: append AGENTS.md Also vet.\\n\n")
	if att.Outcome != sandbox.OutcomeSucceeded {
		t.Fatalf("second run: outcome %q: %s\n%s", att.Outcome, att.Reason, att.Result.Output)
	}
	if got, want := changes(att), []string{"modified AGENTS.md"}; !slices.Equal(got, want) {
		t.Errorf("second run's change = %q, want %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(att.Workspace.WorkTree, "AGENTS.md")); err != nil || string(b) != "Run the tests.\nAlso vet.\n" {
		t.Errorf("second run's AGENTS.md = %q, %v", b, err)
	}
	_ = lowerOf()
	must(t, att.Close())

	// The run's inode bound holds on the overlay's upper layer: an agent
	// making files without end stops at the bound, and none of them
	// reaches the cached checkout.
	att = run("overlay-3", "agentgate-test: files 5000 many\n")
	if att.Outcome == sandbox.OutcomeSucceeded {
		t.Fatalf("an agent made 5000 files in a 2000-inode workspace and succeeded: %q", changes(att))
	}
	t.Logf("the flooding run: %s (%s)", att.Outcome, att.Reason)
	if _, err := os.Lstat(filepath.Join(lowerOf(), "many")); !os.IsNotExist(err) {
		t.Errorf("the agent's files reached the cached checkout: %v", err)
	}
	must(t, att.Close())
	assertNoMountsUnder(t, dir)
}

// assertNoMountsUnder fails when anything is still mounted under dir.
func assertNoMountsUnder(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			t.Errorf("still mounted after the attempt closed: %s", f[4])
		}
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
