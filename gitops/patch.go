package gitops

import (
	"context"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// Patch returns the unified diff (git's format, binary files named but not
// shown) from the base commit to commit, which must be in the host
// repository (made by Commit). It is what a human applies with `git apply`
// when agentgate may not push the change itself.
func (w *Workspace) Patch(ctx context.Context, commit string) (string, error) {
	st, err := w.storage()
	if err != nil {
		return "", fmt.Errorf("patch: %w", err)
	}
	base, err := w.base(st)
	if err != nil {
		return "", fmt.Errorf("patch: %w", err)
	}
	h, err := parseHash(commit)
	if err != nil {
		return "", fmt.Errorf("patch: %w", err)
	}
	c, err := object.GetCommit(st, h)
	if err != nil {
		return "", fmt.Errorf("patch: commit %s: %w", h, err)
	}
	p, err := base.PatchContext(ctx, c)
	if err != nil {
		return "", fmt.Errorf("patch: %w", err)
	}
	return p.String(), nil
}

// CommitInfo is what the Git Data API needs to recreate a commit: its
// tree, its parent and its message.
type CommitInfo struct {
	Tree       string `json:"tree"`
	Parent     string `json:"parent"`
	ParentTree string `json:"parent_tree"`
	Message    string `json:"message"`
}

// Info reads commit (a commit of the host repository with one parent).
func (w *Workspace) Info(commit string) (CommitInfo, error) {
	st, err := w.storage()
	if err != nil {
		return CommitInfo{}, fmt.Errorf("commit info: %w", err)
	}
	h, err := parseHash(commit)
	if err != nil {
		return CommitInfo{}, fmt.Errorf("commit info: %w", err)
	}
	c, err := object.GetCommit(st, h)
	if err != nil {
		return CommitInfo{}, fmt.Errorf("commit info: %s: %w", h, err)
	}
	if len(c.ParentHashes) != 1 {
		return CommitInfo{}, fmt.Errorf("commit info: %s has %d parents", h, len(c.ParentHashes))
	}
	p, err := object.GetCommit(st, c.ParentHashes[0])
	if err != nil {
		return CommitInfo{}, fmt.Errorf("commit info: parent of %s: %w", h, err)
	}
	return CommitInfo{Tree: c.TreeHash.String(), Parent: p.Hash.String(), ParentTree: p.TreeHash.String(), Message: c.Message}, nil
}

// ReadBlob returns the content of a blob of the host repository (a
// FileChange's Blob), refusing one larger than limit bytes.
func (w *Workspace) ReadBlob(hash string, limit int64) ([]byte, error) {
	st, err := w.storage()
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	h, err := parseHash(hash)
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	b, err := object.GetBlob(st, h)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	if b.Size > limit {
		return nil, fmt.Errorf("read blob %s: %d bytes, over the limit of %d", h, b.Size, limit)
	}
	r, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	return data, nil
}
