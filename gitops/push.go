package gitops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// BranchPrefix is the namespace of every branch agentgate pushes.
const BranchPrefix = "agentgate/"

// Push pushes Commit to refs/heads/Branch at URL. The branch must be a
// valid ref under agentgate/; pushing a commit the branch already points
// at is not an error.
func (w *Workspace) Push(ctx context.Context, opts PushOptions) error {
	if !strings.HasPrefix(opts.Branch, BranchPrefix) {
		return fmt.Errorf("push: branch %q is not under %s", opts.Branch, BranchPrefix)
	}
	ref := plumbing.NewBranchReferenceName(opts.Branch)
	if err := ref.Validate(); err != nil {
		return fmt.Errorf("push: branch %q: %w", opts.Branch, err)
	}
	h, err := parseHash(opts.Commit)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	st, err := w.storage()
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if _, err := object.GetCommit(st, h); err != nil {
		return fmt.Errorf("push: commit %s: %w", h, err)
	}
	url, auth, err := endpoint(opts.URL, opts.Token)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	spec := config.RefSpec(h.String() + ":" + ref.String())
	if opts.Force {
		spec = "+" + spec
	}
	remote := git.NewRemote(st, &config.RemoteConfig{Name: "agentgate-push", URLs: []string{url}})
	err = remote.PushContext(ctx, &git.PushOptions{
		RemoteName: "agentgate-push",
		RefSpecs:   []config.RefSpec{spec},
		Auth:       auth,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("push: %w", err)
	}
	return nil
}
