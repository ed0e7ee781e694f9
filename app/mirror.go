package app

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/agentgate/agentgate/gitops"
)

// mirrors is the mirror cache the configuration asks for, or nil.
func (c *Config) mirrors(log *slog.Logger) *gitops.Mirrors {
	if c.MirrorMaxBytes <= 0 {
		return nil
	}
	return &gitops.Mirrors{Dir: filepath.Join(c.DataDir, "mirrors"), MaxBytes: c.MirrorMaxBytes, Logger: log}
}

// clone makes the run's workspace: from the mirror cache when there is
// one, by a shallow clone otherwise. Either way the result is the same
// layout, and the sandbox never sees the mirror.
func (s *Sandbox) clone(ctx context.Context, opts gitops.CloneOptions) (*gitops.Workspace, error) {
	if s.Mirrors != nil {
		return s.Mirrors.Clone(ctx, opts)
	}
	return gitops.Clone(ctx, opts)
}
