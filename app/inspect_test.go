package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/policy"
)

func TestLoadEgressCredentials(t *testing.T) {
	file := filepath.Join(t.TempDir(), "npm")
	if err := os.WriteFile(file, []byte("npm-from-a-file-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig("serve", []string{"--egress-credentials", "NPM_TOKEN=" + file + ";installations=12,API_TOKEN;installations=*"},
		env(map[string]string{"AGENTGATE_EGRESS_CREDENTIAL_API_TOKEN": "api-from-the-env-0123"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EgressCredentials["NPM_TOKEN"] != "npm-from-a-file-0123" || cfg.EgressCredentials["API_TOKEN"] != "api-from-the-env-0123" ||
		!cfg.EgressCredentialBindings["API_TOKEN"].All || cfg.EgressCredentialBindings["NPM_TOKEN"].All {
		t.Errorf("credentials %v bindings %+v", cfg.EgressCredentials, cfg.EgressCredentialBindings)
	}
	names := map[string]bool{}
	for _, s := range cfg.knownSecrets() {
		names[s.Name] = s.Value != ""
	}
	if !names["credential:NPM_TOKEN"] || !names["credential:API_TOKEN"] {
		t.Errorf("known secrets lack the credentials: %v", names)
	}
	for spec, want := range map[string]string{
		"A=" + file:               "bound to no installation",
		"MISSING;installations=1": "AGENTGATE_EGRESS_CREDENTIAL_MISSING is not set",
		"lower;installations=1":   "not NAME",
		"SHORT;installations=1":   "shorter than",
		"A=" + file + ";installations=1,A=" + file + ";installations=2": "twice",
	} {
		_, _, err := LoadConfig("serve", []string{"--egress-credentials", spec}, env(map[string]string{"AGENTGATE_EGRESS_CREDENTIAL_SHORT": "x"}), nil)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "npm-from-a-file") {
			t.Errorf("%s: err %v, want %q", spec, err, want)
		}
	}
}

func TestCheckCredentials(t *testing.T) {
	parse := func(s string) *policy.Config {
		c, err := policy.Parse(".github/agentgate.yml", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cfg := DefaultConfig()
	cfg.EgressCredentials = map[string]string{"NPM_TOKEN": "npm-real-0123456789", "OTHER": "other-real-0123456789"}
	cfg.EgressCredentialBindings = map[string]Binding{"NPM_TOKEN": {Installations: []int64{1}}, "OTHER": {Installations: []int64{2}}}
	org := parse("network:\n  allow:\n    - host: npm.acme.internal\n      inject: {credential: NPM_TOKEN}\n  credentials: [OTHER]\n")
	eff, err := policy.Merge(org, nil)
	if err != nil {
		t.Fatal(err)
	}
	// positive control: installation 1 has NPM_TOKEN
	if err := cfg.checkCredentials(org, nil, eff, Tenant{Installation: 1}); err != nil {
		t.Errorf("bound installation: %v", err)
	}
	// another installation's run cannot use it
	if err := cfg.checkCredentials(org, nil, eff, Tenant{Installation: 2}); err == nil || !strings.Contains(err.Error(), "NPM_TOKEN") {
		t.Errorf("unbound installation: %v", err)
	}
	// a repository binds what the org lists, and only where the operator bound it
	repo := parse("network:\n  allow:\n    - host: npm.acme.internal\n      inject: {credential: OTHER}\n")
	eff, err = policy.Merge(org, repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.checkCredentials(org, repo, eff, Tenant{Installation: 1}); err == nil || !strings.Contains(err.Error(), "OTHER") {
		t.Errorf("OTHER used outside its installation: %v", err)
	}
	// a credential the worker does not have at all
	cfg.EgressCredentials = nil
	if err := cfg.checkCredentials(org, nil, eff, Tenant{Installation: 1}); err == nil {
		t.Error("a credential the operator does not provide was accepted")
	}
}
