package gitops

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// CommitFile records one regular file (mode 100644) with the given content
// as a commit on top of BaseCommit, whatever the work tree holds, and
// returns its hash. agentgate uses it for changes it writes itself, such as
// a proposed allowlist in the repository's configuration.
func (w *Workspace) CommitFile(ctx context.Context, path string, content []byte, message string, author Signature) (string, error) {
	if err := validPath(path); err != nil {
		return "", fmt.Errorf("commit file: %w", err)
	}
	st, err := w.storage()
	if err != nil {
		return "", fmt.Errorf("commit file: %w", err)
	}
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	wr, err := obj.Writer()
	if err != nil {
		return "", fmt.Errorf("commit file: %w", err)
	}
	if _, err := wr.Write(content); err != nil {
		return "", fmt.Errorf("commit file: %w", err)
	}
	if err := wr.Close(); err != nil {
		return "", fmt.Errorf("commit file: %w", err)
	}
	blob, err := st.SetEncodedObject(obj)
	if err != nil {
		return "", fmt.Errorf("commit file: store blob: %w", err)
	}
	op := "added"
	if base, err := w.base(st); err == nil {
		if tree, err := object.GetTree(st, base.TreeHash); err == nil {
			if _, err := tree.File(path); err == nil {
				op = "modified"
			}
		}
	}
	ch := &Change{Files: []FileChange{{Path: path, Op: op, Mode: "100644", Size: int64(len(content)), Blob: blob.String()}}}
	return w.Commit(ctx, ch, message, author)
}
