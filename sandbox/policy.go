package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/telemetry"
)

// RunPolicy is what the configuration allows one run.
type RunPolicy struct {
	Limits         runner.Limits
	WorkspaceBytes int64
	Network        NetworkConfig
	Protected      []string
	MaxFiles       int
	MaxLines       int
	AllowBinary    bool
	AllowSymlinks  bool
	Learn          bool // learning mode: propose the refused destinations
	// Agent, when set, is the agent the configuration picked (AgentPick
	// says which, for the policy's digest); nil runs the operator's.
	Agent     func(gatewayEnv []string) (agents.Preset, error) `json:"-"`
	AgentPick *policy.EffectiveAgent                           `json:",omitempty"`
	// Setup, when set, runs before the agent (see Sandbox.setupPhase).
	Setup *SetupPlan
}

// Violations lists what in the change the policy does not allow.
// Protected paths are no violation: see ProtectedChanges.
func (p *RunPolicy) Violations(files []ChangedFile) []string {
	var out []string
	lines := 0
	for _, f := range files {
		lines += f.Added + f.Removed
		switch {
		case f.Binary && !p.AllowBinary:
			out = append(out, fmt.Sprintf("%s is a binary file and binary changes are not allowed", telemetry.CodeText(f.Path)))
		case f.Symlink && !p.AllowSymlinks:
			out = append(out, fmt.Sprintf("%s is a symlink and symlink changes are not allowed", telemetry.CodeText(f.Path)))
		}
	}
	if p.MaxFiles > 0 && len(files) > p.MaxFiles {
		out = append(out, fmt.Sprintf("%d files changed; the limit is %d", len(files), p.MaxFiles))
	}
	if p.MaxLines > 0 && lines > p.MaxLines {
		out = append(out, fmt.Sprintf("%d lines changed; the limit is %d", lines, p.MaxLines))
	}
	return slices.Compact(out)
}

// ChangedFile is what the policy looks at in a changed file.
type ChangedFile struct {
	Path           string
	Added, Removed int
	Binary         bool
	Symlink        bool
}

// WorkflowsDir is where GitHub refuses changes from an app without the
// `workflows` permission, which agentgate does not ask for.
const WorkflowsDir = ".github/workflows/"

// ProtectedChanges splits the paths of a change that policy protects:
// workflows (never pushed) and the rest (pushed, but only approved by a
// maintainer who did not ask for the run).
func (p *RunPolicy) ProtectedChanges(files []ChangedFile) (workflows, protected []string) {
	for _, f := range files {
		switch {
		case strings.HasPrefix(f.Path, WorkflowsDir):
			workflows = append(workflows, f.Path)
		case policy.MatchAny(p.Protected, f.Path):
			protected = append(protected, f.Path)
		}
	}
	return workflows, protected
}

// FileList renders changed files as a Markdown list (bounded).
func FileList(files []ChangedFile) string {
	const most = 50
	var b strings.Builder
	for i, f := range files {
		if i == most {
			fmt.Fprintf(&b, "- … and %d more\n", len(files)-most)
			break
		}
		kind := ""
		switch {
		case f.Symlink:
			kind = ", symlink"
		case f.Binary:
			kind = ", binary"
		}
		fmt.Fprintf(&b, "- %s (+%d −%d%s)\n", telemetry.CodeText(f.Path), f.Added, f.Removed, kind)
	}
	return b.String()
}

// CodeList renders paths as a comma-separated list of code spans.
//
// The names are the agent's: each is one telemetry.CodeText span (no
// markup, mentions or closing keywords), and the list stops at
// maxCodeList bytes, so agentgate's note around it stays within GitHub's
// limits.
func CodeList(paths []string) string {
	var b strings.Builder
	for i, p := range paths {
		item := telemetry.CodeText(p)
		if b.Len()+len(item) > maxCodeList {
			fmt.Fprintf(&b, " and %d more", len(paths)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(item)
	}
	return b.String()
}

// maxCodeList bounds a list of protected paths in a note.
const maxCodeList = 4 << 10

// Digest is the hex SHA-256 of the policy in force, without any secret:
// limits, network mode and allowlists, protected paths and change limits.
func (p *RunPolicy) Digest() string {
	if p == nil {
		return ""
	}
	c := *p
	c.Network.OpenAIKey, c.Network.AnthropicKey = "", ""
	b, err := json.Marshal(c)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
