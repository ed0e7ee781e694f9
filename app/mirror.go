package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/runner"
)

// mirrors is the mirror cache the configuration asks for, or nil.
func (c *Config) mirrors(log *slog.Logger) *gitops.Mirrors {
	if c.MirrorMaxBytes <= 0 {
		return nil
	}
	m := &gitops.Mirrors{Dir: filepath.Join(c.DataDir, "mirrors"), MaxBytes: c.MirrorMaxBytes, MaxTrees: int(c.MirrorCheckouts), Logger: log}
	if c.MirrorOverlay == "off" {
		m.Overlay = gitops.OverlayOff
	}
	// Cached checkouts belong to the sandbox user, so an agent edits
	// them through the overlay without a copy-up per file to chown it.
	if uid, gid, err := runner.UserIDs(runner.DefaultUser()); err == nil && os.Geteuid() == 0 {
		m.Owner = &gitops.FileOwner{UID: uid, GID: gid}
	}
	return m
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
