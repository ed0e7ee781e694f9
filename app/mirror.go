package app

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
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

// newSandbox is the sandbox the configuration describes, on engine,
// recording to events, with network for runs that carry no policy of
// their own.
func (c Config) newSandbox(engine *runner.Engine, events telemetry.Recorder, network sandbox.NetworkConfig, log *slog.Logger) *sandbox.Sandbox {
	return &sandbox.Sandbox{
		Engine: engine, Events: events, DataDir: c.DataDir, WorkerID: c.WorkerID,
		Agent: c.preset, Runtime: c.AgentRuntime, Limits: c.Limits,
		WorkspaceBytes: c.WorkspaceBytes, WorkspaceInodes: c.WorkspaceInodes, Logger: log,
		Mirrors: c.mirrors(log), Network: network,
		Credentials: c.EgressCredentials, KnownSecrets: c.knownSecrets(),
	}
}
