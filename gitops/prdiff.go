package gitops

import (
	"context"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// PathChange is one path whose entry differs between two trees.
type PathChange struct {
	Path string
	// Entry is what the newer tree holds at Path, "<mode> <hash>", or ""
	// when the newer tree has no such path: two PathChanges with the same
	// Entry changed the path to the same content.
	Entry string
}

// ChangedPaths lists, sorted, the paths (files, symlinks, submodules) whose
// entry differs between the tree fromTree and the tree of commit, both in
// the host repository (fromTree e.g. from FetchBranchTree or a
// CommitInfo's ParentTree; commit e.g. from Commit). It is the change a
// pull request from fromTree to commit shows, whoever made it.
func (w *Workspace) ChangedPaths(ctx context.Context, fromTree, commit string) ([]PathChange, error) {
	st, err := w.storage()
	if err != nil {
		return nil, fmt.Errorf("changed paths: %w", err)
	}
	fh, err := parseHash(fromTree)
	if err != nil {
		return nil, fmt.Errorf("changed paths: %w", err)
	}
	ch, err := parseHash(commit)
	if err != nil {
		return nil, fmt.Errorf("changed paths: %w", err)
	}
	from, err := object.GetTree(st, fh)
	if err != nil {
		return nil, fmt.Errorf("changed paths: tree %s: %w", fh, err)
	}
	c, err := object.GetCommit(st, ch)
	if err != nil {
		return nil, fmt.Errorf("changed paths: commit %s: %w", ch, err)
	}
	to, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("changed paths: tree of %s: %w", ch, err)
	}
	out, err := diffTrees(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("changed paths: %w", err)
	}
	return out, nil
}

// diffTrees lists, sorted, the paths whose entry differs between the trees
// from and to, each with what to holds there. Subtrees with the same hash
// are not descended into; no blob is read.
func diffTrees(ctx context.Context, from, to *object.Tree) ([]PathChange, error) {
	changes, err := object.DiffTreeWithOptions(ctx, from, to, nil)
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, c := range changes {
		if c.From.Name != "" {
			if _, ok := seen[c.From.Name]; !ok {
				seen[c.From.Name] = ""
			}
		}
		if c.To.Name != "" {
			seen[c.To.Name] = fmt.Sprintf("%o %s", uint32(c.To.TreeEntry.Mode), c.To.TreeEntry.Hash)
		}
	}
	out := make([]PathChange, 0, len(seen))
	for p, e := range seen {
		out = append(out, PathChange{Path: p, Entry: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
