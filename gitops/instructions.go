package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// defaultRef is where FetchBranchTree keeps the fetched branch in the host
// repository: outside refs/heads and refs/remotes, so nothing else in
// gitops mistakes it for the run's branch.
const defaultRef = "refs/agentgate/default"

// maxInstructionBytes bounds one restored file.
const maxInstructionBytes = 4 << 20

// FetchBranchTree fetches the tip of branch (depth 1) from url into the
// host repository, next to the run's own branch, and returns the hash of
// its tree. agentgate uses it to read a follow-up run's instruction files
// from the default branch while the work tree holds the agent's branch.
func (w *Workspace) FetchBranchTree(ctx context.Context, url, token, branch string) (string, error) {
	ref := plumbing.NewBranchReferenceName(branch)
	if branch == "" || ref.Validate() != nil {
		return "", fmt.Errorf("fetch branch: %q is not a valid branch name", branch)
	}
	st, err := w.storage()
	if err != nil {
		return "", fmt.Errorf("fetch branch: %w", err)
	}
	u, auth, err := endpoint(url, token)
	if err != nil {
		return "", fmt.Errorf("fetch branch: %w", err)
	}
	remote := git.NewRemote(st, &config.RemoteConfig{Name: "agentgate-default", URLs: []string{u}})
	err = remote.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "agentgate-default",
		RefSpecs:   []config.RefSpec{config.RefSpec("+" + ref.String() + ":" + defaultRef)},
		Depth:      1,
		Auth:       auth,
		Tags:       git.NoTags,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return "", fmt.Errorf("fetch branch %s: %w", branch, err)
	}
	r, err := st.Reference(defaultRef)
	if err != nil {
		return "", fmt.Errorf("fetch branch %s: %w", branch, err)
	}
	c, err := object.GetCommit(st, r.Hash())
	if err != nil {
		return "", fmt.Errorf("fetch branch %s: commit %s: %w", branch, r.Hash(), err)
	}
	return c.TreeHash.String(), nil
}

// RestoreFromTree makes each of paths in the work tree exactly what it is
// in tree (the hash of a tree object in the host repository, e.g. from
// FetchBranchTree): the same content and mode, or absent when tree has no
// such path. A path ending in "/" is a directory, restored as a whole:
// what the work tree holds there and tree does not is removed.
//
// It runs on the host before the agent starts, on a work tree whose
// content came from a branch anyone with push access (or an earlier agent)
// wrote, so it never follows a symlink: a symlink or directory in the way
// of a path, or in place of one of its parent directories, is removed
// first. It returns the paths (files, slash-separated) it changed, sorted.
func (w *Workspace) RestoreFromTree(ctx context.Context, tree string, paths []string) ([]string, error) {
	h, err := parseHash(tree)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	st, err := w.storage()
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := w.checkFetchedTree(ctx, st, h); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	bi, err := indexTree(st, h)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	root, err := os.OpenRoot(w.WorkTree)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer root.Close()
	r := restorer{ctx: ctx, root: root, st: st, want: bi}
	for _, p := range paths {
		dir := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		if err := validPath(p); err != nil {
			return nil, fmt.Errorf("restore %q: %w", p, err)
		}
		if dir {
			err = r.dir(p)
		} else {
			err = r.file(p)
		}
		if err != nil {
			return nil, fmt.Errorf("restore %s: %w", p, err)
		}
	}
	sort.Strings(r.changed)
	return r.changed, nil
}

// restorer is one RestoreFromTree's state.
type restorer struct {
	ctx     context.Context
	root    *os.Root
	st      *filesystem.Storage
	want    *baseIndex
	changed []string
}

// file restores the single file p.
func (r *restorer) file(p string) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	e, ok := r.want.files[p]
	if ok && e.mode == filemode.Submodule {
		return nil // a gitlink: nothing to write
	}
	if err := r.clearParents(p); err != nil {
		return err
	}
	same, err := r.same(p, e, ok)
	if err != nil || same {
		return err
	}
	if err := r.root.RemoveAll(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	r.changed = append(r.changed, p)
	if !ok {
		return nil
	}
	data, err := r.blob(e.hash)
	if err != nil {
		return err
	}
	if d := path.Dir(p); d != "." {
		if err := r.root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if e.mode == filemode.Symlink {
		return r.root.Symlink(string(data), p)
	}
	perm := os.FileMode(0o644)
	if e.mode == filemode.Executable {
		perm = 0o755
	}
	f, err := r.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNofollow, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// dir restores the directory p: every file tree has under it, and
// nothing else.
func (r *restorer) dir(p string) error {
	if err := r.clearParents(p); err != nil {
		return err
	}
	fi, err := r.root.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case !fi.IsDir():
		if err := r.root.Remove(p); err != nil {
			return err
		}
		r.changed = append(r.changed, p)
	default:
		// Whatever the work tree holds there that tree does not goes.
		var extra []string
		err := fs.WalkDir(r.root.FS(), p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if r.want.dirs[q] {
					return nil
				}
				if q != p {
					extra = append(extra, q)
					return fs.SkipDir
				}
				return nil
			}
			if _, ok := r.want.files[q]; !ok {
				extra = append(extra, q)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, q := range extra {
			if err := r.root.RemoveAll(q); err != nil {
				return err
			}
			r.changed = append(r.changed, q)
		}
	}
	var files []string
	for f := range r.want.files {
		if strings.HasPrefix(f, p+"/") {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if err := r.file(f); err != nil {
			return err
		}
	}
	return nil
}

// same reports whether p already is what tree has (want, or absent when
// !ok), looking at it without following a symlink.
func (r *restorer) same(p string, want baseEntry, ok bool) (bool, error) {
	fi, err := r.root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isNotDir(err) {
		return !ok, nil
	}
	if err != nil {
		return false, err
	}
	if !ok {
		return false, nil
	}
	var mode filemode.FileMode
	var data []byte
	switch m := fi.Mode(); {
	case m.IsRegular():
		mode = filemode.Regular
		if m&0o100 != 0 {
			mode = filemode.Executable
		}
		if fi.Size() > maxInstructionBytes {
			return false, nil
		}
		f, err := r.root.OpenFile(p, os.O_RDONLY|oNonblock|oNofollow, 0)
		if err != nil {
			return false, nil
		}
		data, err = io.ReadAll(io.LimitReader(f, maxInstructionBytes+1))
		_ = f.Close()
		if err != nil {
			return false, nil
		}
	case m&os.ModeSymlink != 0:
		mode = filemode.Symlink
		t, err := r.root.Readlink(p)
		if err != nil {
			return false, nil
		}
		data = []byte(t)
	default:
		return false, nil
	}
	return mode == want.mode && plumbing.ComputeHash(plumbing.BlobObject, data) == want.hash, nil
}

// clearParents makes every parent directory of p a real directory (or
// absent): a symlink or a file in place of one is removed, so nothing is
// written through a link.
func (r *restorer) clearParents(p string) error {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/")
		fi, err := r.root.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.IsDir() {
			continue
		}
		if err := r.root.Remove(d); err != nil {
			return err
		}
		r.changed = append(r.changed, d)
		return nil
	}
	return nil
}

// blob reads a blob of the host repository, bounded.
func (r *restorer) blob(h plumbing.Hash) ([]byte, error) {
	obj, err := r.st.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	if obj.Size() > maxInstructionBytes {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", h, maxInstructionBytes)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	defer rd.Close()
	return io.ReadAll(io.LimitReader(rd, maxInstructionBytes))
}

// isNotDir reports an ENOTDIR: a parent of the path is not a directory.
func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}
