package gitops

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/agentgate/agentgate/internal/testgit"
)

// needOverlay skips a test that mounts overlays when this process may not
// (not root); under CI, which runs as root, that is a failure.
func needOverlay(t *testing.T) {
	t.Helper()
	if canOverlay() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("overlay work trees need root; CI runs as root")
	}
	t.Skip("overlay work trees need root (CAP_SYS_ADMIN): skipped")
}

// isOverlay reports whether dir is the root of an overlay mount.
func isOverlay(t *testing.T, dir string) bool {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatalf("statfs %s: %v", dir, err)
	}
	return st.Type == unix.OVERLAYFS_SUPER_MAGIC
}

// cachedTrees lists the cached checkouts of every repository in m.
func cachedTrees(t *testing.T, m *Mirrors) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(m.Dir, "*"+treesSuffix, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// The work tree of a warm run is an overlay over the cached checkout: the
// same files as a plain clone, the sandbox's writes land in the run's own
// layer, the checkout beneath never changes, and the harvest sees exactly
// what the run did.
func TestMirrorOverlayWorkTree(t *testing.T) {
	needOverlay(t)
	ctx := context.Background()
	s := newServer(t)
	want := treeOf(t, cloneWS(t, s).WorkTree)
	owner := &FileOwner{UID: 65532, GID: 65532}
	m := &Mirrors{Dir: t.TempDir(), Owner: owner}
	opts := func() CloneOptions {
		return CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()}
	}
	ws, err := cloneMirror(ctx, t, m, opts())
	must(t, err)
	if !isOverlay(t, ws.WorkTree) {
		t.Fatal("the work tree is not an overlay mount")
	}
	if got := treeOf(t, ws.WorkTree); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("overlay work tree differs from a clone:\n got %v\nwant %v", got, want)
	}
	entries := cachedTrees(t, m)
	if len(entries) != 1 {
		t.Fatalf("%d cached checkouts, want 1", len(entries))
	}
	lower := filepath.Join(entries[0], workDirName)
	pristine := fmt.Sprint(treeOf(t, lower))
	// The cached files belong to the sandbox user, and only root can
	// reach them: the cache directory is root's alone.
	fi, err := os.Lstat(filepath.Join(lower, "README.md"))
	must(t, err)
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != owner.UID || int(st.Gid) != owner.GID {
		t.Fatalf("cached file owned by %d:%d, want %d:%d", st.Uid, st.Gid, owner.UID, owner.GID)
	}
	if fi, err := os.Stat(filepath.Dir(entries[0])); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("checkout cache directory mode %v, %v; want 0700", fi.Mode(), err)
	}

	must(t, ws.PrepareSandbox(ctx))
	// The sandbox user edits, deletes, adds, renames a directory and
	// commits in its throwaway repository, as an agent would.
	script := strings.Join([]string{
		"echo changed >> README.md",
		"rm dir/b.txt",
		"echo new > added.txt",
		"mv docs manual",
		"chmod +x dir/a.txt",
	}, " && ")
	// The test's temporary directories are root's alone; the sandbox
	// user must reach the work tree (as the container does through its
	// bind mount).
	for d := ws.Root; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	// The root of the merged tree and the sandbox's .git are the run's
	// own (upper layer): give them to the sandbox user as the runner does.
	must(t, chownTree(ws.WorkTree, *owner))
	asOwner := func(c *exec.Cmd) *exec.Cmd {
		c.Dir = ws.WorkTree
		c.Env = []string{"HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "PATH=" + os.Getenv("PATH")}
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(owner.UID), Gid: uint32(owner.GID)}}
		return c
	}
	sandboxGit := func(args ...string) string {
		t.Helper()
		out, err := asOwner(exec.CommandContext(ctx, "git", args...)).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v in the sandbox: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// The cached index matches the overlay's files without a refresh
	// (diff-files compares stat data only), and nothing was copied up.
	if out := sandboxGit("diff-files", "--name-only"); out != "" {
		t.Fatalf("the sandbox's index does not match the work tree's stat data:\n%s", out)
	}
	if out := sandboxGit("status", "--porcelain"); out != "" {
		t.Fatalf("sandbox git status not clean:\n%s", out)
	}
	if up, _ := filepath.Glob(filepath.Join(ws.Root, overlayDirName, "upper", "*")); len(up) != 1 || filepath.Base(up[0]) != ".git" {
		t.Fatalf("the upper layer holds %v before the agent ran; want only .git", up)
	}
	if out, err := asOwner(cmd).CombinedOutput(); err != nil {
		t.Fatalf("the sandbox user could not edit the overlay: %v\n%s", err, out)
	}
	if out := sandboxGit("status", "--porcelain"); !strings.Contains(out, " M README.md") || !strings.Contains(out, " D dir/b.txt") {
		t.Fatalf("sandbox git status after the edits:\n%s", out)
	}
	if got := fmt.Sprint(treeOf(t, lower)); got != pristine {
		t.Fatal("writes through the overlay changed the cached checkout")
	}
	ch, err := ws.Harvest(ctx, HarvestOptions{})
	must(t, err)
	var got []string
	for _, f := range ch.Files {
		got = append(got, f.Op+" "+f.Path)
	}
	wantOps := []string{"modified README.md", "added added.txt", "mode dir/a.txt", "deleted dir/b.txt", "deleted docs/guide.md", "added manual/guide.md"}
	sort.Strings(got)
	sort.Strings(wantOps)
	if fmt.Sprint(got) != fmt.Sprint(wantOps) {
		t.Fatalf("harvest through the overlay:\n got %v\nwant %v", got, wantOps)
	}

	// Close unmounts; the next run starts from the pristine checkout.
	must(t, ws.Close())
	if isOverlay(t, ws.WorkTree) {
		t.Fatal("the overlay is still mounted after Close")
	}
	must(t, ws.Close()) // twice is fine
	must(t, ws.Remove())
	ws2, err := cloneMirror(ctx, t, m, opts())
	must(t, err)
	if got := treeOf(t, ws2.WorkTree); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("second run's work tree is not pristine:\n got %v\nwant %v", got, want)
	}
	if n := len(cachedTrees(t, m)); n != 1 {
		t.Fatalf("%d cached checkouts after a second run on the same commit, want 1", n)
	}
}

// Each repository keeps at most MaxTrees checkouts; one a run is still
// using is never removed, and goes once the run is over.
func TestMirrorOverlayKeepsFewCheckouts(t *testing.T) {
	needOverlay(t)
	ctx := context.Background()
	s := newServer(t)
	m := &Mirrors{Dir: t.TempDir(), MaxTrees: 1}
	opts := func() CloneOptions {
		return CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()}
	}
	first, err := cloneMirror(ctx, t, m, opts())
	must(t, err)
	_, err = s.Commit(ctx, testRepo, "main", "second", []testgit.File{{Path: "NEW.md", Content: "new\n"}})
	must(t, err)
	second, err := cloneMirror(ctx, t, m, opts())
	must(t, err)
	// The first run still uses its checkout: both stay.
	if n := len(cachedTrees(t, m)); n != 2 {
		t.Fatalf("%d cached checkouts while both runs are on, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(first.WorkTree, "README.md")); err != nil {
		t.Fatalf("the first run lost its work tree: %v", err)
	}
	must(t, first.Close())
	must(t, second.Close())
	_, err = s.Commit(ctx, testRepo, "main", "third", []testgit.File{{Path: "THIRD.md", Content: "3\n"}})
	must(t, err)
	third, err := cloneMirror(ctx, t, m, opts())
	must(t, err)
	trees := cachedTrees(t, m)
	if len(trees) != 1 {
		t.Fatalf("%d cached checkouts, want MaxTrees = 1", len(trees))
	}
	if _, err := os.Stat(filepath.Join(trees[0], workDirName, "THIRD.md")); err != nil {
		t.Fatalf("the kept checkout is not the newest: %v", err)
	}
	if _, err := os.Stat(filepath.Join(third.WorkTree, "THIRD.md")); err != nil {
		t.Fatal(err)
	}
	if size, err := m.Size(); err != nil || size <= dirSize(trees[0]) {
		t.Fatalf("Size %d (%v) does not count the mirror and its checkout", size, err)
	}
}

// A build that crashed halfway leaves a temporary directory, never a
// half-written checkout: the next run builds a whole one and the stale
// directory goes.
func TestMirrorOverlayStaleBuild(t *testing.T) {
	needOverlay(t)
	ctx := context.Background()
	s := newServer(t)
	m := &Mirrors{Dir: t.TempDir()}
	ws, err := m.Clone(ctx, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()})
	must(t, err)
	must(t, ws.Close())
	entry := cachedTrees(t, m)[0]
	// Simulate the crash: the entry as a temporary directory holding
	// half the files.
	stale := entry + treeTmpMarker + "123"
	must(t, os.Rename(entry, stale))
	must(t, os.Remove(filepath.Join(stale, workDirName, "README.md")))
	ws, err = cloneMirror(ctx, t, m, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()})
	must(t, err)
	if b, err := os.ReadFile(filepath.Join(ws.WorkTree, "README.md")); err != nil || string(b) != "hello\nworld\n" {
		t.Fatalf("README.md after a crashed build = %q, %v", b, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale build directory still there: %v", err)
	}
}

// With the overlay off, or where it cannot be mounted, the work tree is
// written file by file: a plain directory, the same files.
func TestMirrorOverlayOff(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	m := &Mirrors{Dir: t.TempDir(), Overlay: OverlayOff}
	ws, err := cloneMirror(ctx, t, m, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()})
	must(t, err)
	if isOverlay(t, ws.WorkTree) {
		t.Fatal("Overlay: off still mounted an overlay")
	}
	if n := len(cachedTrees(t, m)); n != 0 {
		t.Fatalf("Overlay: off cached %d checkouts", n)
	}
	if got, want := treeOf(t, ws.WorkTree), treeOf(t, cloneWS(t, s).WorkTree); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("work tree differs from a clone:\n got %v\nwant %v", got, want)
	}
}
