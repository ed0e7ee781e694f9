package sandbox

import (
	"os"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/policy"
)

func TestPlantCanaries(t *testing.T) {
	a, err := plantCanaries(t.TempDir(), NewCanarySeed())
	if err != nil {
		t.Fatal(err)
	}
	b, err := plantCanaries(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.secrets) != 4 || len(a.env) != 4 || len(a.files) != 3 {
		t.Fatalf("canaries %+v", a)
	}
	for i := range a.secrets {
		if a.secrets[i].Value == b.secrets[i].Value {
			t.Errorf("%s is the same in two runs", a.secrets[i].Name)
		}
	}
	npmrc, err := os.ReadFile(a.files["/tmp/.npmrc"])
	if err != nil || !strings.Contains(string(npmrc), "_authToken=npm_") {
		t.Errorf(".npmrc %q %v", npmrc, err)
	}
	for _, s := range a.secrets {
		found := false
		for _, f := range a.files {
			b, _ := os.ReadFile(f)
			found = found || strings.Contains(string(b), s.Value)
		}
		for _, kv := range a.env {
			found = found || strings.HasSuffix(kv, "="+s.Value)
		}
		if !found {
			t.Errorf("%s is planted nowhere", s.Name)
		}
	}
}

// The same seed gives the same canaries, so the run's verify command
// looks for exactly what the agent's sandbox held; another seed, others.
func TestCanarySeed(t *testing.T) {
	seed := NewCanarySeed()
	a, err := plantCanaries(t.TempDir(), seed)
	if err != nil {
		t.Fatal(err)
	}
	v := verifyCanaries(seed)
	if len(v) != len(a.secrets) {
		t.Fatalf("verify looks for %d canaries, the sandbox held %d", len(v), len(a.secrets))
	}
	for i := range v {
		if v[i] != a.secrets[i] {
			t.Errorf("verify looks for %s %q, the sandbox held %q", v[i].Name, v[i].Value, a.secrets[i].Value)
		}
	}
	if other := verifyCanaries(NewCanarySeed()); other[0].Value == v[0].Value {
		t.Error("two seeds gave the same canary")
	}
	if verifyCanaries(nil) != nil || verifyCanaries([]byte("short")) != nil {
		t.Error("verify without a seed looks for canaries")
	}
}

func TestCAPermitted(t *testing.T) {
	cfg := NetworkConfig{Allow: []string{"a.example:8443", "*.b.example"},
		Inspect: []policy.HostRules{{Host: "API.example.:443", Inspect: true}}}
	if got := strings.Join(caPermitted(cfg), " "); got != "api.example" {
		t.Errorf("inspected: %q", got)
	}
	cfg.InspectAll = true
	if got := strings.Join(caPermitted(cfg), " "); got != "a.example *.b.example" {
		t.Errorf("inspect all: %q", got)
	}
}
