package sandbox

import (
	"context"

	"github.com/agentgate/agentgate/gitops"
)

// clone makes the run's workspace: from the mirror cache when there is
// one, by a shallow clone otherwise. Either way the result is the same
// layout, and the sandbox never sees the mirror.
func (s *Sandbox) clone(ctx context.Context, opts gitops.CloneOptions) (*gitops.Workspace, error) {
	if s.Mirrors != nil {
		return s.Mirrors.Clone(ctx, opts)
	}
	return gitops.Clone(ctx, opts)
}
