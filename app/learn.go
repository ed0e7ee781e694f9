package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"go.yaml.in/yaml/v3"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner/egress"
	"github.com/agentgate/agentgate/telemetry"
)

// Learning mode (`network: {mode: learn}` in .github/agentgate.yml): the
// run is enforced exactly as always, and when the agent was refused
// destinations the operator and the org would allow, agentgate proposes
// adding them to the repository's allowlist as a pull request of its own,
// for a maintainer to merge or close.

// learnable lists the destinations a run was refused only because the
// repository's allowlist lacks them, and that the operator's and the org's
// allowlists allow: "host:port", sorted.
func learnable(events []telemetry.Event, operator []string, org []string) []string {
	seen := map[string]bool{}
	for _, ev := range events {
		if ev.Kind != telemetry.KindNetDenied || ev.Attrs["reason"] != string(egress.ReasonNotAllowed) || ev.Actor == "setup" {
			continue
		}
		host, _ := ev.Attrs["host"].(string)
		port, _ := telemetry.IntAttr(ev.Attrs, "port")
		if host == "" || port <= 0 {
			continue
		}
		if !(egress.Policy{Allow: operator}).Allows(host, port) {
			continue // beyond the operator's ceiling: a proposal could not help
		}
		if org != nil && !policy.HostAllowed(org, host, port) {
			continue // beyond what the org allows
		}
		seen[host+":"+strconv.Itoa(port)] = true
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// withAllowed returns the configuration file with hosts added to
// network.allow, keeping everything else (comments included).
func withAllowed(file []byte, hosts []string) ([]byte, error) {
	out, _, err := withProposals(file, hosts, nil)
	return out, err
}

// withProposals is withAllowed that also adds method and path rules to
// the repository's inspected-host entries (withRules), and returns the
// rules it added.
func withProposals(file []byte, hosts []string, rules []ruleProposal) ([]byte, []ruleProposal, error) {
	var doc yaml.Node
	if len(strings.TrimSpace(string(file))) > 0 {
		if err := yaml.Unmarshal(file, &doc); err != nil {
			return nil, nil, fmt.Errorf("parse configuration: %w", err)
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("configuration root is not a mapping")
	}
	child := func(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		v := &yaml.Node{Kind: kind}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
		return v
	}
	network := child(root, "network", yaml.MappingNode)
	allow := child(network, "allow", yaml.SequenceNode)
	if network.Kind != yaml.MappingNode || allow.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("network.allow is not a list")
	}
	allow.Style &^= yaml.FlowStyle // one destination a line, for review
	have := map[string]bool{}
	for _, n := range allow.Content {
		have[n.Value] = true
	}
	for _, h := range hosts {
		if !have[h] {
			allow.Content = append(allow.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: h})
		}
	}
	added := withRules(&doc, rules)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, fmt.Errorf("write configuration: %w", err)
	}
	return []byte(b.String()), added, nil
}

// proposeAllowlist opens (once) the pull request that adds the learnable
// destinations to the repository's configuration. It is best effort: the
// run's own outcome does not depend on it.
func (r *run) proposeAllowlist(ctx context.Context, ws *gitops.Workspace) {
	if err := r.tryProposeAllowlist(ctx, ws); err != nil {
		r.log.Warn("learning mode: no allowlist proposal", "err", err)
	}
}

func (r *run) tryProposeAllowlist(ctx context.Context, ws *gitops.Workspace) error {
	a := r.args
	events, err := r.w.DB.Events(ctx, a.RunID)
	if err != nil {
		return err
	}
	hosts := learnable(events, r.w.Config.Network.Allow, r.cfg.OrgAllow)
	file, rules, err := withProposals(r.cfg.RepoFile, hosts, learnableRules(events))
	if err != nil {
		return err
	}
	if len(hosts) == 0 && len(rules) == 0 {
		return nil
	}
	var ruleText []string
	for _, rp := range rules {
		ruleText = append(ruleText, rp.String())
	}
	items := slices.Concat(hosts, ruleText)
	if _, err := policy.Parse(configPath, file); err != nil {
		return fmt.Errorf("proposed configuration does not validate: %w", err)
	}
	num, err := r.once(ctx, journal.AllowlistPR, func() (string, error) {
		msg := fmt.Sprintf("agentgate: allow %d network destination(s) or request rule(s) for #%d\n\nLearning mode saw the agent refused: %s.\n\nAgentgate-Run: %s\n", len(items), a.IssueNumber, strings.Join(items, ", "), a.RunID)
		sha, err := ws.CommitFile(ctx, configPath, file, msg, gitops.Signature{
			Name: r.w.Config.BotLogin(), Email: r.w.Config.AppSlug + "[bot]@users.noreply.github.com", When: time.Now().UTC(),
		})
		if err != nil {
			return "", err
		}
		tok, err := r.w.Clients.Token(ctx, a.InstallationID, pushScope(a.RepoID))
		if err != nil {
			return "", err
		}
		branch := fmt.Sprintf("agentgate/%d-allowlist", a.IssueNumber)
		if err := ws.Push(ctx, gitops.PushOptions{URL: a.CloneURL, Token: tok, Commit: sha, Branch: branch, Force: true}); err != nil {
			return "", err
		}
		body := fmt.Sprintf("In learning mode, agentgate run `%s` (for #%d) was refused these destinations, which the operator's and the org's allowlists allow, "+
			"and these requests, which method and path rules refused (host, then the rule added to the repository's rules for it; rules the org's file sets still apply):\n\n%s\n\nMerging this adds them to `network.allow` in `%s`; closing it changes nothing.",
			a.RunID, a.IssueNumber, "- `"+strings.Join(items, "`\n- `")+"`", configPath)
		pr, _, err := r.gh.PullRequests.Create(ctx, a.Owner, a.Repo, &github.NewPullRequest{
			Title: github.String(fmt.Sprintf("agentgate: allow network destinations for #%d", a.IssueNumber)),
			Head:  github.String(branch), Base: github.String(a.DefaultBranch), Body: github.String(body),
		})
		if err != nil {
			return "", fmt.Errorf("allowlist pull request: %w", err)
		}
		return strconv.Itoa(pr.GetNumber()), nil
	})
	if err != nil {
		return err
	}
	return r.auditEventOnce(ctx, journal.AllowlistEvent, telemetry.KindNetProposed, map[string]any{"hosts": strings.Join(hosts, " "), "rules": strings.Join(ruleText, ", "), "pull_request": num})
}

// learnNote is the progress comment's line about a learning-mode proposal.
func (r *run) learnNote(ctx context.Context) string {
	num, ok, err := r.w.DB.Effect(ctx, r.args.RunID, journal.AllowlistPR)
	if err != nil || !ok {
		return ""
	}
	return fmt.Sprintf("\n\nLearning mode: #%s proposes adding the destinations the agent was refused to the allowlist.", num)
}
