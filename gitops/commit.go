package gitops

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// edit is one path's new state: deleted, or mode and blob.
type edit struct {
	del  bool
	mode filemode.FileMode
	hash plumbing.Hash
}

// Commit records ch (from Harvest) as a commit on top of BaseCommit in the
// host repository and returns its hash. Only the trees along changed paths
// are rewritten; every path, mode and blob of ch is checked again (ch may
// have been filtered or passed through a queue), and each blob must already
// be in the host repository. author is both author and committer.
func (w *Workspace) Commit(ctx context.Context, ch *Change, message string, author Signature) (string, error) {
	if ch == nil || len(ch.Files) == 0 {
		return "", ErrNoChange
	}
	if strings.TrimSpace(message) == "" || strings.ContainsRune(message, 0) {
		return "", errors.New("commit: empty message or NUL in message")
	}
	st, err := w.storage()
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	base, err := w.base(st)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	edits := make(map[string]edit, len(ch.Files))
	for _, f := range ch.Files {
		e, err := checkEdit(st, f)
		if err != nil {
			return "", fmt.Errorf("commit: %s: %w", f.Path, err)
		}
		if _, dup := edits[f.Path]; dup {
			return "", fmt.Errorf("commit: %s: listed twice", f.Path)
		}
		edits[f.Path] = e
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	tree, err := applyEdits(st, base.TreeHash, edits)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if tree.IsZero() { // everything deleted: the empty tree
		if tree, err = storeObject(st, &object.Tree{}); err != nil {
			return "", fmt.Errorf("commit: %w", err)
		}
	}
	if tree == base.TreeHash {
		return "", ErrNoChange
	}
	sig := object.Signature{Name: cleanIdent(author.Name), Email: cleanIdent(author.Email), When: author.When}
	if sig.When.IsZero() {
		sig.When = time.Now()
	}
	if sig.Name == "" {
		return "", errors.New("commit: author has no name")
	}
	if !strings.HasSuffix(message, "\n") {
		message += "\n"
	}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: []plumbing.Hash{base.Hash}}
	h, err := storeObject(st, c)
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return h.String(), nil
}

// checkEdit validates one FileChange against the host storage.
func checkEdit(s storer.EncodedObjectStorer, f FileChange) (edit, error) {
	if err := validPath(f.Path); err != nil {
		return edit{}, err
	}
	if f.Op == "deleted" {
		return edit{del: true}, nil
	}
	var mode filemode.FileMode
	switch f.Mode {
	case "100644":
		mode = filemode.Regular
	case "100755":
		mode = filemode.Executable
	case "120000":
		mode = filemode.Symlink
	default:
		return edit{}, fmt.Errorf("mode %q not allowed", f.Mode)
	}
	h, err := parseHash(f.Blob)
	if err != nil {
		return edit{}, err
	}
	if _, err := s.EncodedObject(plumbing.BlobObject, h); err != nil {
		return edit{}, fmt.Errorf("blob %s: %w", h, err)
	}
	return edit{mode: mode, hash: h}, nil
}

// applyEdits writes the tree that is tree (ZeroHash = empty) with edits
// (paths relative to it) applied, and returns its hash; ZeroHash when the
// result is empty.
func applyEdits(s storer.EncodedObjectStorer, tree plumbing.Hash, edits map[string]edit) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if !tree.IsZero() {
		t, err := object.GetTree(s, tree)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("tree %s: %w", tree, err)
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	direct := map[string]edit{}
	nested := map[string]map[string]edit{}
	for p, e := range edits {
		if first, rest, ok := strings.Cut(p, "/"); ok {
			if nested[first] == nil {
				nested[first] = map[string]edit{}
			}
			nested[first][rest] = e
		} else {
			direct[p] = e
		}
	}
	// Deletions first, so a file that became a directory makes room.
	for name, e := range direct {
		if e.del {
			delete(entries, name)
		}
	}
	for name, sub := range nested {
		var subTree plumbing.Hash
		if old, ok := entries[name]; ok {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%s: changes below a path that is not a directory", name)
			}
			subTree = old.Hash
		}
		h, err := applyEdits(s, subTree, sub)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s/%w", name, err)
		}
		if h.IsZero() {
			delete(entries, name)
		} else {
			entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
		}
	}
	for name, e := range direct {
		if e.del {
			continue
		}
		if old, ok := entries[name]; ok && old.Mode == filemode.Dir {
			return plumbing.ZeroHash, fmt.Errorf("%s: a file where a non-empty directory stays", name)
		}
		entries[name] = object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	t := &object.Tree{Entries: sortedEntries(entries)}
	return storeObject(s, t)
}

// sortedEntries orders entries as git does: by name, a directory compared
// as if its name ended in "/".
func sortedEntries(m map[string]object.TreeEntry) []object.TreeEntry {
	out := make([]object.TreeEntry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// cleanIdent makes a name or email safe for a commit header: no control
// characters, no angle brackets, single spaces.
func cleanIdent(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
