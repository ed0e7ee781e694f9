package gitops

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// WriteBlob stores data as a blob in the host repository and returns its
// hex hash, for a change harvested on an earlier attempt (its FileChange
// Blobs) to be committed again.
func (w *Workspace) WriteBlob(data []byte) (string, error) {
	st, err := w.storage()
	if err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	wr, err := obj.Writer()
	if err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	if _, err := wr.Write(data); err != nil {
		_ = wr.Close()
		return "", fmt.Errorf("write blob: %w", err)
	}
	if err := wr.Close(); err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	return h.String(), nil
}

// ValidPath reports whether p is a path a harvested change may name
// (relative, clean, no .git component, no names git or GitHub refuse), as
// Harvest and Commit check it.
func ValidPath(p string) error { return validPath(p) }
