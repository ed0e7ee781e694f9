package policy

import (
	"strings"
	"testing"
)

func TestParseInspectedHosts(t *testing.T) {
	c := mustParse(t, "repo.yml", `
network:
  allow:
    - registry.npmjs.org
    - host: api.internal:8443
      rules: ["GET /v1/packages/**", "POST /v1/search"]
      inject: {credential: NPM_TOKEN, header: Authorization, format: "Bearer {}"}
    - host: git.internal
      inject: {credential: GIT_TOKEN, basic_user: x-access-token}
    - host: plain.example.com
    - host: seen.example.com
      inspect: true
  inspect_all: true
`)
	n := c.Network
	want := []string{"registry.npmjs.org", "api.internal:8443", "git.internal", "plain.example.com", "seen.example.com"}
	if strings.Join(n.Allow, " ") != strings.Join(want, " ") {
		t.Errorf("allow = %q", n.Allow)
	}
	if len(n.Hosts()) != 4 || n.Hosts()[0].Inject.Format != "Bearer {}" || n.Hosts()[1].Inject.BasicUser != "x-access-token" ||
		n.Hosts()[2].Inspected() || !n.Hosts()[3].Inspected() || n.InspectAll == nil || !*n.InspectAll {
		t.Errorf("hosts = %+v", n.Hosts())
	}
}

func TestParseInspectedHostsRefused(t *testing.T) {
	for name, in := range map[string]string{
		"bad rule":          "network: {allow: [{host: a.example, rules: [\"GET v1\"]}]}",
		"half globstar":     "network: {allow: [{host: a.example, rules: [\"GET /a**\"]}]}",
		"unknown key":       "network: {allow: [{host: a.example, token: x}]}",
		"no host":           "network: {allow: [{inspect: true}]}",
		"format without {}": "network: {allow: [{host: a.example, inject: {credential: T, format: Bearer}}]}",
		"lower credential":  "network: {allow: [{host: a.example, inject: {credential: t}}]}",
		"ip host":           "network: {allow: [{host: 10.0.0.1, inspect: true}]}",
	} {
		if _, err := Parse("repo.yml", []byte(in)); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
}

func TestMergeInspectedHosts(t *testing.T) {
	org := `
network:
  allow:
    - host: api.internal
      rules: ["GET *"]
      inject: {credential: ORG_TOKEN}
  credentials: [NPM_TOKEN]
  inspect_all: true
`
	// a repository narrows with rules of its own and binds a credential
	// the org made available
	e, err := mergeYAML(t, org, `
network:
  allow:
    - host: api.internal
      rules: ["GET /v1/**"]
      inject: {credential: NPM_TOKEN}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Network.Hosts) != 2 || e.Network.Hosts[0].Inject.Credential != "ORG_TOKEN" ||
		e.Network.Hosts[1].Rules[0] != "GET /v1/**" || !e.Network.InspectAll {
		t.Errorf("effective: %+v", e.Network)
	}
	for name, repo := range map[string]string{
		"unlisted credential":  "network: {allow: [{host: api.internal, inject: {credential: ORG_TOKEN}}]}",
		"inspect_all off":      "network: {inspect_all: false}",
		"repo credentials":     "network: {credentials: [X]}",
		"host outside the org": "network: {allow: [{host: other.example, inspect: true}]}",
	} {
		if _, err := mergeYAML(t, org, repo); err == nil {
			t.Errorf("%s: merged", name)
		}
	}
	// without an org file a repository binds no credential at all
	if _, err := mergeYAML(t, "", "network: {allow: [{host: a.example, inject: {credential: NPM_TOKEN}}]}"); err == nil {
		t.Error("credential bound without an org file")
	}
	// plain entries keep working, and no inspection changes nothing
	e, err = mergeYAML(t, "", "network: {allow: [a.example, {host: b.example}]}")
	if err != nil || len(e.Network.Hosts) != 0 || len(e.Network.Allow) != 2 {
		t.Errorf("plain: %+v %v", e.Network, err)
	}
}
