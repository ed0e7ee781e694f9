package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

const (
	repoDirName = "repo.git"
	workDirName = "work"
)

// storage opens the host repository's object and ref storage.
func (w *Workspace) storage() (*filesystem.Storage, error) {
	dir := filepath.Join(w.Root, repoDirName)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open host repository: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open host repository: %s is not a directory", dir)
	}
	return filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault()), nil
}

// base returns the base commit from st.
func (w *Workspace) base(st *filesystem.Storage) (*object.Commit, error) {
	h, err := parseHash(w.BaseCommit)
	if err != nil {
		return nil, fmt.Errorf("base commit: %w", err)
	}
	c, err := object.GetCommit(st, h)
	if err != nil {
		return nil, fmt.Errorf("base commit %s: %w", h, err)
	}
	return c, nil
}

// parseHash accepts exactly 40 hex digits.
func parseHash(s string) (plumbing.Hash, error) {
	if len(s) != 40 || !plumbing.IsHash(s) {
		return plumbing.ZeroHash, fmt.Errorf("invalid object hash %q", s)
	}
	return plumbing.NewHash(s), nil
}

// Close unmounts the work tree when it is an overlay over a cached
// checkout (see Mirrors) and lets go of that checkout; the run directory's
// files stay until Remove, and reading WorkTree after Close shows an empty
// directory. It is safe to call more than once, and a no-op for a work
// tree written file by file. Harvest before.
func (w *Workspace) Close() error {
	if w == nil || w.release == nil {
		return nil
	}
	err := w.release()
	w.release = nil
	if err != nil {
		return fmt.Errorf("close workspace: %w", err)
	}
	return nil
}

// Remove deletes the run directory's contents (Root itself stays: it may be
// a mount), after Close. Symlinks are removed, never followed; directories
// the sandbox made read-only are made writable first.
func (w *Workspace) Remove() error {
	if w.Root == "" {
		return errors.New("remove: workspace has no root")
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	entries, err := os.ReadDir(w.Root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove: %w", err)
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(w.Root, e.Name())
		if err := os.RemoveAll(p); err != nil {
			makeWritable(p)
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	return nil
}

// makeWritable adds owner rwx to every directory under p, without
// following symlinks (WalkDir does not follow them).
func makeWritable(p string) {
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
				_ = os.Chmod(path, fi.Mode().Perm()|0o700)
			}
		}
		return nil
	})
}
