package gitops

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Baseline is the work tree as agentgate's own steps before the agent left
// it (the setup phase, the instruction files restored from the default
// branch): every path where it then differed from the base commit, with
// the content it then had, or deleted.
//
// A Harvest given a Baseline leaves out every path that is still exactly
// as the Baseline recorded it: the pull request holds what the agent
// changed, not what setup installed. A path the agent changed further is
// harvested as usual, against the base commit (the change must apply to
// the branch), so it carries setup's edits of that file too; a path the
// agent put back as the base commit had it is no change at all.
type Baseline struct {
	files map[string]baselineEntry
}

// baselineEntry is one path's state in a Baseline.
type baselineEntry struct {
	deleted bool
	// unread: a sparse file too large to hash; it never matches, so the
	// harvest judges it as any other file.
	unread bool
	mode   filemode.FileMode
	hash   plumbing.Hash
}

// Paths lists the paths the Baseline holds, sorted.
func (b *Baseline) Paths() []string {
	if b == nil {
		return nil
	}
	out := make([]string, 0, len(b.files))
	for p := range b.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Len is how many paths differ from the base commit in the Baseline.
func (b *Baseline) Len() int {
	if b == nil {
		return 0
	}
	return len(b.files)
}

// matches reports whether p with mode and hash is as the Baseline
// recorded it.
func (b *Baseline) matches(p string, mode filemode.FileMode, hash plumbing.Hash) bool {
	if b == nil {
		return false
	}
	e, ok := b.files[p]
	return ok && !e.deleted && !e.unread && e.mode == mode && e.hash == hash
}

// deleted reports whether the Baseline recorded the base file p as gone.
func (b *Baseline) deleted(p string) bool {
	if b == nil {
		return false
	}
	e, ok := b.files[p]
	return ok && e.deleted
}

// has reports whether the Baseline holds p as present.
func (b *Baseline) has(p string) bool {
	if b == nil {
		return false
	}
	e, ok := b.files[p]
	return ok && !e.deleted
}

// Baseline records the work tree as it is now, walking it exactly as
// Harvest does (.gitignore honoured, the throwaway .git ignored, no
// symlink followed, nothing but regular files opened) but without any
// bound on counts and without storing anything: files are hashed as they
// are streamed, in chunks between which ctx is checked. A file larger
// than DefaultMaxFileBytes is hashed only when its blocks on disk cover
// its size (so reading it costs what the bounded work tree holds, no
// more); a sparse one is recorded unread and never matches.
func (w *Workspace) Baseline(ctx context.Context) (*Baseline, error) {
	st, err := w.storage()
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	base, err := w.base(st)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	bi, err := indexTree(st, base.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	exclude, err := hostExclude(filepath.Join(w.Root, repoDirName))
	if err != nil {
		return nil, fmt.Errorf("baseline: exclude: %w", err)
	}
	root, err := os.OpenRoot(w.WorkTree)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer root.Close()
	h := &harvester{
		ctx: ctx, root: root, st: st, base: bi,
		seen: map[string]bool{}, ch: &Change{},
		snap: &Baseline{files: map[string]baselineEntry{}},
	}
	top, err := root.Lstat(".")
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if err := h.walkDir("", top, exclude, false); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	for p, e := range bi.files {
		if !h.seen[p] && e.mode != filemode.Submodule {
			h.snap.files[p] = baselineEntry{deleted: true}
		}
	}
	return h.snap, nil
}

// snapshot records p in the Baseline being built when it differs from
// the base commit.
func (h *harvester) snapshot(p string, mode filemode.FileMode, hash plumbing.Hash) {
	if old, tracked := h.base.files[p]; tracked {
		h.seen[p] = true
		if old.hash == hash && old.mode == mode {
			return
		}
	}
	h.snap.files[p] = baselineEntry{mode: mode, hash: hash}
}

// snapshotUnread records p in the Baseline being built as a file that
// was not read: it never matches what the harvest finds there.
func (h *harvester) snapshotUnread(p string, mode filemode.FileMode) {
	if _, tracked := h.base.files[p]; tracked {
		h.seen[p] = true
	}
	h.snap.files[p] = baselineEntry{mode: mode, unread: true}
}

// hashRegular streams the regular file p whose Lstat was fi into a git
// blob hash, opened as readRegular opens it, in chunks between which ctx
// is checked. A file larger than limit that is not backed by blocks on
// disk (sparse) is not read: the error wraps ErrLimit.
func (h *harvester) hashRegular(p string, fi os.FileInfo, limit int64) (plumbing.Hash, error) {
	f, err := h.root.OpenFile(p, os.O_RDONLY|oNonblock|oNofollow, 0)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer f.Close()
	got, err := f.Stat()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if !got.Mode().IsRegular() || !os.SameFile(fi, got) {
		return plumbing.ZeroHash, fmt.Errorf("%s changed during harvest", p)
	}
	if !readable(got, limit) {
		return plumbing.ZeroHash, errTooSparse(p, got.Size(), limit)
	}
	hasher := plumbing.NewHasher(plumbing.BlobObject, got.Size())
	n, err := io.CopyBuffer(hasher, ctxReader{h.ctx, io.LimitReader(f, got.Size()+1)}, make([]byte, readChunk))
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if n != got.Size() {
		return plumbing.ZeroHash, fmt.Errorf("%s changed during harvest", p)
	}
	return hasher.Sum(), nil
}
