package builtinagent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// workspace is the directory the agent may touch. Every access goes
// through an os.Root, so neither "..", nor an absolute path, nor a symlink
// can lead outside it.
type workspace struct {
	dir  string   // host path of the workspace
	root *os.Root // opened on dir
}

func openWorkspace(dir string) (*workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	return &workspace{dir: abs, root: root}, nil
}

func (w *workspace) Close() error { return w.root.Close() }

// errOutside is returned for any path that names something outside the
// workspace.
var errOutside = errors.New("path is outside the workspace")

// rel turns a path the model gave into a clean slash path relative to the
// workspace ("." for the workspace itself). Absolute paths must lie under
// the workspace (its host path or /workspace); ".." may not leave it.
// Symlinks are checked later by os.Root.
func (w *workspace) rel(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return ".", nil
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%q: %w", p, errOutside)
	}
	p = filepath.ToSlash(p)
	if path.IsAbs(p) {
		p = path.Clean(p)
		found := false
		for _, base := range []string{filepath.ToSlash(w.dir), DefaultWorkspace} {
			if p == base {
				return ".", nil
			}
			if r, ok := strings.CutPrefix(p, strings.TrimRight(base, "/")+"/"); ok {
				p, found = r, true
				break
			}
		}
		if !found {
			return "", fmt.Errorf("%q: %w", p, errOutside)
		}
	}
	p = path.Clean(p)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%q: %w", p, errOutside)
	}
	return p, nil
}

// readFile reads a regular file, at most limit bytes (more is an error).
func (w *workspace) readFile(p string, limit int64) ([]byte, error) {
	r, err := w.rel(p)
	if err != nil {
		return nil, err
	}
	f, err := w.root.Open(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", r)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", r, limit)
	}
	return b, nil
}

// writeFile creates or replaces a file (creating its directories) and
// says whether it existed. A symlink at the path is replaced, not followed.
func (w *workspace) writeFile(p string, data []byte) (existed bool, err error) {
	r, err := w.rel(p)
	if err != nil {
		return false, err
	}
	if r == "." {
		return false, errors.New("cannot write the workspace itself")
	}
	if dir := path.Dir(r); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return false, err
		}
	}
	mode := fs.FileMode(0o644)
	if st, err := w.root.Lstat(r); err == nil {
		existed = true
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			if err := w.root.Remove(r); err != nil {
				return true, err
			}
		case st.Mode().IsRegular():
			mode = st.Mode().Perm()
		default:
			return true, fmt.Errorf("%s is not a regular file", r)
		}
	}
	f, err := w.root.OpenFile(r, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return existed, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return existed, err
	}
	return existed, f.Close()
}

// remove deletes a file (not a directory).
func (w *workspace) remove(p string) error {
	r, err := w.rel(p)
	if err != nil {
		return err
	}
	st, err := w.root.Lstat(r)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", r)
	}
	return w.root.Remove(r)
}
