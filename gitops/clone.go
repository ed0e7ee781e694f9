package gitops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Clone makes a shallow clone (depth 1) of opts.Branch into opts.Root: the
// repository (objects, refs, config with the remote) in Root/repo.git, the
// checked-out files in Root/work. The work tree has no .git of its own.
//
// A local path (or file:// URL) is cloned with go-git's file transport,
// which runs git-upload-pack from the git CLI; http(s) needs no CLI.
func Clone(ctx context.Context, opts CloneOptions) (*Workspace, error) {
	if opts.Root == "" {
		return nil, errors.New("clone: no root directory")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("clone: root %s must be an existing directory", root)
	}
	url, auth, err := endpoint(opts.URL, opts.Token)
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	repoDir, work := filepath.Join(root, repoDirName), filepath.Join(root, workDirName)
	for _, p := range []string{repoDir, work} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("clone: %s already exists", p)
		}
	}
	if err := os.Mkdir(work, 0o755); err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}

	co := &git.CloneOptions{
		URL:          url,
		Auth:         auth,
		Depth:        1,
		SingleBranch: true,
		Tags:         git.NoTags,
		NoCheckout:   true, // measured first, then checked out
	}
	if opts.Branch != "" {
		ref := plumbing.NewBranchReferenceName(opts.Branch)
		if err := ref.Validate(); err != nil {
			return nil, fmt.Errorf("clone: branch %q: %w", opts.Branch, err)
		}
		co.ReferenceName = ref
	}
	st := filesystem.NewStorage(osfs.New(repoDir), cache.NewObjectLRUDefault())
	repo, err := git.CloneContext(ctx, st, osfs.New(work, osfs.WithBoundOS()), co)
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("clone: head: %w", err)
	}
	// The tree is measured against the work tree's bounds before a file
	// of it is written: a git bomb stops here.
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	src := mirrorReader(repoDir) // pack files kept open between objects
	_, err = measureTree(ctx, src, c.TreeHash, opts.bounds())
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	if err := wt.Reset(&git.ResetOptions{Mode: git.MergeReset, Commit: head.Hash()}); err != nil {
		return nil, fmt.Errorf("clone: checkout: %w", err)
	}
	// go-git links the work tree to the storage with a ".git" file; the
	// work tree is the sandbox's and must not point at the host repository.
	if err := removeDotGitFile(work); err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	branch := opts.Branch
	if head.Name().IsBranch() {
		branch = head.Name().Short()
	}
	return &Workspace{Root: root, WorkTree: work, BaseCommit: head.Hash().String(), Branch: branch, bounds: opts.bounds()}, nil
}

func removeDotGitFile(work string) error {
	p := filepath.Join(work, ".git")
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("unexpected %s in the fresh work tree", p)
	}
	return os.Remove(p)
}
