package app

import (
	"strings"
	"testing"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/telemetry"
)

func TestLearnRules(t *testing.T) {
	ev := func(kind, reason, method, path string) telemetry.Event {
		return telemetry.Event{Kind: kind, Actor: "agent", Attrs: map[string]any{
			"host": "api.internal", "port": float64(443), "method": method, "path": path, "reason": reason}}
	}
	events := []telemetry.Event{
		ev(telemetry.KindNetRequest, "refused by rule", "POST", "/v1/search?q=[redacted]"),
		ev(telemetry.KindNetRequest, "refused by rule", "POST", "/v1/search"), // the same rule once
		ev(telemetry.KindNetRequest, "allowlisted", "GET", "/v1/packages/x"),  // allowed: nothing to learn
		ev(telemetry.KindNetRequest, "secret in request", "GET", "/v1/x"),     // never proposed
		ev(telemetry.KindNetDenied, "refused by rule", "GET", "/x"),
	}
	rules := learnableRules(events)
	if len(rules) != 1 || rules[0].String() != "api.internal:443 POST /v1/search" {
		t.Fatalf("rules %v", rules)
	}
	file := []byte(`# keep this comment
network:
  allow:
    - registry.npmjs.org
    - host: api.internal
      rules: ["GET /v1/packages/**"]
    - host: other.internal
      rules: ["GET *"]
`)
	out, added, err := withProposals(file, nil, append(rules, ruleProposal{Host: "elsewhere.internal", Port: 443, Rule: "GET /x"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || !strings.Contains(string(out), `"POST /v1/search"`) || !strings.Contains(string(out), "# keep this comment") ||
		strings.Contains(string(out), "GET /x") {
		t.Fatalf("added %v:\n%s", added, out)
	}
	c, err := policy.Parse(configPath, out)
	if err != nil {
		t.Fatalf("proposal does not parse: %v\n%s", err, out)
	}
	if h := c.Network.Hosts(); len(h) != 2 || len(h[0].Rules) != 2 || h[0].Rules[1] != "POST /v1/search" {
		t.Errorf("hosts %+v", h)
	}
	// a repository file without rules for the host gets none: the org's
	// rules refused it and a repository cannot widen them
	if _, added, _ := withProposals([]byte("network:\n  allow: [api.internal]\n"), nil, rules); len(added) != 0 {
		t.Errorf("added %v to a plain entry", added)
	}
}
