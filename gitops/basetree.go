package gitops

import (
	"fmt"
	"path"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// baseEntry is one non-directory entry of the base tree.
type baseEntry struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

// baseIndex is the base tree flattened: files (regular, executable,
// symlink, gitlink) by slash path, and every directory that holds one.
type baseIndex struct {
	files map[string]baseEntry
	dirs  map[string]bool
	trees []plumbing.Hash // every tree object, root first
}

// indexTree flattens the tree with hash root from s.
func indexTree(s storer.EncodedObjectStorer, root plumbing.Hash) (*baseIndex, error) {
	b := &baseIndex{files: map[string]baseEntry{}, dirs: map[string]bool{}}
	if err := b.add(s, root, ""); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *baseIndex) add(s storer.EncodedObjectStorer, h plumbing.Hash, dir string) error {
	t, err := object.GetTree(s, h)
	if err != nil {
		return fmt.Errorf("tree %s: %w", h, err)
	}
	b.trees = append(b.trees, h)
	for _, e := range t.Entries {
		p := path.Join(dir, e.Name)
		if e.Mode == filemode.Dir {
			b.dirs[p] = true
			if err := b.add(s, e.Hash, p); err != nil {
				return err
			}
			continue
		}
		b.files[p] = baseEntry{mode: e.Mode, hash: e.Hash}
	}
	return nil
}

// modeString is the git notation of m: "100644", "100755", "120000".
func modeString(m filemode.FileMode) string {
	return fmt.Sprintf("%06o", uint32(m))
}
