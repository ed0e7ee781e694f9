package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner/egress"
	"github.com/agentgate/agentgate/sandbox"
)

// configPath is where a repository (and the org, in its `.github`
// repository) keeps agentgate's configuration.
const configPath = ".github/agentgate.yml"

// orgConfigRepo is the org repository that holds the org's defaults.
const orgConfigRepo = ".github"

// repoConfig is the configuration in force for one run.
type repoConfig struct {
	Effective policy.EffectiveConfig
	// AllowSet is true when the org or the repository wrote a network
	// allowlist; otherwise the operator's stands as it is.
	AllowSet bool
	// RepoFile is the repository's file as read (nil when absent), and
	// OrgAllow the org's allowlist (nil when the org sets none): learning
	// mode proposes within it.
	RepoFile []byte
	OrgAllow []string
	// AgentChosen is true when the org or the repository picks the agent;
	// otherwise the operator's runs.
	AgentChosen bool
	// Tenant is the installation and repository the run is for: the
	// operator's setup secrets, images and private destinations bound to
	// others are not its.
	Tenant Tenant
}

// loadConfig reads the repository's config from its default branch and the
// org's from its `.github` repository, and merges them (the repository can
// only narrow the org). A missing file is no error; an invalid one is a
// *policy.ConfigError naming the file and line.
func (i *issue) loadConfig(ctx context.Context) (*repoConfig, error) {
	w := i.w
	owner, inst := i.owner, i.installationID
	repoGH, err := w.Clients.Installation(inst, configScope(i.repoID))
	if err != nil {
		return nil, err
	}
	repoFile, err := readConfigFile(ctx, repoGH, owner, i.repo, i.defaultBranch)
	if err != nil {
		return nil, err
	}
	var orgFile []byte
	if i.repo != orgConfigRepo {
		orgGH, err := w.Clients.Installation(inst, Scope{RepoNames: []string{orgConfigRepo}, Contents: "read"})
		if err != nil {
			return nil, err
		}
		orgFile, err = readConfigFile(ctx, orgGH, owner, orgConfigRepo, "")
		if err != nil {
			if !errNoOrgRepo(err) {
				return nil, fmt.Errorf("org policy (%s/%s): %w", owner, orgConfigRepo, err)
			}
			// Not an error: most orgs have no such repository. Said
			// where an operator looks, because an org that has one the
			// installation does not cover gets no org policy.
			slog.InfoContext(ctx, "no org policy: the installation cannot read the org's .github repository (it does not exist or is not among the installation's repositories)",
				"owner", owner, "installation", inst, "status", httpStatus(err))
		}
	}
	var org, repo *policy.Config
	if orgFile != nil {
		if org, err = policy.Parse(owner+"/"+orgConfigRepo+":"+configPath, orgFile); err != nil {
			return nil, err
		}
	}
	if repoFile != nil {
		if repo, err = policy.Parse(configPath, repoFile); err != nil {
			return nil, err
		}
	}
	eff, err := policy.Merge(org, repo)
	if err != nil {
		return nil, err
	}
	if err := w.Config.checkChoices(org, repo, eff, i.tenant()); err != nil {
		return nil, err
	}
	if err := w.Config.checkCredentials(org, repo, eff, i.tenant()); err != nil {
		return nil, err
	}
	set := (org != nil && org.Network != nil && org.Network.Allow != nil) || (repo != nil && repo.Network != nil && repo.Network.Allow != nil)
	rc := &repoConfig{Effective: eff, AllowSet: set, RepoFile: repoFile, AgentChosen: agentChosen(org, repo), Tenant: i.tenant()}
	if org != nil && org.Network != nil {
		rc.OrgAllow = org.Network.Allow
	}
	return rc, nil
}

// readConfigFile returns the file at configPath, nil when there is none.
func readConfigFile(ctx context.Context, gh *github.Client, owner, repo, ref string) ([]byte, error) {
	var opts *github.RepositoryContentGetOptions
	if ref != "" {
		opts = &github.RepositoryContentGetOptions{Ref: ref}
	}
	file, _, resp, err := gh.Repositories.GetContents(ctx, owner, repo, configPath, opts)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s:%s: %w", owner, repo, configPath, err)
	}
	if file == nil {
		return nil, fmt.Errorf("read %s/%s:%s: not a file", owner, repo, configPath)
	}
	if file.GetSize() > policy.MaxConfigBytes {
		return nil, &policy.ConfigError{File: configPath, Line: 1, Problem: fmt.Sprintf("the file is %d bytes; the limit is %d", file.GetSize(), policy.MaxConfigBytes)}
	}
	content, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s/%s:%s: %w", owner, repo, configPath, err)
	}
	return []byte(content), nil
}

// errNoOrgRepo is true when the installation cannot see the org's
// `.github` repository: GitHub refuses to mint a token for it (422: "does
// not exist or is not accessible to the parent installation") or answers
// 404. The org then has no defaults for agentgate. It is decided on the
// HTTP status alone: any other failure (a 5xx, a network error, a message
// that merely contains "404") fails the run closed rather than running it
// without the org's policy.
func errNoOrgRepo(err error) bool {
	switch httpStatus(err) {
	case http.StatusUnprocessableEntity, http.StatusNotFound:
		return true
	}
	return false
}

// httpStatus is the status of the GitHub answer behind err (a token mint
// refused by GitHub, or an API error), 0 when there was none.
func httpStatus(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var he *ghinstallation.HTTPError
	if errors.As(err, &he) && he.Response != nil && he.RootCause == nil {
		return he.Response.StatusCode
	}
	return 0
}

// runPolicy turns the operator's configuration and the repository's into
// what one run may use: every limit the smaller of the two, the network
// allowlist the operator's narrowed by the org's and the repository's.
func (c Config) runPolicy(rc *repoConfig) *sandbox.RunPolicy {
	e := rc.Effective
	p := &sandbox.RunPolicy{
		Limits:        c.Limits,
		Network:       c.networkFor(rc.Tenant),
		Protected:     e.ProtectedPaths,
		MaxFiles:      e.MaxFiles,
		MaxLines:      e.MaxLines,
		AllowBinary:   e.AllowBinary,
		AllowSymlinks: e.AllowSymlinks,
	}
	lower := func(op *int64, v int64) {
		if v > 0 && v < *op {
			*op = v
		}
	}
	lower(&p.Limits.MemoryBytes, e.Limits.MemoryBytes)
	lower(&p.Limits.NanoCPUs, int64(e.Limits.CPUs*1e9))
	lower(&p.Limits.Pids, e.Limits.Pids)
	lower(&p.Limits.TmpfsBytes, e.Limits.TmpBytes)
	lower(&p.Limits.OutputBytes, e.Limits.OutputBytes)
	lower((*int64)(&p.Limits.Timeout), int64(e.Agent.Timeout))
	p.WorkspaceBytes = c.WorkspaceBytes
	lower(&p.WorkspaceBytes, e.Limits.WorkspaceBytes)
	switch e.Network.Mode {
	case "none":
		p.Network.Mode = "none"
	case "learn":
		// Enforced exactly as relay; the run ends by proposing what it
		// was refused.
		p.Learn = p.Network.Mode == "relay"
	}
	if rc.AllowSet {
		// An allowlist written empty allows nothing (nil would mean "no
		// narrowing" to Narrow).
		allow := e.Network.Allow
		if allow == nil {
			allow = []string{}
		}
		p.Network.Allow = egress.Policy{Allow: c.Network.Allow}.Narrow(egress.Policy{Allow: allow}).Allow
		if p.Network.Allow == nil {
			p.Network.Allow = []string{}
		}
	}
	// The operator's inspected hosts (if any), then the org's and the
	// repository's: a request must pass the rules of each.
	p.Network.Inspect = slices.Concat(p.Network.Inspect, e.Network.Hosts)
	p.Network.InspectAll = p.Network.InspectAll || e.Network.InspectAll
	c.applyChoices(p, rc)
	return p
}

// configComment explains, once, why the run did not start.
func configComment(err error) string {
	return fmt.Sprintf("agentgate did not start: its configuration is not valid.\n\n```text\n%s\n```\n\nFix the file and comment again.", strings.ReplaceAll(err.Error(), "```", "'''"))
}
