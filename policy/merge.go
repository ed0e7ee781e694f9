package policy

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Merge resolves the configuration in force: the org's file (org, from the
// org's .github repository; nil when there is none) with the repository's
// file (repo; nil when there is none) on top, and the defaults under both.
//
// Where the org sets a limit, the repository can only narrow it:
//   - min_permission may rise, never fall below the org's;
//   - allowed_users and allowed_teams, when the org sets either, may only
//     list users and teams the org lists;
//   - agent.preset and agent.image must be in the org's presets and images
//     when the org gives them; only the org's file may set those lists;
//   - agent.timeout, every limits entry, max_files and max_lines may only
//     be lower or equal;
//   - network.mode may only move towards none (none < relay < learn);
//   - every network.allow entry must be covered by an org entry (the same
//     name, or under an org wildcard, on ports the org allows);
//   - allow_binary and allow_symlinks may go from true to false only;
//   - setup.allow entries must be covered by the org's setup.allow, and
//     setup.secrets be among the org's setup.secrets, when the org sets
//     them; setup.timeout may only be shorter;
//   - mode: plan in the org's file cannot be lifted (mode.go).
//
// protected_paths, reviewers, team_reviewers and labels are unions: the
// org's always apply, and DefaultProtectedPaths always do. trigger, draft,
// agent.command and setup.command are preferences a repository may
// override.
//
// A repository that tries to widen a setting gets an error naming the
// setting, the line and the org's value rather than a silent clamp: a
// clamp would run with settings nobody wrote, and the person who wrote
// the file would not learn why their setting had no effect. The error is
// a *ConfigError located in the repository's file.
func Merge(org, repo *Config) (EffectiveConfig, error) {
	if org == nil {
		org = &Config{}
	}
	if repo == nil {
		repo = &Config{}
	}
	m := merger{org: org, repo: repo}
	e := EffectiveConfig{
		MinPermission: DefaultMinPermission,
		Network:       EffectiveNetwork{Mode: DefaultNetworkMode},
		Limits: EffectiveLimits{
			MemoryBytes: DefaultMemory, CPUs: DefaultCPUs, Pids: DefaultPids,
			TmpBytes: DefaultTmpSize, OutputBytes: DefaultOutput, WorkspaceBytes: DefaultWorkspaceSize,
		},
		MaxFiles: DefaultMaxFiles, MaxLines: DefaultMaxLines,
	}
	m.who(&e)
	m.agent(&e)
	m.setup(&e)
	m.limits(&e)
	m.network(&e)
	m.changes(&e)
	m.review(&e)
	m.verify(&e)
	m.ci(&e)
	m.mode(&e)
	if len(m.errs) > 0 {
		sort.SliceStable(m.errs, func(i, j int) bool { return m.errs[i].Line < m.errs[j].Line })
		return EffectiveConfig{}, m.errs[0]
	}
	return e, nil
}

// merger collects the widening attempts of one Merge.
type merger struct {
	org, repo *Config
	errs      []*ConfigError
}

// widen records that the repository's setting at path goes beyond the org's.
func (m *merger) widen(path, format string, args ...any) {
	m.errs = append(m.errs, m.repo.src.errorAt(path, prefix(path, fmt.Sprintf(format, args...))))
}

func (m *merger) who(e *EffectiveConfig) {
	if p := m.org.MinPermission; p != "" {
		e.MinPermission = p
	}
	if p := m.repo.MinPermission; p != "" {
		if m.org.MinPermission != "" && rank[p] < rank[m.org.MinPermission] {
			m.widen("min_permission", "%q is below the org's %q; a repository can only raise it", p, m.org.MinPermission)
		}
		e.MinPermission = p
	}
	orgRestricts := m.org.AllowedUsers != nil || m.org.AllowedTeams != nil
	e.AllowedUsers, e.AllowedTeams = m.org.AllowedUsers, m.org.AllowedTeams
	if m.repo.AllowedUsers != nil || m.repo.AllowedTeams != nil {
		if orgRestricts {
			for i, u := range m.repo.AllowedUsers {
				if !containsFold(m.org.AllowedUsers, u) {
					m.widen("allowed_users/"+strconv.Itoa(i), "%q is not in the org's allowed_users; a repository can only narrow the org's list", u)
				}
			}
			for i, t := range m.repo.AllowedTeams {
				if !containsFold(m.org.AllowedTeams, t) {
					m.widen("allowed_teams/"+strconv.Itoa(i), "%q is not in the org's allowed_teams; a repository can only narrow the org's list", t)
				}
			}
		}
		e.AllowedUsers, e.AllowedTeams = m.repo.AllowedUsers, m.repo.AllowedTeams
	}
	e.AllowedUsers, e.AllowedTeams = sortedSet(e.AllowedUsers, true), sortedSet(e.AllowedTeams, true)
}

func (m *merger) agent(e *EffectiveConfig) {
	if m.repo.Presets != nil {
		m.widen("presets", "only the org's file may list presets")
	}
	if m.repo.Images != nil {
		m.widen("images", "only the org's file may list images")
	}
	e.Presets, e.Images = slices.Clone(m.org.Presets), slices.Clone(m.org.Images)
	e.Agent = EffectiveAgent{Preset: DefaultPreset, Timeout: DefaultTimeout}
	if len(e.Presets) > 0 && !slices.Contains(e.Presets, DefaultPreset) {
		e.Agent.Preset = e.Presets[0] // the org's first choice
	}
	chose := m.repo // the file that chose the preset, for the custom-image check
	for _, c := range []*Config{m.org, m.repo} {
		a := c.Agent
		if a == nil {
			continue
		}
		if a.Preset != "" {
			e.Agent.Preset = a.Preset
			chose = c
		}
		if a.Image != "" {
			e.Agent.Image = a.Image
		}
		if a.Command != nil {
			e.Agent.Command = slices.Clone([]string(a.Command))
		}
	}
	if a := m.repo.Agent; a != nil {
		if a.Preset != "" && len(m.org.Presets) > 0 && !slices.Contains(m.org.Presets, a.Preset) {
			m.widen("agent/preset", "%q is not one of the org's presets (%s)", a.Preset, strings.Join(m.org.Presets, ", "))
		}
		if a.Image != "" && len(m.org.Images) > 0 && !slices.Contains(m.org.Images, a.Image) {
			m.widen("agent/image", "%q is not one of the org's images (%s)", a.Image, strings.Join(m.org.Images, ", "))
		}
	}
	if e.Agent.Preset == "custom" && e.Agent.Image == "" {
		m.errs = append(m.errs, chose.src.errorAt("agent/preset", "agent.preset: a custom agent needs agent.image"))
	}
	timeout := func(c *Config) *Duration {
		if c.Agent == nil {
			return nil
		}
		return c.Agent.Timeout
	}
	if t := timeout(m.org); t != nil {
		e.Agent.Timeout = time.Duration(*t)
	}
	if t := timeout(m.repo); t != nil {
		if o := timeout(m.org); o != nil && *t > *o {
			m.widen("agent/timeout", "%s is longer than the org's %s; a repository can only shorten it", t, o)
		}
		e.Agent.Timeout = time.Duration(*t)
	}
}

func (m *merger) setup(e *EffectiveConfig) {
	o, r := m.org.Setup, m.repo.Setup
	if o == nil && r == nil {
		return
	}
	e.Setup.Timeout = DefaultSetupTimeout
	if o != nil {
		e.Setup.Command = slices.Clone([]string(o.Command))
		e.Setup.Allow, e.Setup.Secrets = o.Allow, o.Secrets
		if o.Timeout != nil {
			e.Setup.Timeout = time.Duration(*o.Timeout)
		}
	}
	if r != nil {
		if r.Command != nil {
			e.Setup.Command = slices.Clone([]string(r.Command))
		}
		if r.Allow != nil {
			if o != nil && o.Allow != nil {
				for i, a := range r.Allow {
					if !coveredBy(o.Allow, a) {
						m.widen("setup/allow/"+strconv.Itoa(i), "%q is not allowed by the org's setup.allow (%s)", a, strings.Join(o.Allow, ", "))
					}
				}
			}
			e.Setup.Allow = r.Allow
		}
		if r.Secrets != nil {
			if o != nil && o.Secrets != nil {
				for i, s := range r.Secrets {
					if !slices.Contains(o.Secrets, s) {
						m.widen("setup/secrets/"+strconv.Itoa(i), "%q is not one of the org's setup.secrets (%s)", s, strings.Join(o.Secrets, ", "))
					}
				}
			}
			e.Setup.Secrets = r.Secrets
		}
		if r.Timeout != nil {
			if o != nil && o.Timeout != nil && *r.Timeout > *o.Timeout {
				m.widen("setup/timeout", "%s is longer than the org's %s; a repository can only shorten it", r.Timeout, o.Timeout)
			}
			e.Setup.Timeout = time.Duration(*r.Timeout)
		}
	}
	m.setupTrust(&e.Setup)
	e.Setup.Allow = sortedSet(e.Setup.Allow, false)
	e.Setup.Secrets = sortedSet(e.Setup.Secrets, false)
}

// setupTrust: setup.inputs describe the command in force, so they come
// from the file whose command runs (a repository that replaces the org's
// command and names no inputs gets every path); setup.on_untrusted may
// only be made stricter (stop) by a repository.
func (m *merger) setupTrust(e *EffectiveSetup) {
	o, r := m.org.Setup, m.repo.Setup
	e.OnUntrusted = SetupWithoutSecrets
	if o != nil {
		e.Inputs = o.Inputs
		if o.OnUntrusted != "" {
			e.OnUntrusted = o.OnUntrusted
		}
	}
	if r != nil {
		if r.Command != nil || r.Inputs != nil {
			e.Inputs = r.Inputs
		}
		if r.OnUntrusted != "" {
			if e.OnUntrusted == SetupStop && r.OnUntrusted != SetupStop {
				m.widen("setup/on_untrusted", "the org sets setup.on_untrusted: stop; a repository cannot release it")
			}
			e.OnUntrusted = r.OnUntrusted
		}
	}
	if e.Inputs != nil {
		e.Inputs = sortedSet(slices.Clone(e.Inputs), false)
	}
}

func (m *merger) limits(e *EffectiveConfig) {
	lim := func(c *Config) Limits {
		if c.Limits == nil {
			return Limits{}
		}
		return *c.Limits
	}
	o, r := lim(m.org), lim(m.repo)
	size := func(key string, org, repo *Size, out *int64) {
		narrowNum(m, "limits/"+key, org, repo, out, func(s Size) int64 { return int64(s) }, FormatSize)
	}
	size("memory", o.Memory, r.Memory, &e.Limits.MemoryBytes)
	size("tmp_size", o.TmpSize, r.TmpSize, &e.Limits.TmpBytes)
	size("output", o.Output, r.Output, &e.Limits.OutputBytes)
	size("workspace_size", o.WorkspaceSize, r.WorkspaceSize, &e.Limits.WorkspaceBytes)
	narrowNum(m, "limits/cpus", o.CPUs, r.CPUs, &e.Limits.CPUs, func(f float64) float64 { return f },
		func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) })
	narrowNum(m, "limits/pids", o.Pids, r.Pids, &e.Limits.Pids, func(n int64) int64 { return n },
		func(n int64) string { return strconv.FormatInt(n, 10) })
}

// narrowNum sets *out from the org's value, then from the repository's,
// which may not exceed the org's.
func narrowNum[T any, N int64 | float64 | int](m *merger, path string, org, repo *T, out *N, val func(T) N, show func(N) string) {
	if org != nil {
		*out = val(*org)
	}
	if repo != nil {
		if org != nil && val(*repo) > val(*org) {
			m.widen(path, "%s is above the org's limit of %s; a repository can only lower it", show(val(*repo)), show(val(*org)))
		}
		*out = val(*repo)
	}
}

// modeRank orders network modes from the most closed.
var modeRank = map[string]int{"none": 0, "relay": 1, "learn": 2}

func (m *merger) network(e *EffectiveConfig) {
	o, r := m.org.Network, m.repo.Network
	if o != nil && o.Mode != "" {
		e.Network.Mode = o.Mode
	}
	if o != nil && o.Allow != nil {
		e.Network.Allow = o.Allow
	}
	if r != nil && r.Mode != "" {
		if o != nil && o.Mode != "" && modeRank[r.Mode] > modeRank[o.Mode] {
			m.widen("network/mode", "%q is more open than the org's %q", r.Mode, o.Mode)
		}
		e.Network.Mode = r.Mode
	}
	if r != nil && r.Allow != nil {
		if o != nil && o.Allow != nil {
			for i, a := range r.Allow {
				if !coveredBy(o.Allow, a) {
					m.widen("network/allow/"+strconv.Itoa(i), "%q is not allowed by the org's network.allow (%s)", a, strings.Join(o.Allow, ", "))
				}
			}
		}
		e.Network.Allow = r.Allow
	}
	e.Network.Allow = sortedSet(e.Network.Allow, false)
	// Inspected hosts add up: a request must pass the org's rules and the
	// repository's. A repository binds only credentials the org lists.
	if o != nil {
		e.Network.Hosts = append(e.Network.Hosts, inspected(o.Hosts())...)
		e.Network.InspectAll = o.InspectAll != nil && *o.InspectAll
	}
	if r != nil {
		if r.Credentials != nil {
			m.widen("network/credentials", "only the org file makes credentials available")
		}
		for _, h := range inspected(r.Hosts()) {
			if h.Inject != nil && (o == nil || !slices.Contains(o.Credentials, h.Inject.Credential)) {
				m.widen("network/allow", "credential %q for %s is not one the org's network.credentials makes available to repositories",
					h.Inject.Credential, h.Host)
				continue
			}
			e.Network.Hosts = append(e.Network.Hosts, h)
		}
		if r.InspectAll != nil {
			if !*r.InspectAll && e.Network.InspectAll {
				m.widen("network/inspect_all", "the org requires inspection of every host")
			}
			e.Network.InspectAll = e.Network.InspectAll || *r.InspectAll
		}
	}
}

// inspected returns the entries that inspect their host.
func inspected(hs []HostRules) []HostRules {
	var out []HostRules
	for _, h := range hs {
		if h.Inspected() {
			out = append(out, h)
		}
	}
	return out
}

func (m *merger) changes(e *EffectiveConfig) {
	e.ProtectedPaths = sortedSet(slices.Concat(DefaultProtectedPaths, m.org.ProtectedPaths, m.repo.ProtectedPaths), false)
	show := func(n int) string { return strconv.Itoa(n) }
	id := func(n int) int { return n }
	narrowNum(m, "max_files", m.org.MaxFiles, m.repo.MaxFiles, &e.MaxFiles, id, show)
	narrowNum(m, "max_lines", m.org.MaxLines, m.repo.MaxLines, &e.MaxLines, id, show)
	flag := func(key string, org, repo *bool, out *bool) {
		if org != nil {
			*out = *org
		}
		if repo != nil {
			if org != nil && !*org && *repo {
				m.widen(key, "the org sets %s: false; a repository cannot turn it on", key)
			}
			*out = *repo
		}
	}
	flag("allow_binary", m.org.AllowBinary, m.repo.AllowBinary, &e.AllowBinary)
	flag("allow_symlinks", m.org.AllowSymlinks, m.repo.AllowSymlinks, &e.AllowSymlinks)
}

func (m *merger) review(e *EffectiveConfig) {
	for _, c := range []*Config{m.org, m.repo} {
		if c.Draft != nil {
			e.Draft = *c.Draft
		}
		if c.Paused != nil && *c.Paused {
			e.Paused = true
		}
	}
	e.Reviewers = sortedSet(slices.Concat(m.org.Reviewers, m.repo.Reviewers), true)
	e.TeamReviewers = sortedSet(slices.Concat(m.org.TeamReviewers, m.repo.TeamReviewers), true)
	e.Labels = sortedSet(slices.Concat(m.org.Labels, m.repo.Labels), false)
}

// sortedSet returns l sorted without duplicates (compared without case
// when fold, as GitHub compares logins and slugs); nil for an empty list.
func sortedSet(l []string, fold bool) []string {
	if len(l) == 0 {
		return nil
	}
	out := slices.Clone(l)
	key := func(s string) string {
		if fold {
			return strings.ToLower(s)
		}
		return s
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(key(a), key(b)) })
	return slices.CompactFunc(out, func(a, b string) bool { return key(a) == key(b) })
}

func containsFold(l []string, s string) bool {
	return slices.ContainsFunc(l, func(x string) bool { return strings.EqualFold(x, s) })
}

// FormatSize renders a byte count with the largest binary unit that
// divides it ("2GiB", "1536KiB", "100").
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		m    int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
