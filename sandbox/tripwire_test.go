package sandbox

import (
	"testing"

	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/policy"
)

// A phase's secrets are every real secret, the credentials, the clone
// token and the canaries, less the values the phase holds by design.
func TestPhaseSecrets(t *testing.T) {
	s := &Sandbox{
		KnownSecrets: []secretforms.Secret{{Name: "agentgate:webhook-secret", Value: "whsec-0123456789"}, {Name: "setup-secret:NPM_TOKEN", Value: "npm-0123456789"}},
		Credentials:  map[string]string{"API": "cred-0123456789"},
	}
	canary := []secretforms.Secret{{Name: "canary:npm-token", Value: "npm_canary0123456789"}}
	for _, tc := range []struct {
		name string
		held []string
		want []string
	}{
		{"verify: everything", nil, []string{"agentgate:webhook-secret", "setup-secret:NPM_TOKEN", "canary:npm-token", "credential:API", "github:clone-token"}},
		{"setup: less its own secret", []string{"NPM_TOKEN=npm-0123456789"}, []string{"agentgate:webhook-secret", "canary:npm-token", "credential:API", "github:clone-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.phaseSecrets("ghs_clone0123456789", canary, tc.held)
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
			}
			if len(names) != len(tc.want) {
				t.Fatalf("secrets %q, want %q", names, tc.want)
			}
			for i := range names {
				if names[i] != tc.want[i] {
					t.Fatalf("secrets %q, want %q", names, tc.want)
				}
			}
		})
	}
}

// Verification inspects the run's inspected hosts without their
// credentials.
func TestVerifyNetwork(t *testing.T) {
	pol := &RunPolicy{}
	pol.Network.Inspect = []policy.HostRules{
		{Host: "api.internal", Rules: []string{"GET /v1/**"}, Inject: &policy.Inject{Credential: "API"}},
		{Host: "npm.internal", Inject: &policy.Inject{Credential: "NPM"}},
	}
	n := VerifyNetwork(NetworkConfig{Allow: []string{"api.internal"}}, pol)
	if len(n.Inspect) != 2 || n.Inspect[0].Inject != nil || n.Inspect[1].Inject != nil || !n.Inspect[1].Inspect ||
		len(n.Inspect[0].Rules) != 1 || len(n.Allow) != 1 {
		t.Errorf("verify network %+v", n)
	}
	if pol.Network.Inspect[0].Inject == nil {
		t.Error("the run policy's credential binding was changed")
	}
	if n := VerifyNetwork(NetworkConfig{Allow: []string{"x"}}, nil); n.Inspect != nil || len(n.Allow) != 1 {
		t.Errorf("without a policy: %+v", n)
	}
}
