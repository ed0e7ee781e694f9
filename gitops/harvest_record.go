package gitops

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// file harvests the regular file p.
func (h *harvester) file(p string, fi os.FileInfo) error {
	mode := filemode.Regular
	if fi.Mode()&0o100 != 0 {
		mode = filemode.Executable
	}
	if h.snap != nil || (fi.Size() > h.opts.MaxFileBytes && h.opts.Baseline.has(p)) {
		// A Baseline is built, or a large file setup left may be
		// unchanged: hash it as a stream, unless it is sparse.
		limit := h.opts.MaxFileBytes
		if h.snap != nil {
			limit = DefaultMaxFileBytes
		}
		hash, err := h.hashRegular(p, fi, limit)
		if h.snap != nil && errors.Is(err, ErrLimit) {
			h.snapshotUnread(p, mode)
			return nil
		}
		if err != nil {
			return err
		}
		if h.snap != nil {
			h.snapshot(p, mode, hash)
			return nil
		}
		if h.opts.Baseline.matches(p, mode, hash) {
			h.keep(p)
			return nil
		}
	}
	data, err := h.readRegular(p, fi, h.opts.MaxFileBytes)
	if err != nil {
		return err
	}
	if int64(len(data)) > h.opts.MaxFileBytes {
		return fmt.Errorf("%w: %s is larger than %d bytes", ErrLimit, strconv.Quote(p), h.opts.MaxFileBytes)
	}
	return h.record(p, mode, data)
}

// symlink harvests the symlink p as git does: the blob is the link target.
func (h *harvester) symlink(p string) error {
	target, err := h.root.Readlink(p)
	if err != nil {
		return err
	}
	changed := len(h.ch.Files)
	if err := h.record(p, filemode.Symlink, []byte(target)); err != nil {
		return err
	}
	if len(h.ch.Files) > changed {
		where := ""
		if escapes(p, target) {
			where = " (outside the work tree)"
		}
		h.flag("symlink: %s -> %s%s", strconv.Quote(p), strconv.Quote(target), where)
	}
	return nil
}

// escapes reports whether the link target, resolved lexically from the
// link's directory, leaves the work tree.
func escapes(link, target string) bool {
	if path.IsAbs(target) {
		return true
	}
	c := path.Join(path.Dir(link), target)
	return c == ".." || strings.HasPrefix(c, "../")
}

// record compares one work tree entry with the base and, when it differs,
// stores its blob and appends the FileChange.
func (h *harvester) record(p string, mode filemode.FileMode, data []byte) error {
	hash := plumbing.ComputeHash(plumbing.BlobObject, data)
	if h.snap != nil {
		h.snapshot(p, mode, hash)
		return nil
	}
	if h.opts.Baseline.matches(p, mode, hash) {
		h.keep(p) // as setup left it: not the agent's change
		return nil
	}
	old, tracked := h.base.files[p]
	if tracked {
		h.seen[p] = true
		if old.hash == hash && old.mode == mode {
			return nil
		}
	}
	fc := FileChange{
		Path:    p,
		Mode:    modeString(mode),
		Size:    int64(len(data)),
		Symlink: mode == filemode.Symlink,
		Blob:    hash.String(),
	}
	switch {
	case !tracked:
		fc.Op = "added"
	case old.hash == hash:
		fc.Op = "mode"
	default:
		fc.Op = "modified"
	}
	if tracked {
		fc.OldMode = modeString(old.mode)
	}
	if err := h.count(fc.Size); err != nil {
		return err
	}
	if !fc.Symlink && fc.Op != "mode" {
		var oldData []byte
		if fc.Op == "modified" && old.mode != filemode.Symlink {
			var err error
			if oldData, err = h.readBlob(old.hash); err != nil {
				return err
			}
		}
		if isBinary(data) || isBinary(oldData) {
			fc.Binary = true
		} else {
			fc.Added, fc.Removed = lineDiff(oldData, data)
		}
	}
	if err := h.storeBlob(hash, data); err != nil {
		return err
	}
	h.ch.Files = append(h.ch.Files, fc)
	return nil
}

// count enforces MaxFiles and MaxTotal for one more changed file.
func (h *harvester) count(size int64) error {
	if len(h.ch.Files)+1 > h.opts.MaxFiles {
		return fmt.Errorf("%w: more than %d changed files", ErrLimit, h.opts.MaxFiles)
	}
	h.total += size
	if h.total > h.opts.MaxTotal {
		return fmt.Errorf("%w: more than %d bytes of changed content", ErrLimit, h.opts.MaxTotal)
	}
	return nil
}

func (h *harvester) storeBlob(hash plumbing.Hash, data []byte) error {
	if h.st.HasEncodedObject(hash) == nil {
		return nil
	}
	obj := h.st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	got, err := h.st.SetEncodedObject(obj)
	if err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	if got != hash {
		return fmt.Errorf("store blob: hash %s, want %s", got, hash)
	}
	return nil
}

// readBlob reads a base blob for a line diff; blobs too large to diff
// exactly are only counted.
func (h *harvester) readBlob(hash plumbing.Hash) ([]byte, error) {
	obj, err := h.st.EncodedObject(plumbing.BlobObject, hash)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, h.opts.MaxFileBytes+maxDiffBytes))
}

// deletions records every base file the walk did not find.
func (h *harvester) deletions() error {
	for p, e := range h.base.files {
		if h.seen[p] || e.mode == filemode.Submodule || h.opts.Baseline.deleted(p) {
			continue
		}
		if err := h.count(0); err != nil {
			return err
		}
		fc := FileChange{Path: p, Op: "deleted", OldMode: modeString(e.mode), Symlink: e.mode == filemode.Symlink}
		if !fc.Symlink {
			data, err := h.readBlob(e.hash)
			if err != nil {
				return err
			}
			if isBinary(data) {
				fc.Binary = true
			} else {
				fc.Removed = countLines(data)
			}
		}
		h.ch.Files = append(h.ch.Files, fc)
	}
	return nil
}
