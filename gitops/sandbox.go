package gitops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// sandboxAuthor signs the throwaway base commit.
var sandboxAuthor = object.Signature{Name: "agentgate", Email: "agentgate@localhost"}

// sandboxMessage is the throwaway base commit's message.
const sandboxMessage = "agentgate: base of this run\n"

// PrepareSandbox writes the throwaway repository at WorkTree/.git: one commit
// of the base tree, no remote, no hooks, no credentials. The base tree's
// objects are copied as one pack from the host repository (nothing is
// re-hashed), and the index is written so that `git status` in the sandbox
// starts clean.
func (w *Workspace) PrepareSandbox(ctx context.Context) error {
	dotgit := filepath.Join(w.WorkTree, ".git")
	if _, err := os.Lstat(dotgit); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("prepare sandbox: %s already exists", dotgit)
	}
	host, err := w.storage()
	if err != nil {
		return fmt.Errorf("prepare sandbox: %w", err)
	}
	base, err := w.base(host)
	if err != nil {
		return fmt.Errorf("prepare sandbox: %w", err)
	}
	// A work tree over a cached checkout comes with its pack and its
	// index already made: nothing of the tree is read here.
	cached := w.basePack != "" && w.sandboxIndex != ""
	var bi *baseIndex
	if !cached {
		if bi, err = indexTree(host, base.TreeHash); err != nil {
			return fmt.Errorf("prepare sandbox: %w", err)
		}
	}
	branch := w.Branch
	if branch == "" || plumbing.NewBranchReferenceName(branch).Validate() != nil {
		branch = "main"
	}
	head := plumbing.NewBranchReferenceName(branch)
	repo, err := git.PlainInitWithOptions(w.WorkTree, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: head},
	})
	if err != nil {
		return fmt.Errorf("prepare sandbox: init: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("prepare sandbox: %w", err)
	}
	if w.basePack != "" {
		err = copyPack(w.basePack, filepath.Join(dotgit, "objects", "pack"))
	} else {
		err = copyObjects(host, repo.Storer, bi)
	}
	if err != nil {
		return fmt.Errorf("prepare sandbox: %w", err)
	}
	sig := sandboxAuthor
	sig.When = base.Committer.When
	c := &object.Commit{Author: sig, Committer: sig, Message: sandboxMessage, TreeHash: base.TreeHash}
	ch, err := storeObject(repo.Storer, c)
	if err != nil {
		return fmt.Errorf("prepare sandbox: commit: %w", err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(head, ch)); err != nil {
		return fmt.Errorf("prepare sandbox: ref: %w", err)
	}
	if cached {
		// The cached checkout's files are the lower layer, whose stat
		// data (inode, times, size, owner) the overlay shows unchanged.
		idx := filepath.Join(dotgit, "index")
		if err := copyFile(w.sandboxIndex, idx); err != nil {
			return fmt.Errorf("prepare sandbox: index: %w", err)
		}
		if err := os.Chmod(idx, 0o644); err != nil {
			return fmt.Errorf("prepare sandbox: index: %w", err)
		}
		return nil
	}
	idx, err := buildIndex(w.WorkTree, bi)
	if err != nil {
		return fmt.Errorf("prepare sandbox: %w", err)
	}
	if err := repo.Storer.SetIndex(idx); err != nil {
		return fmt.Errorf("prepare sandbox: index: %w", err)
	}
	return nil
}

// writeIndexFile writes the index of the checked-out work tree (see
// buildIndex) to path.
func writeIndexFile(path, work string, bi *baseIndex) error {
	idx, err := buildIndex(work, bi)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	if err := index.NewEncoder(f).Encode(idx); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// copyObjects writes the base tree's trees and blobs from src into dst as
// one pack file, without deltas (fast; the pack is throwaway).
func copyObjects(src storer.EncodedObjectStorer, dst storer.Storer, bi *baseIndex) error {
	seen := map[plumbing.Hash]bool{}
	hashes := make([]plumbing.Hash, 0, len(bi.trees)+len(bi.files))
	for _, h := range bi.trees {
		if !seen[h] {
			seen[h] = true
			hashes = append(hashes, h)
		}
	}
	for _, e := range bi.files {
		if e.mode == filemode.Submodule || seen[e.hash] {
			continue
		}
		seen[e.hash] = true
		hashes = append(hashes, e.hash)
	}
	pw, ok := dst.(storer.PackfileWriter)
	if !ok {
		return errors.New("copy objects: storage cannot write packs")
	}
	wc, err := pw.PackfileWriter()
	if err != nil {
		return fmt.Errorf("copy objects: %w", err)
	}
	if _, err := packfile.NewEncoder(wc, src, false).Encode(hashes, 0); err != nil {
		_ = wc.Close()
		return fmt.Errorf("copy objects: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("copy objects: %w", err)
	}
	return nil
}

// encoder is an object go-git can encode (tree, commit).
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

// storeObject encodes o into s and returns its hash.
func storeObject(s storer.EncodedObjectStorer, o encoder) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// buildIndex makes the index of the freshly checked-out work tree, with the
// stat data git uses to skip re-hashing unchanged files. The work tree is
// still the host's own checkout here (the sandbox has not run).
func buildIndex(work string, bi *baseIndex) (*index.Index, error) {
	idx := &index.Index{Version: 2}
	for p, e := range bi.files {
		entry := &index.Entry{Name: p, Hash: e.hash, Mode: e.mode}
		if e.mode != filemode.Submodule {
			fi, err := os.Lstat(filepath.Join(work, filepath.FromSlash(p)))
			if err != nil {
				return nil, fmt.Errorf("index: %w", err)
			}
			fillStat(entry, fi)
		}
		idx.Entries = append(idx.Entries, entry)
	}
	sort.Slice(idx.Entries, func(i, j int) bool { return idx.Entries[i].Name < idx.Entries[j].Name })
	return idx, nil
}
