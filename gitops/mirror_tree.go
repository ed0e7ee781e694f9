package gitops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Overlay values of Mirrors.Overlay: how a run's work tree is made.
const (
	// OverlayAuto mounts the work tree as an overlay over a checkout
	// cached per base tree, when the process may mount (root on Linux),
	// and writes the files otherwise.
	OverlayAuto = ""
	// OverlayOff always writes the work tree's files into the run
	// directory.
	OverlayOff = "off"
)

// errNoOverlay marks a process or kernel that cannot mount an overlay:
// the work tree is then written file by file.
var errNoOverlay = errors.New("overlay unavailable")

// FileOwner is a numeric user and group.
type FileOwner struct{ UID, GID int }

// defaultMaxTrees is how many cached checkouts a repository keeps when
// Mirrors.MaxTrees is 0.
const defaultMaxTrees = 3

// Cached checkouts live beside their mirror: Dir/KEY.trees/TREE holds
// work/ (the base tree's files, owned by Mirrors.Owner) and repo.git/ (a
// pack of exactly the base tree's trees and blobs). Dir/KEY.trees/TREE.lock
// is held shared by every run whose overlay has TREE as its lower layer and
// exclusive by whoever builds or removes it; it is opened only under the
// mirror's own lock, so removing it with the entry cannot race a run that
// is about to take it. TREE.size records the entry's bytes (it never
// changes), so eviction does not walk ten thousand files.
const (
	treesSuffix   = ".trees"
	treeSizeExt   = ".size"
	treeTmpMarker = ".tmp-"
)

func (m *Mirrors) treesDir(key string) string { return filepath.Join(m.Dir, key+treesSuffix) }

// overlayWanted reports whether runs should get overlay work trees.
func (m *Mirrors) overlayWanted() bool {
	return m.Overlay != OverlayOff && canOverlay()
}

// treeEntry is a cached checkout a run is using: its lock is held shared
// until the run's overlay is gone.
type treeEntry struct {
	dir  string // Dir/KEY.trees/TREE
	pack string // the base tree's pack in dir/repo.git
	lock *fileLock
}

// work is the entry's work tree: the overlay's lower layer.
func (e *treeEntry) work() string { return filepath.Join(e.dir, workDirName) }

// index is the entry's index of its work tree, for the sandbox's .git.
func (e *treeEntry) index() string { return filepath.Join(e.dir, sandboxIndexName) }

// sandboxIndexName is the cached checkout's index file.
const sandboxIndexName = "sandbox.index"

// checkoutEntry returns the cached checkout of c's tree, building it from
// the mirror at mirrorDir when missing, with its lock held shared. A tree
// that exceeds bounds is refused (ErrTreeTooLarge): before it is built,
// measured from its objects; when cached, by the measure recorded with
// it. The caller holds the mirror's lock (shared).
func (m *Mirrors) checkoutEntry(ctx context.Context, key, mirrorDir string, c *object.Commit, branch string, bounds treeBounds) (*treeEntry, error) {
	trees := m.treesDir(key)
	if err := os.MkdirAll(trees, 0o700); err != nil {
		return nil, fmt.Errorf("checkout cache: %w", err)
	}
	name := c.TreeHash.String()
	e := &treeEntry{dir: filepath.Join(trees, name)}
	lockPath := e.dir + lockSuffix
	lock, err := lockFile(ctx, lockPath, false)
	if err != nil {
		return nil, fmt.Errorf("checkout cache: %w", err)
	}
	pack, err := entryPack(e.dir)
	if err != nil {
		// Missing (or left incomplete by a crash, which rename rules out
		// but a damaged disk does not): build it under the exclusive lock,
		// unless another run built it while this one waited.
		if err := lock.set(ctx, true); err != nil {
			_ = lock.unlock()
			return nil, fmt.Errorf("checkout cache: %w", err)
		}
		if pack, err = entryPack(e.dir); err != nil {
			pack, err = m.buildEntry(ctx, mirrorDir, c, branch, e.dir, bounds)
		} else {
			err = checkEntrySize(ctx, e.dir, mirrorDir, c.TreeHash, bounds)
		}
		if err == nil {
			err = lock.set(ctx, false)
		}
		if err != nil {
			_ = lock.unlock()
			return nil, err
		}
	} else if err := checkEntrySize(ctx, e.dir, mirrorDir, c.TreeHash, bounds); err != nil {
		_ = lock.unlock()
		return nil, err
	}
	now := time.Now()
	_ = os.Chtimes(lockPath, now, now) // the LRU clock
	e.pack, e.lock = pack, lock
	return e, nil
}

// entryPack finds the pack of a complete entry at dir.
func entryPack(dir string) (string, error) {
	packs, err := filepath.Glob(filepath.Join(dir, repoDirName, "objects", "pack", "pack-*.pack"))
	if err != nil {
		return "", err
	}
	if len(packs) != 1 {
		return "", fmt.Errorf("checkout cache %s: %d packs, want 1", dir, len(packs))
	}
	if fi, err := os.Stat(filepath.Join(dir, workDirName)); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("checkout cache %s: no work tree", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, sandboxIndexName)); err != nil {
		return "", fmt.Errorf("checkout cache %s: no index", dir)
	}
	return packs[0], nil
}

// buildEntry materialises c into a temporary directory beside dest, gives
// the work tree to m.Owner and renames it into place: an entry either is
// whole or does not exist. It returns the entry's pack.
func (m *Mirrors) buildEntry(ctx context.Context, mirrorDir string, c *object.Commit, branch, dest string, bounds treeBounds) (string, error) {
	// Measured before anything is written: a git bomb ends here.
	src := mirrorReader(mirrorDir)
	size, err := measureTree(ctx, src, c.TreeHash, bounds)
	src.Close()
	if err != nil {
		return "", measureError(err)
	}
	// A crash while building leaves a temporary directory: nobody else
	// builds this entry now (the lock is exclusive), so any is stale.
	if stale, _ := filepath.Glob(dest + treeTmpMarker + "*"); len(stale) > 0 {
		for _, s := range stale {
			_ = os.RemoveAll(s)
		}
	}
	_ = os.RemoveAll(dest) // an incomplete entry, if any
	tmp, err := os.MkdirTemp(filepath.Dir(dest), filepath.Base(dest)+treeTmpMarker)
	if err != nil {
		return "", fmt.Errorf("checkout cache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	work := filepath.Join(tmp, workDirName)
	if err := os.Mkdir(work, 0o755); err != nil {
		return "", fmt.Errorf("checkout cache: %w", err)
	}
	if _, _, err := materialise(ctx, mirrorDir, c.Hash, branch, filepath.Join(tmp, repoDirName), work, m.useGit(), nil); err != nil {
		return "", err
	}
	if err := writeTreeSize(filepath.Join(tmp, treeMeasureName), size); err != nil {
		return "", fmt.Errorf("checkout cache: %w", err)
	}
	if m.Owner != nil {
		if err := chownTree(work, *m.Owner); err != nil {
			return "", fmt.Errorf("checkout cache: %w", err)
		}
	}
	// The sandbox's index, with the stat data of the files as they now
	// are (owner changed, which changes their ctime).
	repo := filesystem.NewStorage(osfs.New(filepath.Join(tmp, repoDirName)), cache.NewObjectLRUDefault())
	bi, err := indexTree(repo, c.TreeHash)
	if err != nil {
		return "", fmt.Errorf("checkout cache: %w", err)
	}
	if err := writeIndexFile(filepath.Join(tmp, sandboxIndexName), work, bi); err != nil {
		return "", fmt.Errorf("checkout cache: index: %w", err)
	}
	if err := os.WriteFile(dest+treeSizeExt, []byte(strconv.FormatInt(dirSize(tmp), 10)), 0o600); err != nil {
		return "", fmt.Errorf("checkout cache: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return "", fmt.Errorf("checkout cache: %w", err)
	}
	ok = true
	return entryPack(dest)
}

// chownTree gives every entry under dir, dir included, to o, without
// following symlinks. Entries o already owns are left alone (on an
// overlay, a chown copies the file up).
func chownTree(dir string, o FileOwner) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == o.UID && int(st.Gid) == o.GID {
				return nil
			}
		}
		return os.Lchown(p, o.UID, o.GID)
	})
}

// overlayWorkspace makes the run's workspace from the cached checkout of
// base: repo.git written from the entry's pack, and work mounted as an
// overlay whose lower layer is the entry's work tree and whose upper layer
// is in the run directory (so the run's writes count against its bounded
// mount). Nothing the sandbox does reaches the entry: overlayfs copies a
// file up before the first write. The caller holds the mirror's lock.
func (m *Mirrors) overlayWorkspace(ctx context.Context, key, mirrorDir string, base plumbing.Hash, branch, root, repoDir, work string, bounds treeBounds) (*Workspace, error) {
	src := mirrorReader(mirrorDir)
	c, err := object.GetCommit(src, base)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMirror, err)
	}
	e, err := m.checkoutEntry(ctx, key, mirrorDir, c, branch, bounds)
	if err != nil {
		return nil, err
	}
	release := func() error { return e.lock.unlock() }
	pack, err := writeRunRepo(repoDir, c, branch, e.pack)
	if err != nil {
		_ = release()
		return nil, err
	}
	layers := filepath.Join(root, overlayDirName)
	upper, scratch := filepath.Join(layers, "upper"), filepath.Join(layers, "work")
	for _, d := range []string{layers, upper, scratch} {
		if err := os.Mkdir(d, 0o700); err != nil {
			_ = release()
			return nil, fmt.Errorf("overlay: %w", err)
		}
	}
	// The merged root takes the upper root's mode and owner.
	if err := os.Chmod(upper, 0o755); err != nil {
		_ = release()
		return nil, fmt.Errorf("overlay: %w", err)
	}
	if err := mountOverlay(e.work(), upper, scratch, work); err != nil {
		_ = release()
		return nil, err
	}
	ws := &Workspace{Root: root, WorkTree: work, BaseCommit: base.String(), Branch: branch, basePack: pack, sandboxIndex: e.index(), bounds: bounds}
	ws.release = func() error {
		return errors.Join(unmountOverlay(work), release())
	}
	return ws, nil
}

// overlayDirName is the run directory's host-only overlayfs layers.
const overlayDirName = ".overlay"

// treeInfo is one cached checkout, for eviction.
type treeInfo struct {
	dir  string
	size int64
	used time.Time
}

// trees lists key's cached checkouts, least recently used first.
func (m *Mirrors) trees(key string) ([]treeInfo, error) {
	dir := m.treesDir(key)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list checkouts: %w", err)
	}
	var out []treeInfo
	for _, d := range entries {
		if !d.IsDir() || !plumbing.IsHash(d.Name()) {
			continue
		}
		p := filepath.Join(dir, d.Name())
		in := treeInfo{dir: p}
		if b, err := os.ReadFile(p + treeSizeExt); err == nil {
			in.size, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		} else {
			in.size = dirSize(p)
		}
		if fi, err := os.Stat(p + lockSuffix); err == nil {
			in.used = fi.ModTime()
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].used.Before(out[j].used) })
	return out, nil
}

// removeTree removes a cached checkout nobody is using: false when one is
// (its lock is held). The caller holds the mirror's lock exclusive, so no
// run is about to open the entry's lock file, which goes too.
func removeTree(t treeInfo) (bool, error) {
	if _, err := os.Lstat(t.dir); errors.Is(err, fs.ErrNotExist) {
		return true, nil // gone with its mirror
	}
	lock, ok, err := tryLockFile(t.dir + lockSuffix)
	if err != nil || !ok {
		return false, err
	}
	defer func() { _ = lock.unlock() }()
	// Renamed first, so that a crash halfway through leaves a stale
	// temporary directory (cleaned by the next build) and not an entry
	// missing files.
	trash := t.dir + treeTmpMarker + "evicted"
	_ = os.RemoveAll(trash)
	if err := os.Rename(t.dir, trash); err != nil {
		return false, fmt.Errorf("evict checkout: %w", err)
	}
	err = errors.Join(os.RemoveAll(trash), os.Remove(t.dir+treeSizeExt), os.Remove(t.dir+lockSuffix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return true, fmt.Errorf("evict checkout: %w", err)
	}
	return true, nil
}

// treeMeasureName is the cached checkout's record of its tree's measure
// (bytes, entries, longest path), so a warm start checks the run's bounds
// without reading the tree again.
const treeMeasureName = "tree.measure"

func writeTreeSize(p string, s treeSize) error {
	return os.WriteFile(p, fmt.Appendf(nil, "%d %d %d\n", s.bytes, s.entries, s.path), 0o600)
}

func readTreeSize(p string) (treeSize, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return treeSize{}, err
	}
	var s treeSize
	if _, err := fmt.Sscanf(string(b), "%d %d %d\n", &s.bytes, &s.entries, &s.path); err != nil {
		return treeSize{}, fmt.Errorf("%s: %w", p, err)
	}
	return s, nil
}

// checkEntrySize refuses the cached checkout at dir when its tree exceeds
// bounds, by its recorded measure, or, for an entry cached before
// measures were recorded, by measuring the tree in the mirror.
func checkEntrySize(ctx context.Context, dir, mirrorDir string, tree plumbing.Hash, bounds treeBounds) error {
	if bounds == (treeBounds{}) {
		return nil
	}
	if s, err := readTreeSize(filepath.Join(dir, treeMeasureName)); err == nil {
		if bounds.exceeded(s) {
			m := &measurer{b: bounds}
			return m.tooLarge(s)
		}
		return nil
	}
	src := mirrorReader(mirrorDir)
	defer src.Close()
	_, err := measureTree(ctx, src, tree, bounds)
	return measureError(err)
}
