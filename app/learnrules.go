package app

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner/egress"
	"github.com/agentgate/agentgate/telemetry"
)

// ruleProposal is a method and path rule learning mode proposes for an
// inspected host whose rules refused a request.
type ruleProposal struct {
	Host string // as the request named it
	Port int
	Rule string // "METHOD /path" (the exact path, without its query)
}

func (r ruleProposal) String() string { return fmt.Sprintf("%s:%d %s", r.Host, r.Port, r.Rule) }

// learnableRules lists the requests inside inspected hosts that method
// and path rules refused, as rules naming exactly what was asked.
func learnableRules(events []telemetry.Event) []ruleProposal {
	seen := map[string]ruleProposal{}
	for _, ev := range events {
		if ev.Kind != telemetry.KindNetRequest || ev.Attrs["reason"] != string(egress.ReasonRule) || ev.Actor == "setup" {
			continue
		}
		host, _ := ev.Attrs["host"].(string)
		method, _ := ev.Attrs["method"].(string)
		path, _ := ev.Attrs["path"].(string)
		path, _, _ = strings.Cut(path, "?")
		port, _ := telemetry.IntAttr(ev.Attrs, "port")
		if host == "" || port <= 0 || method == "" || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " *") {
			continue
		}
		r := ruleProposal{Host: host, Port: port, Rule: method + " " + path}
		seen[r.String()] = r
	}
	out := make([]ruleProposal, 0, len(seen))
	for _, r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// withRules adds each proposal to the rules of the repository's mapping
// entry for its host in doc's network.allow. A proposal for a host whose
// rules the repository's file does not write (the org's refused it) is
// left out: the repository cannot widen the org's rules. It returns the
// proposals it added.
func withRules(doc *yaml.Node, props []ruleProposal) []ruleProposal {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	get := func(m *yaml.Node, key string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	allow := get(get(doc.Content[0], "network"), "allow")
	if allow == nil || allow.Kind != yaml.SequenceNode {
		return nil
	}
	var added []ruleProposal
	for _, p := range props {
		for _, e := range allow.Content {
			host, rules := get(e, "host"), get(e, "rules")
			if host == nil || rules == nil || rules.Kind != yaml.SequenceNode ||
				!policy.HostAllowed([]string{host.Value}, p.Host, p.Port) {
				continue
			}
			if !slices.ContainsFunc(rules.Content, func(n *yaml.Node) bool { return n.Value == p.Rule }) {
				rules.Content = append(rules.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p.Rule, Style: yaml.DoubleQuotedStyle})
				added = append(added, p)
			}
			break
		}
	}
	return added
}
