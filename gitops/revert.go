package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

// DefaultRevertDepth is how many commits of the branch's history
// ComputeRevert fetches when RevertOptions.Depth is 0: a merge further
// back than that is not reverted.
const DefaultRevertDepth = 200

// maxRevertBlob bounds one file a revert restores (it is sent through the
// Git Data API as base64).
const maxRevertBlob = 50 << 20

// Errors of ComputeRevert.
var (
	// ErrMergeNotFound: the merge commit is not within the fetched
	// history of the branch (not merged into it, or too far back).
	ErrMergeNotFound = errors.New("revert: the merge commit is not in the branch's recent history")
	// ErrNothingToRevert: the branch already has the state before the
	// merge on every path the merge changed.
	ErrNothingToRevert = errors.New("revert: nothing to revert")
)

// RevertOptions says which merge to revert on which branch.
type RevertOptions struct {
	URL   string // remote URL (as for Clone)
	Token string // sent as for Clone
	// Branch is the branch the pull request was merged into.
	Branch string
	// Merge is the commit GitHub made when it merged the pull request
	// (merge_commit_sha): a merge commit, or the squashed commit.
	Merge string
	// Depth is how much of Branch's history is fetched (0: DefaultRevertDepth).
	Depth int
	// Dir, when set, is an empty directory that holds the fetched objects
	// (the caller removes it); empty keeps them in memory.
	Dir string
}

// RevertFile is one path the revert restores to its state before the merge.
type RevertFile struct {
	Path    string
	Delete  bool   // the merge added the path: the revert deletes it
	Mode    string // git mode, "100644"; empty when Delete
	Blob    string // blob hash; empty when Delete
	Content []byte // the blob's content; nil when Delete or a submodule (mode 160000)
}

// Revert is the revert of Merge on Branch's current head, computed as
// `git revert -m 1` would where no later commit touched the same paths:
// each path the merge changed (against its first parent) goes back to its
// state in that parent.
type Revert struct {
	Head     string // Branch's head commit: the revert's parent
	HeadTree string
	Parent   string // Merge's first parent
	Parents  int    // how many parents Merge has
	Subject  string // Merge's message's first line
	Tree     string // the revert's tree: HeadTree with Files applied
	Files    []RevertFile
	// Conflicts are paths the merge changed that Branch changed again
	// since: a revert would undo those later changes too, so none is
	// computed (Tree and Files are empty) when there are any.
	Conflicts []string
}

// ComputeRevert fetches Branch (bare, into Dir or memory, Depth commits) and
// computes the revert of Merge on its head. Nothing is pushed. Paths
// changed again after the merge are reported as Conflicts rather than
// merged: agentgate never resolves a conflict on a person's behalf.
func ComputeRevert(ctx context.Context, opts RevertOptions) (*Revert, error) {
	merge, err := parseHash(opts.Merge)
	if err != nil {
		return nil, fmt.Errorf("revert: merge commit: %w", err)
	}
	ref := plumbing.NewBranchReferenceName(opts.Branch)
	if err := ref.Validate(); err != nil {
		return nil, fmt.Errorf("revert: branch %q: %w", opts.Branch, err)
	}
	url, auth, err := endpoint(opts.URL, opts.Token)
	if err != nil {
		return nil, fmt.Errorf("revert: %w", err)
	}
	depth := opts.Depth
	if depth <= 0 {
		depth = DefaultRevertDepth
	}
	var st storage.Storer = memory.NewStorage()
	if opts.Dir != "" {
		st = filesystem.NewStorage(osfs.New(opts.Dir), cache.NewObjectLRUDefault())
	}
	repo, err := git.CloneContext(ctx, st, nil, &git.CloneOptions{
		URL: url, Auth: auth, ReferenceName: ref, SingleBranch: true,
		Depth: depth, Tags: git.NoTags,
	})
	if err != nil {
		return nil, fmt.Errorf("revert: fetch %s: %w", opts.Branch, err)
	}
	headRef, err := repo.Reference(ref, true)
	if err != nil {
		return nil, fmt.Errorf("revert: %s: %w", opts.Branch, err)
	}
	head, err := object.GetCommit(st, headRef.Hash())
	if err != nil {
		return nil, fmt.Errorf("revert: head of %s: %w", opts.Branch, err)
	}
	mc, err := object.GetCommit(st, merge)
	if err != nil {
		return nil, ErrMergeNotFound
	}
	if mc.NumParents() == 0 {
		return nil, fmt.Errorf("revert: %s is a root commit", merge)
	}
	parent, err := object.GetCommit(st, mc.ParentHashes[0])
	if err != nil {
		return nil, ErrMergeNotFound // the parent is past the fetched depth
	}
	rv := &Revert{
		Head: head.Hash.String(), HeadTree: head.TreeHash.String(),
		Parent: parent.Hash.String(), Parents: mc.NumParents(), Subject: firstLine(mc.Message),
	}
	before, err := flatTree(st, parent.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("revert: %w", err)
	}
	after, err := flatTree(st, mc.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("revert: %w", err)
	}
	now, err := flatTree(st, head.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("revert: %w", err)
	}
	var changed []string
	for p, e := range after {
		if b, ok := before[p]; !ok || b != e {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	edits := map[string]edit{}
	for _, p := range changed {
		b, inBefore := before[p]
		a, inAfter := after[p]
		n, inNow := now[p]
		if inBefore == inNow && b == n {
			continue // already as before the merge
		}
		if inAfter != inNow || a != n {
			rv.Conflicts = append(rv.Conflicts, p)
			continue
		}
		if !inBefore {
			edits[p] = edit{del: true}
			rv.Files = append(rv.Files, RevertFile{Path: p, Delete: true})
			continue
		}
		edits[p] = edit{mode: b.mode, hash: b.hash}
		if b.mode == filemode.Submodule {
			rv.Files = append(rv.Files, RevertFile{Path: p, Mode: modeString(b.mode), Blob: b.hash.String()})
			continue
		}
		data, err := readBlobLimit(st, b.hash, maxRevertBlob)
		if err != nil {
			return nil, fmt.Errorf("revert: %s: %w", p, err)
		}
		rv.Files = append(rv.Files, RevertFile{Path: p, Mode: modeString(b.mode), Blob: b.hash.String(), Content: data})
	}
	if len(rv.Conflicts) > 0 {
		rv.Files = nil
		return rv, nil
	}
	if len(edits) == 0 {
		return rv, ErrNothingToRevert
	}
	tree, err := applyEdits(st, head.TreeHash, edits)
	if err != nil {
		return nil, fmt.Errorf("revert: %w", err)
	}
	rv.Tree = tree.String()
	return rv, nil
}

// flatEntry is a file's mode and blob.
type flatEntry struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

// flatTree lists every file (blob, symlink, submodule) under tree by path.
func flatTree(st storer.EncodedObjectStorer, tree plumbing.Hash) (map[string]flatEntry, error) {
	out := map[string]flatEntry{}
	t, err := object.GetTree(st, tree)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", tree, err)
	}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tree %s: %w", tree, err)
		}
		if e.Mode == filemode.Dir {
			continue
		}
		out[name] = flatEntry{mode: e.Mode, hash: e.Hash}
	}
}

// readBlobLimit reads a blob of at most limit bytes.
func readBlobLimit(st storer.EncodedObjectStorer, h plumbing.Hash, limit int64) ([]byte, error) {
	b, err := object.GetBlob(st, h)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	if b.Size > limit {
		return nil, fmt.Errorf("blob %s: %d bytes, more than %d", h, b.Size, limit)
	}
	r, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
