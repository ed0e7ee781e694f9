package gitops

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrTreeTooLarge marks a base tree that would not fit the work tree's
// bounds once checked out (CloneOptions.MaxTreeBytes, MaxTreeEntries), or
// whose paths are longer than a file system takes: a git bomb, whose few
// kilobytes of nested trees reusing the same blobs expand to gigabytes.
// Nothing of such a tree is written.
var ErrTreeTooLarge = errors.New("gitops: the repository's tree does not fit the work tree's bounds")

// treeBlock is the unit a checked-out file takes on disk: a tmpfs (the
// bounded work tree) gives each file whole pages.
const treeBlock = 4096

// maxTreePath is the longest path a checkout may write (Linux PATH_MAX).
const maxTreePath = 4096

// treeSize is what a tree takes once checked out.
type treeSize struct {
	bytes   int64 // the files' sizes, each rounded up to treeBlock
	entries int64 // files, symlinks, directories and gitlinks (inodes)
	path    int   // the longest path below the tree, in bytes
}

// treeBounds are the work tree's bounds; 0 is unbounded.
type treeBounds struct{ bytes, entries int64 }

func (b treeBounds) exceeded(s treeSize) bool {
	return (b.bytes > 0 && s.bytes > b.bytes) || (b.entries > 0 && s.entries > b.entries) || s.path > maxTreePath
}

// measurer sizes a tree from its objects alone: every tree and blob is
// looked at once however often the tree reuses it (a bomb costs what its
// objects are, not what they expand to), and the walk stops at the first
// subtree that alone exceeds the bounds.
type measurer struct {
	ctx   context.Context
	s     storer.EncodedObjectStorer
	b     treeBounds
	trees map[plumbing.Hash]treeSize
	blobs map[plumbing.Hash]int64
	// noSizes counts entries only: no blob is looked up.
	noSizes bool
}

// measureTree returns what the tree root of s takes once checked out, or
// an error wrapping ErrTreeTooLarge as soon as a part of it exceeds b.
func measureTree(ctx context.Context, s storer.EncodedObjectStorer, root plumbing.Hash, b treeBounds) (treeSize, error) {
	m := &measurer{ctx: ctx, s: s, b: b, trees: map[plumbing.Hash]treeSize{}, blobs: map[plumbing.Hash]int64{}}
	return m.measure(root)
}

func (m *measurer) measure(root plumbing.Hash) (treeSize, error) {
	b := m.b
	size, err := m.tree(root, 0)
	if err != nil {
		return size, err
	}
	size.entries = satAdd(size.entries, 1) // the work tree's own directory
	if b.exceeded(size) {
		return size, m.tooLarge(size)
	}
	return size, nil
}

func (m *measurer) tooLarge(s treeSize) error {
	switch {
	case s.path > maxTreePath:
		return fmt.Errorf("%w: a path of %d bytes or more, longer than %d", ErrTreeTooLarge, s.path, maxTreePath)
	case m.b.entries > 0 && s.entries > m.b.entries:
		return fmt.Errorf("%w: %d or more files and directories, more than the work tree's %d", ErrTreeTooLarge, s.entries, m.b.entries)
	}
	return fmt.Errorf("%w: %d or more bytes (files in whole 4 KiB blocks), more than the work tree's %d", ErrTreeTooLarge, s.bytes, m.b.bytes)
}

// tree sizes the tree h at depth (directories above it).
func (m *measurer) tree(h plumbing.Hash, depth int) (treeSize, error) {
	if s, ok := m.trees[h]; ok {
		return s, nil
	}
	if err := m.ctx.Err(); err != nil {
		return treeSize{}, err
	}
	if depth > maxTreePath/2 { // each level adds at least "x/"
		return treeSize{path: maxTreePath + 1}, m.tooLarge(treeSize{path: maxTreePath + 1})
	}
	t, err := object.GetTree(m.s, h)
	if err != nil {
		return treeSize{}, fmt.Errorf("tree %s: %w", h, err)
	}
	var sum treeSize
	for _, e := range t.Entries {
		sum.entries = satAdd(sum.entries, 1)
		path := len(e.Name)
		switch e.Mode {
		case filemode.Dir:
			sub, err := m.tree(e.Hash, depth+1)
			if err != nil {
				return sub, err
			}
			sum.entries = satAdd(sum.entries, sub.entries)
			sum.bytes = satAdd(sum.bytes, sub.bytes)
			path += 1 + sub.path
		case filemode.Submodule:
			// an empty directory; the commit is not in this repository
		default:
			n, err := m.blob(e.Hash)
			if err != nil {
				return treeSize{}, err
			}
			sum.bytes = satAdd(sum.bytes, n)
		}
		sum.path = max(sum.path, path)
		if m.b.exceeded(sum) {
			return sum, m.tooLarge(sum)
		}
	}
	m.trees[h] = sum
	return sum, nil
}

// blob is the room the blob h takes as a file: its size rounded up to
// whole blocks.
func (m *measurer) blob(h plumbing.Hash) (int64, error) {
	if m.noSizes {
		return 0, nil
	}
	if n, ok := m.blobs[h]; ok {
		return n, nil
	}
	size, err := m.s.EncodedObjectSize(h)
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", h, err)
	}
	n := satAdd(size, treeBlock-1) / treeBlock * treeBlock
	m.blobs[h] = n
	return n, nil
}

// satAdd adds two non-negative sizes, stopping at MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// checkFetchedTree refuses the tree h of st, fetched for the run besides
// its base (the default branch's, on a follow-up), when it has more
// files and directories than the work tree may hold: it is indexed or
// compared path by path next, which a git bomb would make endless. No
// blob is looked up, and no file of it is written but the few restored.
func (w *Workspace) checkFetchedTree(ctx context.Context, st storer.EncodedObjectStorer, h plumbing.Hash) error {
	if w.bounds.entries == 0 {
		return nil
	}
	m := &measurer{ctx: ctx, s: st, b: treeBounds{entries: w.bounds.entries}, trees: map[plumbing.Hash]treeSize{}, noSizes: true}
	_, err := m.measure(h)
	return err
}

// measureError is a failed measure as the mirror's callers see it: a
// tree too large or a cancelled run as they are, an object that cannot be
// read as a damaged mirror (fetched again).
func measureError(err error) error {
	if err == nil || errors.Is(err, ErrTreeTooLarge) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", errMirror, err)
}
