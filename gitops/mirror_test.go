package gitops

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/agentgate/agentgate/internal/testgit"
)

// mirrorWS clones testRepo through a fresh mirror cache.
func mirrorWS(t *testing.T, s *testgit.Server) *Workspace {
	t.Helper()
	m := &Mirrors{Dir: t.TempDir()}
	ws, err := cloneMirror(context.Background(), t, m, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()})
	if err != nil {
		t.Fatalf("mirror Clone: %v", err)
	}
	return ws
}

// treeOf lists a work tree: path → mode and content (symlink target).
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link:" + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			out[rel] = fmt.Sprintf("%o:%s", fi.Mode().Perm(), b)
		case fi.IsDir():
			out[rel] = "dir"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The mirror gives the same workspace as a clone, for every case Clone
// accepts and refuses.
func TestMirrorCloneMatchesClone(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	_, err := s.Commit(ctx, testRepo, "release", "release", []testgit.File{{Path: "RELEASE", Content: "1\n"}})
	must(t, err)
	m := &Mirrors{Dir: t.TempDir()}
	tests := []struct {
		name    string
		opts    CloneOptions
		wantErr error
		errText string
	}{
		{name: "default branch", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken}},
		{name: "named branch", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "release"}},
		{name: "default branch again (warm)", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken}},
		{name: "local path", opts: CloneOptions{URL: s.Path(testRepo)}},
		{name: "wrong token", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: "wrong"}, wantErr: transport.ErrAuthorizationFailed},
		{name: "no token", opts: CloneOptions{URL: s.CloneURL(testRepo)}, wantErr: transport.ErrAuthenticationRequired},
		{name: "missing branch", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "nope"}, errText: "fetch"},
		{name: "bad branch name", opts: CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Branch: "a..b"}, errText: "branch"},
		{name: "token over plain http to a public host", opts: CloneOptions{URL: "http://example.com/o/r.git", Token: testToken}, errText: "loopback"},
		{name: "credentials in URL", opts: CloneOptions{URL: "https://x:tok@example.com/o/r.git"}, errText: "credentials in the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mo := tt.opts
			mo.Root = t.TempDir()
			got, err := cloneMirror(ctx, t, m, mo)
			if tt.wantErr != nil || tt.errText != "" {
				checkCloneError(t, err, tt.wantErr, tt.errText)
				return
			}
			if err != nil {
				t.Fatalf("mirror Clone: %v", err)
			}
			co := tt.opts
			co.Root = t.TempDir()
			want, err := Clone(ctx, co)
			must(t, err)
			if got.BaseCommit != want.BaseCommit || got.Branch != want.Branch {
				t.Fatalf("mirror %s %q, clone %s %q", got.BaseCommit, got.Branch, want.BaseCommit, want.Branch)
			}
			if g, w := fmt.Sprint(treeOf(t, got.WorkTree)), fmt.Sprint(treeOf(t, want.WorkTree)); g != w {
				t.Fatalf("work trees differ:\nmirror %s\nclone  %s", g, w)
			}
			shallow, err := os.ReadFile(filepath.Join(got.Root, "repo.git", "shallow"))
			if err != nil || strings.TrimSpace(string(shallow)) != got.BaseCommit {
				t.Fatalf("shallow = %q, %v", shallow, err)
			}
			must(t, got.PrepareSandbox(ctx))
			if out := gitCLI(t, got.WorkTree, "status", "--porcelain"); out != "" {
				t.Fatalf("sandbox git status not clean:\n%s", out)
			}
		})
	}
	// Neither the token nor the URL is anywhere in the cache.
	assertNotInDir(t, m.Dir, testToken)
	assertNotInDir(t, m.Dir, s.URL())
}

// assertNotInDir fails when any file under dir contains s.
func assertNotInDir(t *testing.T, dir, s string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) || strings.Contains(p, s) {
			t.Errorf("%s holds %q", p, s)
		}
		return nil
	})
	must(t, err)
}

func TestMirrorFetchesNewCommits(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	m := &Mirrors{Dir: t.TempDir()}
	opts := func() CloneOptions {
		return CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()}
	}
	_, err := cloneMirror(ctx, t, m, opts())
	must(t, err)
	packs := func() int {
		ps, _ := filepath.Glob(filepath.Join(m.Dir, "*.git", "objects", "pack", "*.pack"))
		return len(ps)
	}
	before := packs()
	head, err := s.Commit(ctx, testRepo, "main", "more", []testgit.File{{Path: "NEW.md", Content: "new\n"}})
	must(t, err)
	ws, err := cloneMirror(ctx, t, m, opts())
	must(t, err)
	if ws.BaseCommit != head {
		t.Fatalf("base %s, want the new head %s", ws.BaseCommit, head)
	}
	if b, err := os.ReadFile(filepath.Join(ws.WorkTree, "NEW.md")); err != nil || string(b) != "new\n" {
		t.Fatalf("NEW.md = %q, %v", b, err)
	}
	// Only what is new was fetched: one more (small) pack, nothing re-fetched.
	if after := packs(); after != before+1 {
		t.Fatalf("packs %d → %d, want one new pack", before, after)
	}
	// Nothing new: no new pack.
	_, err = cloneMirror(ctx, t, m, opts())
	must(t, err)
	if after := packs(); after != before+1 {
		t.Fatalf("an up-to-date fetch wrote a pack (%d packs)", after)
	}
}

func TestMirrorConcurrentRuns(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	m := &Mirrors{Dir: t.TempDir()}
	want, err := s.Ref(ctx, testRepo, "refs/heads/main")
	must(t, err)
	const runs = 8
	var wg sync.WaitGroup
	wss := make([]*Workspace, runs)
	errs := make([]error, runs)
	for i := range runs {
		root := t.TempDir()
		wg.Go(func() {
			wss[i], errs[i] = cloneMirror(ctx, t, m, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: root})
		})
	}
	wg.Wait()
	var first string
	for i := range runs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		if wss[i].BaseCommit != want {
			t.Fatalf("run %d: base %s, want %s", i, wss[i].BaseCommit, want)
		}
		tree := fmt.Sprint(treeOf(t, wss[i].WorkTree))
		if first == "" {
			first = tree
		} else if tree != first {
			t.Fatalf("run %d: work tree differs", i)
		}
		must(t, wss[i].PrepareSandbox(ctx))
	}
	if dirs, _ := filepath.Glob(filepath.Join(m.Dir, "*.git")); len(dirs) != 1 {
		t.Fatalf("%d mirrors for one repository", len(dirs))
	}
	// With overlays, the eight runs share one cached checkout, built once.
	if m.overlayWanted() {
		if trees := cachedTrees(t, m); len(trees) != 1 {
			t.Fatalf("%d cached checkouts for one commit", len(trees))
		}
		for i := range runs {
			if !isOverlay(t, wss[i].WorkTree) {
				t.Fatalf("run %d: work tree is not an overlay", i)
			}
		}
	}
}

func TestMirrorEviction(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	_, err := s.CreateRepoFiles(ctx, "octo/other", baseFiles)
	must(t, err)
	_, err = s.CreateRepoFiles(ctx, "octo/third", baseFiles)
	must(t, err)
	// The bound holds any one mirror but not two.
	probe := &Mirrors{Dir: t.TempDir()}
	ws, err := probe.Clone(ctx, CloneOptions{URL: s.Path(testRepo), Root: t.TempDir()})
	must(t, err)
	must(t, ws.Close())
	one, err := probe.Size()
	must(t, err)
	m := &Mirrors{Dir: t.TempDir(), MaxBytes: one + one/2}
	clone := func(repo string) {
		t.Helper()
		ws, err := m.Clone(ctx, CloneOptions{URL: s.Path(repo), Root: t.TempDir()})
		must(t, err)
		must(t, ws.Close()) // the run is over: its checkout is free
	}
	has := func(repo string) bool {
		_, err := os.Stat(m.mirrorDir(mirrorKey(s.Path(repo))))
		return err == nil
	}
	clone(testRepo)
	clone("octo/other")
	if has(testRepo) || !has("octo/other") {
		t.Fatalf("after a second repository: first kept %v, second kept %v; want only the second", has(testRepo), has("octo/other"))
	}
	if size, _ := m.Size(); size > m.MaxBytes {
		t.Fatalf("cache %d bytes over its bound %d", size, m.MaxBytes)
	}
	// A mirror in use (its lock held) is never evicted.
	lock, err := lockFile(ctx, m.lockPath(mirrorKey(s.Path("octo/other"))), false)
	must(t, err)
	clone("octo/third")
	if !has("octo/other") || !has("octo/third") {
		t.Fatal("a mirror in use was evicted")
	}
	must(t, lock.unlock())
	clone(testRepo)
	if has("octo/other") || has("octo/third") || !has(testRepo) {
		t.Fatal("least recently used mirrors not evicted once free")
	}
}

func TestMirrorDamagedIsRefetched(t *testing.T) {
	ctx := context.Background()
	damage := map[string]func(t *testing.T, dir string){
		"packs truncated": func(t *testing.T, dir string) {
			ps, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
			if len(ps) == 0 {
				t.Fatal("no pack")
			}
			for _, p := range ps {
				must(t, os.Truncate(p, 40))
			}
		},
		"objects removed": func(t *testing.T, dir string) {
			must(t, os.RemoveAll(filepath.Join(dir, "objects")))
			must(t, os.MkdirAll(filepath.Join(dir, "objects", "pack"), 0o700))
		},
		"garbage HEAD and refs": func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "HEAD"), []byte("garbage"), 0o600))
			must(t, os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o700))
			must(t, os.WriteFile(filepath.Join(dir, "refs", "heads", "main"), []byte(strings.Repeat("ab", 20)+"\n"), 0o600))
		},
	}
	for name, breakIt := range damage {
		t.Run(name, func(t *testing.T) {
			s := newServer(t)
			m := &Mirrors{Dir: t.TempDir()}
			opts := func() CloneOptions {
				return CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()}
			}
			want, err := cloneMirror(ctx, t, m, opts())
			must(t, err)
			breakIt(t, m.mirrorDir(mirrorKey(s.CloneURL(testRepo))))
			got, err := cloneMirror(ctx, t, m, opts())
			if err != nil {
				t.Fatalf("clone from a damaged mirror: %v", err)
			}
			if got.BaseCommit != want.BaseCommit {
				t.Fatalf("base %s, want %s", got.BaseCommit, want.BaseCommit)
			}
			if g, w := fmt.Sprint(treeOf(t, got.WorkTree)), fmt.Sprint(treeOf(t, want.WorkTree)); g != w {
				t.Fatalf("work trees differ:\n%s\n%s", g, w)
			}
			must(t, got.PrepareSandbox(ctx))
		})
	}
}

func TestCheckPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"a": true, "a/b.txt": true, ".github/x": true, ".gitignore": true,
		"": false, "..": false, "a/../b": false, ".git": false, "a/.GIT/config": false, "a//b": false, "./a": false,
	} {
		if err := checkPath(p); (err == nil) != ok {
			t.Errorf("checkPath(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}

// Both blob readers give the same work tree and the same run pack.
func TestMirrorReadersAgree(t *testing.T) {
	if !gitAvailable() {
		t.Skip("no git CLI")
	}
	ctx := context.Background()
	s := newServer(t)
	_, err := s.Commit(ctx, testRepo, "main", "dup", []testgit.File{{Path: "dir/copy.txt", Content: "a\n"}, {Path: "exec2", Content: "#!/bin/sh\n", Mode: 0o755}})
	must(t, err)
	dir := t.TempDir()
	var trees, packs []string
	for _, reader := range []string{ReaderGit, ReaderGoGit} {
		m := &Mirrors{Dir: dir, Reader: reader}
		ws, err := cloneMirror(ctx, t, m, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir()})
		if err != nil {
			t.Fatalf("%s: %v", reader, err)
		}
		trees = append(trees, fmt.Sprint(treeOf(t, ws.WorkTree)))
		// The same objects (the order in the pack may differ): the sorted
		// names in the index, after its header and fan-out table.
		idx, err := os.ReadFile(strings.TrimSuffix(ws.basePack, ".pack") + ".idx")
		must(t, err)
		n := int(idx[8+255*4])<<24 | int(idx[8+255*4+1])<<16 | int(idx[8+255*4+2])<<8 | int(idx[8+255*4+3])
		packs = append(packs, string(idx[8+256*4:8+256*4+20*n]))
		must(t, ws.PrepareSandbox(ctx))
		gitCLI(t, ws.WorkTree, "fsck", "--strict")
		if out := gitCLI(t, ws.WorkTree, "status", "--porcelain"); out != "" {
			t.Fatalf("%s: sandbox not clean:\n%s", reader, out)
		}
	}
	if trees[0] != trees[1] {
		t.Fatalf("work trees differ:\ngit    %s\ngo-git %s", trees[0], trees[1])
	}
	if packs[0] != packs[1] {
		t.Fatal("run packs hold different objects")
	}
}

// cloneMirror is m.Clone, closing the workspace (its overlay, when it has
// one) when the test ends, before its temporary directories go.
func cloneMirror(ctx context.Context, t *testing.T, m *Mirrors, opts CloneOptions) (*Workspace, error) {
	ws, err := m.Clone(ctx, opts)
	if err == nil {
		t.Cleanup(func() {
			if err := ws.Close(); err != nil {
				t.Errorf("close workspace: %v", err)
			}
		})
	}
	return ws, err
}
