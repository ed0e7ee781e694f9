package gitops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/agentgate/agentgate/internal/testgit"
)

// gitBomb makes branch "main" of the bare repository at dir a git bomb
// (see bombTree) and returns how many files the tree expands to and
// their bytes.
func gitBomb(t *testing.T, dir string, blobSize, fanout, levels int) (files, bytes int64) {
	t.Helper()
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	h, files, bytes := bombTree(t, st, blobSize, fanout, levels)
	sig := object.Signature{Name: "bomb", Email: "bomb@example.test", When: time.Unix(1e9, 0)}
	c := storeObj(t, st, &object.Commit{Author: sig, Committer: sig, Message: "boom\n", TreeHash: h})
	must(t, st.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), c)))
	must(t, st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))))
	return files, bytes
}

func storeObj(t *testing.T, st *filesystem.Storage, o interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	t.Helper()
	obj := st.NewEncodedObject()
	must(t, o.Encode(obj))
	h, err := st.SetEncodedObject(obj)
	must(t, err)
	return h
}

// bombTree writes into st one blob of blobSize bytes, a tree of fanout
// entries of it, a tree of fanout entries of that tree, and so on, levels
// deep, and returns the top tree with how many files it expands to and
// their bytes.
func bombTree(t *testing.T, st *filesystem.Storage, blobSize, fanout, levels int) (h plumbing.Hash, files, bytes int64) {
	t.Helper()
	content := []byte(strings.Repeat("boom\n", blobSize/5+1)[:blobSize])
	blob := st.NewEncodedObject()
	blob.SetType(plumbing.BlobObject)
	w, err := blob.Writer()
	must(t, err)
	_, err = w.Write(content)
	must(t, err)
	must(t, w.Close())
	h, err = st.SetEncodedObject(blob)
	must(t, err)
	mode := filemode.Regular
	files, bytes = 1, int64(blobSize)
	for level := 0; level < levels; level++ {
		tree := &object.Tree{}
		for i := range fanout {
			name := fmt.Sprintf("f%d", i)
			if mode == filemode.Dir {
				name = fmt.Sprintf("d%d", i)
			}
			tree.Entries = append(tree.Entries, object.TreeEntry{Name: name, Mode: mode, Hash: h})
		}
		h, mode = storeObj(t, st, tree), filemode.Dir
		files, bytes = files*int64(fanout), bytes*int64(fanout)
	}
	return h, files, bytes
}

// TestFetchedTreeBombRefused: the default branch's tree that a follow-up
// fetches (to restore instruction files and judge setup's inputs) is
// measured against the work tree's entries bound before it is indexed or
// compared: a git bomb there is refused at once. Positive control: the
// base tree itself is restored from and compared with.
func TestFetchedTreeBombRefused(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	ws, err := Clone(ctx, CloneOptions{URL: s.CloneURL(testRepo), Token: testToken, Root: t.TempDir(), MaxTreeBytes: 2 << 30, MaxTreeEntries: 200_000})
	must(t, err)
	st, err := ws.storage()
	must(t, err)
	bomb, _, _ := bombTree(t, st, 268, 10, 6)
	base, err := ws.base(st)
	must(t, err)
	for _, tt := range []struct {
		name string
		tree plumbing.Hash
		want error
	}{
		{"git bomb", bomb, ErrTreeTooLarge},
		{"the base tree", base.TreeHash, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var restoreErr, diffErr error
			within(t, 20*time.Second, func() {
				_, restoreErr = ws.RestoreFromTree(ctx, tt.tree.String(), []string{"AGENTS.md", "README.md"})
				_, diffErr = ws.ChangedFrom(ctx, tt.tree.String())
			})
			if !errors.Is(restoreErr, tt.want) || !errors.Is(diffErr, tt.want) {
				t.Errorf("RestoreFromTree: %v; ChangedFrom: %v; want %v", restoreErr, diffErr, tt.want)
			}
		})
	}
}

// duBytes is the bytes of the regular files under dir, skipping skip.
func duBytes(t *testing.T, dir, skip string) (n int64, files int) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && skip != "" && strings.HasSuffix(p, skip) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
				files++
			}
		}
		return nil
	})
	return n, files
}

// TestGitBombRefused: a repository whose tree is a git bomb (six levels of
// ten trees reusing one blob: a few kilobytes that expand to a million
// files) is refused with ErrTreeTooLarge, measured against the work
// tree's bounds before anything of it is written or cached, by every way
// a work tree is made; so is a tree whose few large blobs exceed the
// bytes bound. Positive control: the ordinary repository under the same
// bounds is checked out by each.
func TestGitBombRefused(t *testing.T) {
	ctx := context.Background()
	s, err := testgit.New(t.TempDir(), func(token, _ string, write bool) bool { return token == testToken && !write })
	must(t, err)
	t.Cleanup(s.Close)
	_, err = s.CreateRepoFiles(ctx, testRepo, baseFiles)
	must(t, err)
	const blobSize = 268
	for _, name := range []string{"octo/bomb", "octo/heavy"} {
		_, err := s.CreateRepoFiles(ctx, name, []testgit.File{{Path: "x", Content: "x\n"}})
		must(t, err)
	}
	files, expanded := gitBomb(t, s.Path("octo/bomb"), blobSize, 10, 6)
	heavyFiles, heavyBytes := gitBomb(t, s.Path("octo/heavy"), 1<<20, 10, 4) // 10000 files of 1 MiB
	packed, _ := duBytes(t, filepath.Join(s.Path("octo/bomb"), "objects"), "")
	t.Logf("git bomb: %d bytes of objects expand to %d files, %d bytes", packed, files, expanded)
	t.Logf("heavy tree: %d files, %d bytes", heavyFiles, heavyBytes)

	bounds := func(o CloneOptions) CloneOptions {
		o.MaxTreeBytes, o.MaxTreeEntries = 2<<30, 200_000 // the defaults of workspace-size and workspace-inodes
		return o
	}
	type cloner struct {
		name  string
		clone func(t *testing.T, o CloneOptions) (*Workspace, *Mirrors, error)
	}
	mirror := func(overlay string) func(t *testing.T, o CloneOptions) (*Workspace, *Mirrors, error) {
		return func(t *testing.T, o CloneOptions) (*Workspace, *Mirrors, error) {
			m := &Mirrors{Dir: t.TempDir(), Overlay: overlay}
			ws, err := cloneMirror(ctx, t, m, o)
			return ws, m, err
		}
	}
	cloners := []cloner{
		{"clone", func(t *testing.T, o CloneOptions) (*Workspace, *Mirrors, error) {
			ws, err := Clone(ctx, o)
			return ws, nil, err
		}},
		{"mirror files written", mirror(OverlayOff)},
		{"mirror overlay over a cached checkout", mirror(OverlayAuto)},
	}
	repos := []struct {
		repo    string
		errText string // "" = the clone works
	}{
		{"octo/bomb", "files and directories, more than"},
		{"octo/heavy", "bytes (files in whole 4 KiB blocks), more than"},
		{testRepo, ""},
	}
	for _, c := range cloners {
		for _, r := range repos {
			t.Run(c.name+"/"+r.repo, func(t *testing.T) {
				if strings.Contains(c.name, "overlay") {
					needOverlay(t)
				}
				root := t.TempDir()
				start := time.Now()
				var ws *Workspace
				var m *Mirrors
				var err error
				within(t, 60*time.Second, func() {
					ws, m, err = c.clone(t, bounds(CloneOptions{URL: s.CloneURL(r.repo), Token: testToken, Root: root}))
				})
				took := time.Since(start)
				written, n := duBytes(t, filepath.Join(root, workDirName), "")
				if _, err := os.Stat(filepath.Join(root, workDirName, ".git")); err == nil {
					written, n = written-fileSize(t, filepath.Join(root, workDirName, ".git")), n-1 // go-git's link, not the tree
				}
				cached := int64(0)
				if m != nil {
					cached, _ = duBytes(t, m.Dir, mirrorSuffix) // checkouts, not the mirror
				}
				if r.errText == "" {
					must(t, err)
					if strings.Contains(c.name, "overlay") && !isOverlay(t, ws.WorkTree) {
						t.Fatal("the work tree is not an overlay")
					}
					if _, err := os.Stat(filepath.Join(ws.WorkTree, "README.md")); err != nil {
						t.Fatalf("the ordinary repository's work tree: %v", err)
					}
					return
				}
				t.Logf("refused in %v: %d bytes in %d files written in the run directory, %d bytes cached beside the mirror: %v", took.Round(time.Millisecond), written, n, cached, err)
				if !errors.Is(err, ErrTreeTooLarge) || !strings.Contains(err.Error(), r.errText) {
					t.Fatalf("err = %v, want ErrTreeTooLarge (%s)", err, r.errText)
				}
				if written > 0 || cached > 0 {
					t.Errorf("%d bytes written in the run's work tree, %d cached, before the refusal", written, cached)
				}
				if m != nil && len(cachedTrees(t, m)) != 0 {
					t.Errorf("a checkout was cached: %q", cachedTrees(t, m))
				}
			})
		}
	}
}

func fileSize(t *testing.T, p string) int64 {
	fi, err := os.Stat(p)
	must(t, err)
	return fi.Size()
}

// TestMeasureTree: sizes, the bounds each way, long paths and a
// cancelled context, on trees built in memory.
func TestMeasureTree(t *testing.T) {
	dir := t.TempDir()
	gitCLI(t, dir, "init", "-q", "--bare")
	_, _ = gitBomb(t, dir, 100, 3, 2) // 9 files of 100 bytes, 3 directories
	head := strings.TrimSpace(gitCLI(t, dir, "rev-parse", "main^{tree}"))
	tree := plumbing.NewHash(head)
	tests := []struct {
		name   string
		ctx    func() context.Context
		bounds treeBounds
		want   treeSize
		err    error
	}{
		{"unbounded", context.Background, treeBounds{}, treeSize{bytes: 9 * treeBlock, entries: 13, path: len("d0/f0")}, nil},
		{"exactly fits", context.Background, treeBounds{bytes: 9 * treeBlock, entries: 13}, treeSize{bytes: 9 * treeBlock, entries: 13, path: 5}, nil},
		{"one entry too many", context.Background, treeBounds{entries: 12}, treeSize{}, ErrTreeTooLarge},
		{"one block too many", context.Background, treeBounds{bytes: 9*treeBlock - 1}, treeSize{}, ErrTreeTooLarge},
		{"cancelled", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, treeBounds{}, treeSize{}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := mirrorReader(dir)
			defer st.Close()
			got, err := measureTree(tt.ctx(), st, tree, tt.bounds)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("measureTree = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
