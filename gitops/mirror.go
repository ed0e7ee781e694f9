package gitops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Mirrors is a cache of bare repositories, one per remote URL, under Dir.
// A run fetches only what is new into its repository's mirror and then
// materialises its workspace from the mirror without network: the same
// layout as Clone (Root/repo.git holding the base commit and its tree,
// Root/work the checked-out files, no .git in the work tree).
//
// The mirror is the host's alone: it is never mounted into a sandbox, and
// nothing a run writes goes into it (harvested objects go to the run's own
// repo.git). Its configuration holds no remote and no credentials: the
// URL and token are passed to each fetch. Runs on one repository are
// serialised only while fetching (an exclusive flock per mirror);
// materialising holds a shared lock. When the mirrors' total size exceeds
// MaxBytes, the least recently used ones not in use are removed.
type Mirrors struct {
	Dir      string // created when missing
	MaxBytes int64  // 0 = unbounded
	// Reader reads the blobs of the work tree from the mirror: ReaderGit
	// (the default when the git CLI is installed) or ReaderGoGit.
	Reader string
	// Overlay says how a run's work tree is made: OverlayAuto (the
	// default) mounts an overlay over a checkout cached per base tree when
	// the process may mount, so a warm start writes no file of the tree;
	// OverlayOff writes every file into the run directory.
	Overlay string
	// Owner, when set, owns the cached checkouts' files (the sandbox
	// user), so the agent writes them without first copying each one up
	// to change its owner.
	Owner *FileOwner
	// MaxTrees is how many cached checkouts each repository keeps, least
	// recently used dropped first (default 3). MaxBytes bounds them too.
	MaxTrees int
	Logger   *slog.Logger

	overlayOnce sync.Once // the fallback to writing files is logged once
}

// mirrorSuffix, lockSuffix name a mirror's directory and its lock file.
const (
	mirrorSuffix = ".git"
	lockSuffix   = ".lock"
)

// errMirror marks a failure to read the mirror's own objects or refs:
// the mirror is then discarded and fetched again from scratch.
var errMirror = errors.New("mirror damaged")

// Clone is Clone through the mirror cache: fetch what is new into the
// mirror of opts.URL, then materialise opts.Root from it. A damaged mirror
// is discarded and fetched again from scratch once.
func (m *Mirrors) Clone(ctx context.Context, opts CloneOptions) (*Workspace, error) {
	if m == nil || m.Dir == "" {
		return nil, errors.New("mirror clone: no cache directory")
	}
	root, repoDir, work, err := newRunDirs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("mirror clone: %w", err)
	}
	url, auth, err := endpoint(opts.URL, opts.Token)
	if err != nil {
		return nil, fmt.Errorf("mirror clone: %w", err)
	}
	if opts.Branch != "" {
		if err := plumbing.NewBranchReferenceName(opts.Branch).Validate(); err != nil {
			return nil, fmt.Errorf("mirror clone: branch %q: %w", opts.Branch, err)
		}
	}
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("mirror clone: %w", err)
	}
	key := mirrorKey(url)
	var ws *Workspace
	for attempt := 0; ; attempt++ {
		ws, err = m.cloneOnce(ctx, key, url, auth, opts.Branch, root, repoDir, work, opts.bounds())
		if err == nil || !errors.Is(err, errMirror) || attempt > 0 || ctx.Err() != nil {
			break
		}
		m.logger().WarnContext(ctx, "mirror: damaged; fetching it again from scratch", "mirror", key, "err", err)
		if err := m.discard(ctx, key); err != nil {
			return nil, fmt.Errorf("mirror clone: %w", err)
		}
		if err := resetRunDirs(root, repoDir, work); err != nil {
			return nil, fmt.Errorf("mirror clone: %w", err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mirror clone: %w", err)
	}
	if err := m.evict(ctx, key); err != nil {
		m.logger().WarnContext(ctx, "mirror: eviction failed", "err", err)
	}
	return ws, nil
}

// useGit reports whether blobs are read with the git CLI.
func (m *Mirrors) useGit() bool {
	switch m.Reader {
	case ReaderGit:
		return true
	case ReaderGoGit:
		return false
	}
	return gitAvailable()
}

func (m *Mirrors) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

// mirrorKey names the mirror of a remote URL: a hash, so that no part of
// the URL becomes a path.
func mirrorKey(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:16])
}

func (m *Mirrors) mirrorDir(key string) string { return filepath.Join(m.Dir, key+mirrorSuffix) }
func (m *Mirrors) lockPath(key string) string  { return filepath.Join(m.Dir, key+lockSuffix) }

// cloneOnce fetches into the mirror under its exclusive lock, then
// materialises the run's directories under a shared one.
func (m *Mirrors) cloneOnce(ctx context.Context, key, url string, auth transport.AuthMethod, branch, root, repoDir, work string, bounds treeBounds) (*Workspace, error) {
	lock, err := lockFile(ctx, m.lockPath(key), true)
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.unlock() }()
	dir := m.mirrorDir(key)
	branch, base, err := fetchMirror(ctx, dir, url, auth, branch)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	_ = os.Chtimes(m.lockPath(key), now, now) // the LRU clock
	if err := lock.set(ctx, false); err != nil {
		return nil, err
	}
	if m.overlayWanted() {
		ws, err := m.overlayWorkspace(ctx, key, dir, base, branch, root, repoDir, work, bounds)
		if !errors.Is(err, errNoOverlay) {
			return ws, err
		}
		m.overlayOnce.Do(func() {
			m.logger().WarnContext(ctx, "mirror: overlay work trees unavailable; writing each run's files instead", "err", err)
		})
		if err := resetRunDirs(root, repoDir, work); err != nil {
			return nil, err
		}
	}
	pack, _, err := materialise(ctx, dir, base, branch, repoDir, work, m.useGit(), &bounds)
	if err != nil {
		return nil, err
	}
	return &Workspace{Root: root, WorkTree: work, BaseCommit: base.String(), Branch: branch, basePack: pack, bounds: bounds}, nil
}

// openMirror opens the bare repository at dir, creating it when missing.
func openMirror(dir string) (*filesystem.Storage, error) {
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return st, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if _, err := git.Init(st, nil); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	return st, nil
}

// fetchMirror brings branch (the remote's HEAD when empty) of url into the
// mirror at dir and returns the branch and its commit. Only objects the
// mirror lacks are transferred. The URL and token are used for this fetch
// only: nothing about the remote is written to the mirror's config.
func fetchMirror(ctx context.Context, dir, url string, auth transport.AuthMethod, branch string) (string, plumbing.Hash, error) {
	st, err := openMirror(dir)
	if err != nil {
		return "", plumbing.ZeroHash, fmt.Errorf("%w: open: %w", errMirror, err)
	}
	remote := git.NewRemote(st, &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	var advertised plumbing.Hash // the branch's remote commit, when listed
	if branch == "" {
		refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
		if err != nil {
			return "", plumbing.ZeroHash, fmt.Errorf("list remote: %w", err)
		}
		branch, err = remoteHead(refs)
		if err != nil {
			return "", plumbing.ZeroHash, err
		}
		for _, r := range refs {
			if r.Name() == plumbing.NewBranchReferenceName(branch) && r.Type() == plumbing.HashReference {
				advertised = r.Hash()
			}
		}
	}
	ref := plumbing.NewBranchReferenceName(branch)
	// A ref whose commit or root tree is missing would make the fetch
	// claim objects the mirror does not have.
	if old, err := st.Reference(ref); err == nil {
		if err := checkCommit(st, old.Hash()); err != nil {
			return "", plumbing.ZeroHash, err
		}
		if old.Hash() == advertised {
			// Already up to date: the listing was the one round trip.
			return branch, old.Hash(), nil
		}
	}
	err = remote.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec("+" + ref.String() + ":" + ref.String())},
		Auth:       auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return "", plumbing.ZeroHash, fmt.Errorf("fetch: %w", err)
	}
	r, err := st.Reference(ref)
	if err != nil {
		return "", plumbing.ZeroHash, fmt.Errorf("%w: branch %s after fetch: %w", errMirror, branch, err)
	}
	if err := checkCommit(st, r.Hash()); err != nil {
		return "", plumbing.ZeroHash, err
	}
	return branch, r.Hash(), nil
}

// remoteHead is the branch the remote's HEAD points at.
func remoteHead(refs []*plumbing.Reference) (string, error) {
	for _, r := range refs {
		if r.Name() == plumbing.HEAD && r.Type() == plumbing.SymbolicReference && r.Target().IsBranch() {
			return r.Target().Short(), nil
		}
	}
	return "", errors.New("remote HEAD is not a branch; name the branch")
}

// checkCommit checks that h is a commit whose root tree is in st.
func checkCommit(st *filesystem.Storage, h plumbing.Hash) error {
	c, err := object.GetCommit(st, h)
	if err != nil {
		return fmt.Errorf("%w: commit %s: %w", errMirror, h, err)
	}
	if _, err := object.GetTree(st, c.TreeHash); err != nil {
		return fmt.Errorf("%w: tree of %s: %w", errMirror, h, err)
	}
	return nil
}

// newRunDirs checks root as Clone does and returns it with the paths of
// repo.git and work, creating work.
func newRunDirs(rootDir string) (root, repoDir, work string, err error) {
	if rootDir == "" {
		return "", "", "", errors.New("no root directory")
	}
	root, err = filepath.Abs(rootDir)
	if err != nil {
		return "", "", "", err
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return "", "", "", fmt.Errorf("root %s must be an existing directory", root)
	}
	repoDir, work = filepath.Join(root, repoDirName), filepath.Join(root, workDirName)
	for _, p := range []string{repoDir, work} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return "", "", "", fmt.Errorf("%s already exists", p)
		}
	}
	if err := os.Mkdir(work, 0o755); err != nil {
		return "", "", "", err
	}
	return root, repoDir, work, nil
}

// resetRunDirs empties what a failed attempt left: repo.git and the
// overlay layers removed, work emptied.
func resetRunDirs(root, repoDir, work string) error {
	if err := os.RemoveAll(repoDir); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(root, overlayDirName)); err != nil {
		return err
	}
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	return os.Mkdir(work, 0o755)
}

// discard removes a mirror under its exclusive lock.
func (m *Mirrors) discard(ctx context.Context, key string) error {
	lock, err := lockFile(ctx, m.lockPath(key), true)
	if err != nil {
		return err
	}
	defer func() { _ = lock.unlock() }()
	if err := os.RemoveAll(m.mirrorDir(key)); err != nil {
		return fmt.Errorf("discard mirror: %w", err)
	}
	// Checkouts built from it go too, unless a run is using one.
	trees, err := m.trees(key)
	if err != nil {
		return fmt.Errorf("discard mirror: %w", err)
	}
	for _, t := range trees {
		if _, err := removeTree(t); err != nil {
			return fmt.Errorf("discard mirror: %w", err)
		}
	}
	return nil
}

// cached is one evictable thing in the cache: a mirror (tree.dir == "")
// or one of its cached checkouts.
type cached struct {
	key  string
	tree treeInfo
	size int64
	used time.Time
}

// inventory lists every mirror and cached checkout, least recently used
// first, with their total size.
func (m *Mirrors) inventory() ([]cached, int64, error) {
	entries, err := os.ReadDir(m.Dir)
	if err != nil {
		return nil, 0, fmt.Errorf("list mirrors: %w", err)
	}
	var out []cached
	var total int64
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if key, ok := strings.CutSuffix(e.Name(), mirrorSuffix); ok {
			c := cached{key: key, size: dirSize(filepath.Join(m.Dir, e.Name()))}
			if fi, err := os.Stat(m.lockPath(key)); err == nil {
				c.used = fi.ModTime()
			}
			out = append(out, c)
			total += c.size
		}
		if key, ok := strings.CutSuffix(e.Name(), treesSuffix); ok {
			trees, err := m.trees(key)
			if err != nil {
				return nil, 0, err
			}
			for _, t := range trees {
				out = append(out, cached{key: key, tree: t, size: t.size, used: t.used})
				total += t.size
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].used.Before(out[j].used) })
	return out, total, nil
}

// evict trims the cache: each repository keeps at most MaxTrees cached
// checkouts, and while the total exceeds MaxBytes (when set) the least
// recently used mirrors and checkouts go, never one in use and never the
// mirror keep. A repository's mirror and checkouts change only under its
// exclusive lock, taken without waiting: a busy repository is skipped.
func (m *Mirrors) evict(ctx context.Context, keep string) error {
	items, total, err := m.inventory()
	if err != nil {
		return err
	}
	maxTrees := m.MaxTrees
	if maxTrees <= 0 {
		maxTrees = defaultMaxTrees
	}
	perKey := map[string]int{}
	for _, it := range items {
		if it.tree.dir != "" {
			perKey[it.key]++
		}
	}
	for _, it := range items { // least recently used first
		if ctx.Err() != nil {
			break
		}
		overCount := it.tree.dir != "" && perKey[it.key] > maxTrees
		overBytes := m.MaxBytes > 0 && total > m.MaxBytes && (it.tree.dir != "" || it.key != keep)
		if !overCount && !overBytes {
			continue
		}
		freed, err := m.evictOne(ctx, it)
		if err != nil {
			return err
		}
		if freed < 0 {
			continue // in use
		}
		total -= freed
		if it.tree.dir != "" {
			perKey[it.key]--
		}
	}
	return nil
}

// evictOne removes one mirror (with its checkouts) or one checkout, under
// the repository's exclusive lock. It returns the bytes freed, or -1 when
// the repository or the item is in use.
func (m *Mirrors) evictOne(ctx context.Context, it cached) (int64, error) {
	lock, ok, err := tryLockFile(m.lockPath(it.key))
	if err != nil || !ok {
		return -1, err
	}
	defer func() { _ = lock.unlock() }()
	m.removeStaleBuilds(it.key)
	if it.tree.dir != "" {
		if _, err := os.Lstat(it.tree.dir); errors.Is(err, fs.ErrNotExist) {
			return 0, nil // went with its mirror
		}
		gone, err := removeTree(it.tree)
		if err != nil || !gone {
			return -1, err
		}
		m.logger().InfoContext(ctx, "mirror: evicted a cached checkout", "mirror", it.key, "bytes", it.size)
		return it.size, nil
	}
	// A mirror goes with its checkouts, except those runs are using:
	// each run needs only its own checkout, and goes on without the
	// mirror.
	trees, err := m.trees(it.key)
	if err != nil {
		return -1, err
	}
	var freed int64
	for _, t := range trees {
		gone, err := removeTree(t)
		if err != nil {
			return -1, err
		}
		if gone {
			freed += t.size
		}
	}
	if err := os.RemoveAll(m.mirrorDir(it.key)); err != nil {
		return -1, fmt.Errorf("evict %s: %w", it.key, err)
	}
	_ = os.Remove(m.treesDir(it.key))
	m.logger().InfoContext(ctx, "mirror: evicted", "mirror", it.key, "bytes", it.size)
	return it.size + freed, nil
}

// removeStaleBuilds removes the temporary directories of checkouts whose
// build never finished. The caller holds the repository's exclusive lock,
// so no build is under way.
func (m *Mirrors) removeStaleBuilds(key string) {
	stale, _ := filepath.Glob(filepath.Join(m.treesDir(key), "*"+treeTmpMarker+"*"))
	for _, s := range stale {
		_ = os.RemoveAll(s)
	}
}

// dirSize is the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// Size is the cache's total size in bytes: mirrors and cached checkouts.
func (m *Mirrors) Size() (int64, error) {
	_, total, err := m.inventory()
	return total, err
}

// materialise writes the run's repo.git (a shallow repository of the base
// commit and its tree, as Clone leaves it) and checks the base tree out
// into work, reading only the mirror. Each blob is read once: written to
// the work tree and to repo.git's pack (written directly, with its index).
// It returns the pack's path: the base tree's trees and blobs, nothing
// else, which PrepareSandbox copies as it is. When bounds is set, the
// tree is measured against them first, before anything is written; nil
// says the caller did so.
func materialise(ctx context.Context, mirrorDir string, base plumbing.Hash, branch, repoDir, work string, useGit bool, bounds *treeBounds) (_ string, size treeSize, _ error) {
	src := mirrorReader(mirrorDir)
	defer src.Close()
	c, err := object.GetCommit(src, base)
	if err != nil {
		return "", size, fmt.Errorf("%w: %w", errMirror, err)
	}
	if bounds != nil {
		if size, err = measureTree(ctx, src, c.TreeHash, *bounds); err != nil {
			return "", size, measureError(err)
		}
	}
	bi, err := indexTree(src, c.TreeHash)
	if err != nil {
		return "", size, fmt.Errorf("%w: %w", errMirror, err)
	}
	st := filesystem.NewStorage(osfs.New(repoDir), cache.NewObjectLRUDefault())
	if _, err := git.Init(st, nil); err != nil {
		return "", size, fmt.Errorf("run repository: %w", err)
	}
	// The objects of the pack: every tree, every blob once.
	var trees []plumbing.Hash
	inPack := map[plumbing.Hash]bool{}
	for _, h := range bi.trees {
		if !inPack[h] {
			inPack[h] = true
			trees = append(trees, h)
		}
	}
	owner := map[plumbing.Hash]string{} // the path whose worker packs the blob
	paths := make([]string, 0, len(bi.files))
	for p := range bi.files {
		if err := checkPath(p); err != nil {
			return "", size, fmt.Errorf("checkout: %w", err)
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		e := bi.files[p]
		if e.mode == filemode.Submodule || inPack[e.hash] {
			continue
		}
		inPack[e.hash] = true
		owner[e.hash] = p
	}
	pw, err := newPackWriter(filepath.Join(repoDir, "objects", "pack"), len(inPack))
	if err != nil {
		return "", size, fmt.Errorf("run repository: %w", err)
	}
	for _, h := range trees {
		data, err := readObject(src, plumbing.TreeObject, h)
		if err != nil {
			pw.abort()
			return "", size, err
		}
		if err := pw.add(h, plumbing.TreeObject, data); err != nil {
			pw.abort()
			return "", size, fmt.Errorf("run repository: %w", err)
		}
	}
	blobs := make(chan packedBlob, 64)
	packErr := make(chan error, 1)
	go func() {
		var err error
		for b := range blobs {
			if err == nil {
				err = pw.add(b.hash, plumbing.BlobObject, b.data)
			}
		}
		packErr <- err
	}()
	toPack := func(p string, h plumbing.Hash, data []byte) {
		if owner[h] == p {
			blobs <- packedBlob{hash: h, data: data}
		}
	}
	var coErr error
	if useGit {
		coErr = checkoutCatFile(ctx, mirrorDir, bi, paths, work, toPack)
	} else {
		coErr = checkout(ctx, mirrorDir, bi, paths, work, toPack)
	}
	close(blobs)
	if err := errors.Join(coErr, <-packErr); err != nil {
		pw.abort()
		return "", size, err
	}
	pack, err := pw.finish()
	if err != nil {
		return "", size, fmt.Errorf("run repository: %w", err)
	}
	if err := setRunHead(st, c, branch); err != nil {
		return "", size, err
	}
	return pack, size, nil
}

// setRunHead stores the base commit c in the run's repository as a loose
// object, apart from the pack, so that the pack is exactly what the
// sandbox may see, and points branch and HEAD at it, shallow.
func setRunHead(st *filesystem.Storage, c *object.Commit, branch string) error {
	if _, err := storeObject(st, c); err != nil {
		return fmt.Errorf("run repository: commit: %w", err)
	}
	ref := plumbing.NewBranchReferenceName(branch)
	if err := st.SetReference(plumbing.NewHashReference(ref, c.Hash)); err != nil {
		return fmt.Errorf("run repository: %w", err)
	}
	if err := st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, ref)); err != nil {
		return fmt.Errorf("run repository: %w", err)
	}
	if err := st.SetShallow([]plumbing.Hash{c.Hash}); err != nil {
		return fmt.Errorf("run repository: %w", err)
	}
	return nil
}

// writeRunRepo writes the run's repo.git at repoDir from a cached
// checkout's pack (copied: the run's repository is its own) and the base
// commit c. It returns the copied pack's path.
func writeRunRepo(repoDir string, c *object.Commit, branch, pack string) (string, error) {
	st := filesystem.NewStorage(osfs.New(repoDir), cache.NewObjectLRUDefault())
	if _, err := git.Init(st, nil); err != nil {
		return "", fmt.Errorf("run repository: %w", err)
	}
	packDir := filepath.Join(repoDir, "objects", "pack")
	if err := copyPack(pack, packDir); err != nil {
		return "", fmt.Errorf("run repository: %w", err)
	}
	if err := setRunHead(st, c, branch); err != nil {
		return "", err
	}
	return filepath.Join(packDir, filepath.Base(pack)), nil
}

// packedBlob is a blob on its way into the run's pack.
type packedBlob struct {
	hash plumbing.Hash
	data []byte
}

// readObject reads a whole object of type t from the mirror.
func readObject(st *filesystem.Storage, t plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	o, err := st.EncodedObject(t, h)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", errMirror, t, h, err)
	}
	r, err := o.Reader()
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", errMirror, t, h, err)
	}
	defer r.Close()
	data := make([]byte, 0, o.Size())
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("%w: %s %s: %w", errMirror, t, h, err)
	}
	if int64(buf.Len()) != o.Size() {
		return nil, fmt.Errorf("%w: %s %s: %d bytes, header says %d", errMirror, t, h, buf.Len(), o.Size())
	}
	return buf.Bytes(), nil
}

// checkoutWorkers is how many goroutines write the work tree.
const checkoutWorkers = 4

// checkout writes the files of bi (paths, sorted and checked) into work
// through an os.Root, so no path of the tree can lead outside work. Each
// worker reads the mirror through its own storage; got sees every blob
// read.
func checkout(ctx context.Context, mirrorDir string, bi *baseIndex, paths []string, work string, got func(p string, h plumbing.Hash, data []byte)) error {
	root, err := os.OpenRoot(work)
	if err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	defer root.Close()
	dirs := make([]string, 0, len(bi.dirs))
	for d := range bi.dirs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs) // parents first
	for _, d := range dirs {
		if err := checkPath(d); err != nil {
			return fmt.Errorf("checkout: %w", err)
		}
		if err := root.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("checkout: %w", err)
		}
	}
	// Each worker takes whole directories, opened once: a path is resolved
	// component by component only once per directory.
	byDir := map[string][]string{}
	var order []string
	for _, p := range paths {
		d := path.Dir(p)
		if _, ok := byDir[d]; !ok {
			order = append(order, d)
		}
		byDir[d] = append(byDir[d], p)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan string)
	var wg sync.WaitGroup
	for range checkoutWorkers {
		wg.Go(func() {
			st := mirrorReader(mirrorDir)
			defer st.Close()
			for dir := range next {
				if err := writeDir(st, root, dir, byDir[dir], bi, got); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, d := range order {
		select {
		case next <- d:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	return nil
}

// checkPath refuses a tree path no checkout may write: empty, ".", "..",
// or ".git" elements (in any case).
func checkPath(p string) error {
	for el := range strings.SplitSeq(p, "/") {
		if el == "" || el == "." || el == ".." || strings.EqualFold(el, ".git") {
			return fmt.Errorf("refusing tree path %q", p)
		}
	}
	return nil
}

// mirrorReader opens the mirror for reading, keeping its pack files open
// between objects (Close releases them).
func mirrorReader(dir string) *filesystem.Storage {
	return filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
}

// writeDir writes the entries of one directory (paths, all in dir).
func writeDir(st *filesystem.Storage, root *os.Root, dir string, paths []string, bi *baseIndex, got func(string, plumbing.Hash, []byte)) error {
	r := root
	if dir != "." {
		var err error
		if r, err = root.OpenRoot(dir); err != nil {
			return err
		}
		defer r.Close()
	}
	for _, p := range paths {
		if err := writeEntry(st, r, p, path.Base(p), bi.files[p], got); err != nil {
			return err
		}
	}
	return nil
}

// writeEntry writes one file, executable, symlink or gitlink (an empty
// directory, as git leaves an uninitialised submodule).
func writeEntry(st *filesystem.Storage, root *os.Root, p, name string, e baseEntry, got func(string, plumbing.Hash, []byte)) error {
	switch e.mode {
	case filemode.Submodule:
		return root.Mkdir(name, 0o755)
	case filemode.Regular, filemode.Deprecated, filemode.Executable, filemode.Symlink:
	default:
		return fmt.Errorf("%s: unsupported mode %s", p, e.mode)
	}
	data, err := readObject(st, plumbing.BlobObject, e.hash)
	if err != nil {
		return err
	}
	got(p, e.hash, data)
	if e.mode == filemode.Symlink {
		return root.Symlink(string(data), name)
	}
	perm := os.FileMode(0o644)
	if e.mode == filemode.Executable {
		perm = 0o755
	}
	return root.WriteFile(name, data, perm)
}
