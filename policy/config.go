package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Config is one parsed .github/agentgate.yml, a repository's or an org's.
// A nil pointer or nil slice means the file does not set the setting. The
// json tags are the file's keys; schema.json describes the same keys, and a
// test keeps the two in step.
type Config struct {
	MinPermission  string   `json:"min_permission,omitempty"` // read, triage, write, maintain, admin
	AllowedUsers   []string `json:"allowed_users,omitempty"`  // logins; nil = not restricted by user
	AllowedTeams   []string `json:"allowed_teams,omitempty"`  // team slugs or org/slug
	Agent          *Agent   `json:"agent,omitempty"`
	Setup          *Setup   `json:"setup,omitempty"`
	Limits         *Limits  `json:"limits,omitempty"`
	Network        *Network `json:"network,omitempty"`
	ProtectedPaths []string `json:"protected_paths,omitempty"` // globs, ** spans directories
	MaxFiles       *int     `json:"max_files,omitempty"`
	MaxLines       *int     `json:"max_lines,omitempty"`
	AllowBinary    *bool    `json:"allow_binary,omitempty"`
	AllowSymlinks  *bool    `json:"allow_symlinks,omitempty"`
	Draft          *bool    `json:"draft,omitempty"`
	// Paused stops new runs at once (the org's kill switch; a repository
	// can pause itself too, but cannot lift the org's pause).
	Paused *bool `json:"paused,omitempty"`
	// Mode is "direct" (the agent changes the code at once) or "plan" (it
	// first proposes a plan a maintainer approves; mode.go).
	Mode          string   `json:"mode,omitempty"`
	Reviewers     []string `json:"reviewers,omitempty"`
	TeamReviewers []string `json:"team_reviewers,omitempty"`
	Labels        []string `json:"labels,omitempty"`
	Verify        *Verify  `json:"verify,omitempty"`
	CI            *CI      `json:"ci,omitempty"`
	Commits       *Commits `json:"commits,omitempty"`
	Presets       []string `json:"presets,omitempty"` // org file only
	Images        []string `json:"images,omitempty"`  // org file only

	src source // where each setting was written, for errors found after parsing
}

// Agent selects the agent and bounds its run time.
type Agent struct {
	Preset  string    `json:"preset,omitempty"` // codex, claude-code, aider, builtin, custom
	Image   string    `json:"image,omitempty"`
	Command Command   `json:"command,omitempty"`
	Timeout *Duration `json:"timeout,omitempty"`
}

// Setup is the setup phase that runs before the agent.
type Setup struct {
	Command Command   `json:"command,omitempty"`
	Allow   []string  `json:"allow,omitempty"`   // the setup phase's egress allowlist
	Secrets []string  `json:"secrets,omitempty"` // operator setup secrets by name
	Timeout *Duration `json:"timeout,omitempty"`
	// Inputs are globs of the files the setup command reads or runs
	// (package.json, lock files, scripts); default every path. Secrets go
	// to the setup phase only when none of them differs from the default
	// branch.
	Inputs []string `json:"inputs,omitempty"`
	// OnUntrusted is what happens when an input differs from the default
	// branch (a follow-up on the agent's branch): SetupWithoutSecrets
	// (default) or SetupStop.
	OnUntrusted string `json:"on_untrusted,omitempty"`
}

// Values of setup.on_untrusted.
const (
	SetupWithoutSecrets = "without-secrets" // the setup phase runs, with none of its secrets
	SetupStop           = "stop"            // the run stops before the setup phase
)

// Limits are the sandbox's resource limits.
type Limits struct {
	Memory        *Size    `json:"memory,omitempty"`
	CPUs          *float64 `json:"cpus,omitempty"`
	Pids          *int64   `json:"pids,omitempty"`
	TmpSize       *Size    `json:"tmp_size,omitempty"`
	Output        *Size    `json:"output,omitempty"`
	WorkspaceSize *Size    `json:"workspace_size,omitempty"`
}

// Network is the sandbox's network setting.
type Network struct {
	Mode string `json:"mode,omitempty"` // relay, none, learn
	// Allow holds every allowlist entry's host (host or *.suffix, optional
	// :port), written as a plain string or as an inspected-host mapping.
	Allow []string `json:"allow,omitempty"`
	// hosts are the entries written as mappings (Hosts).
	hosts      []HostRules
	InspectAll *bool `json:"inspect_all,omitempty"`
	// Credentials (org file) are the operator credentials repositories may
	// bind with inject.
	Credentials []string `json:"credentials,omitempty"`
}

// HostRules is an allowlist entry written as a mapping: the proxy ends
// the host's TLS with the run's CA and inspects each request.
type HostRules struct {
	Host    string   `json:"host"`
	Inspect bool     `json:"inspect,omitempty"` // implied by Rules or Inject
	Rules   []string `json:"rules,omitempty"`   // "METHODS PATH"; none = every request
	Inject  *Inject  `json:"inject,omitempty"`
}

// Inject binds an operator credential to an inspected host.
type Inject struct {
	Credential string   `json:"credential"`
	Header     string   `json:"header,omitempty"`     // default Authorization
	Format     string   `json:"format,omitempty"`     // default "{}"
	BasicUser  string   `json:"basic_user,omitempty"` // basic auth instead of Header/Format
	Rules      []string `json:"rules,omitempty"`      // requests that get it; none = all
}

// UnmarshalJSON reads allow entries written as strings or as mappings.
func (n *Network) UnmarshalJSON(b []byte) error {
	var raw struct {
		Mode        string            `json:"mode"`
		Allow       []json.RawMessage `json:"allow"`
		InspectAll  *bool             `json:"inspect_all"`
		Credentials []string          `json:"credentials"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	*n = Network{Mode: raw.Mode, InspectAll: raw.InspectAll, Credentials: raw.Credentials}
	if raw.Allow != nil {
		n.Allow = make([]string, 0, len(raw.Allow))
	}
	for i, r := range raw.Allow {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			n.Allow = append(n.Allow, s)
			continue
		}
		var h HostRules
		d := json.NewDecoder(bytes.NewReader(r))
		d.DisallowUnknownFields()
		if err := d.Decode(&h); err != nil {
			return fmt.Errorf("network.allow[%d]: %w", i, err)
		}
		n.Allow = append(n.Allow, h.Host)
		n.hosts = append(n.hosts, h)
	}
	return nil
}

// Hosts are the allow entries written as mappings: inspected hosts with
// their rules and credential.
func (n *Network) Hosts() []HostRules { return n.hosts }

// Inspected reports whether the entry has the proxy inspect its host.
func (h HostRules) Inspected() bool { return h.Inspect || len(h.Rules) > 0 || h.Inject != nil }

// ErrorAt returns a ConfigError for the setting at path (keys joined by
// "/", e.g. "agent/image" or "setup/secrets/0") located where this file
// wrote it, for problems found outside this package (such as a choice the
// operator does not allow).
func (c *Config) ErrorAt(path, problem string) *ConfigError {
	return c.src.errorAt(path, prefix(path, problem))
}

// source maps a setting's path (keys and indexes joined by "/") to where
// the file wrote it.
type source struct {
	file string
	pos  map[string]position
}

// position is a 1-based line and column.
type position struct{ line, col int }

// errorAt returns a ConfigError for the setting at path, located where the
// file wrote it (or at the nearest enclosing setting it wrote).
func (s source) errorAt(path, problem string) *ConfigError {
	e := &ConfigError{File: s.file, Problem: problem}
	for p := path; ; {
		if pos, ok := s.pos[p]; ok {
			e.Line, e.Column = pos.line, pos.col
			return e
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return e
		}
		p = p[:i]
	}
}
