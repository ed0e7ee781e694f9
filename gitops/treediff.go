package gitops

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// ChangedFrom returns the paths (slash-separated, sorted) whose entry
// differs between the work tree's base commit and tree, the hash of a
// tree object in the host repository (e.g. from FetchBranchTree): a file
// added, removed, or changed in content or mode on either side. Subtrees
// with the same hash are not descended into; no blob is read.
func (w *Workspace) ChangedFrom(ctx context.Context, tree string) ([]string, error) {
	h, err := parseHash(tree)
	if err != nil {
		return nil, fmt.Errorf("compare trees: %w", err)
	}
	st, err := w.storage()
	if err != nil {
		return nil, fmt.Errorf("compare trees: %w", err)
	}
	c, err := w.base(st)
	if err != nil {
		return nil, fmt.Errorf("compare trees: %w", err)
	}
	if c.TreeHash == h {
		return nil, nil
	}
	a, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("compare trees: base tree: %w", err)
	}
	if err := w.checkFetchedTree(ctx, st, h); err != nil {
		return nil, fmt.Errorf("compare trees: %w", err)
	}
	b, err := object.GetTree(st, h)
	if err != nil {
		return nil, fmt.Errorf("compare trees: tree %s: %w", h, err)
	}
	changes, err := diffTrees(ctx, a, b)
	if err != nil {
		return nil, fmt.Errorf("compare trees: %w", err)
	}
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Path
	}
	return out, nil
}
