package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/telemetry"
)

func TestLoadSetupSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "npm")
	if err := os.WriteFile(file, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig("serve", []string{"--setup-secrets", "NPM_TOKEN=" + file + ",PIP_TOKEN"}, env(map[string]string{
		"AGENTGATE_SETUP_SECRET_PIP_TOKEN": "from-the-env",
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SetupSecrets["NPM_TOKEN"] != "from-a-file" || cfg.SetupSecrets["PIP_TOKEN"] != "from-the-env" || len(cfg.SetupSecrets) != 2 {
		t.Errorf("setup secrets = %v", cfg.SetupSecrets)
	}
	bad := []struct {
		spec string
		want string
	}{
		{"lower=" + file, "not NAME"},
		{"MISSING", "AGENTGATE_SETUP_SECRET_MISSING is not set"},
		{"A=" + filepath.Join(dir, "nope"), "A:"},
		{"A=" + file + ",A=" + file, "twice"},
	}
	for _, tc := range bad {
		_, _, err := LoadConfig("serve", []string{"--setup-secrets", tc.spec}, env(nil), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "setup-secrets") {
			t.Errorf("%s: err = %v, want %q", tc.spec, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "from-a-file") {
			t.Errorf("the error repeats a secret: %v", err)
		}
	}
}

func TestCheckChoices(t *testing.T) {
	parse := func(s string) *policy.Config {
		c, err := policy.Parse(".github/agentgate.yml", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cfg := DefaultConfig()
	cfg.SetupSecrets = map[string]string{"NPM_TOKEN": "x"}
	cases := []struct {
		name     string
		operator func(*Config)
		repo     string
		wantLine int
		want     string
	}{
		{"operator's agent", nil, "draft: true\n", 0, ""},
		{"preset default image", nil, "agent:\n  preset: codex\n", 0, ""},
		{"image not allowed", nil, "agent:\n  preset: codex\n  image: me/codex:1\n", 3, `image "me/codex:1" is not one this agentgate runs`},
		{"listed by the operator", func(c *Config) { c.AgentImages = []string{"me/codex:1"} }, "agent:\n  preset: codex\n  image: me/codex:1\n", 0, ""},
		{"operator list replaces the defaults", func(c *Config) { c.AgentImages = []string{"me/codex:1"} }, "agent:\n  preset: aider\n", 2, `"agentgate/aider:dev" is not one`},
		{"command on a preset", nil, "agent:\n  preset: codex\n  command: [x]\n", 2, "only for the \"custom\" preset"},
		{"known secret", nil, "setup:\n  command: x\n  secrets: [NPM_TOKEN]\n", 0, ""},
		{"unknown secret", nil, "setup:\n  command: x\n  secrets: [NPM_TOKEN, GH_TOKEN]\n", 3, "GH_TOKEN is not a setup secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.operator != nil {
				tc.operator(&c)
			}
			repo := parse(tc.repo)
			eff, err := policy.Merge(nil, repo)
			if err != nil {
				t.Fatal(err)
			}
			err = c.checkChoices(nil, repo, eff)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			ce, ok := err.(*policy.ConfigError)
			if !ok || ce.Line != tc.wantLine || !strings.Contains(ce.Error(), tc.want) {
				t.Errorf("err = %v, want line %d and %q", err, tc.wantLine, tc.want)
			}
		})
	}
}

func TestApplyChoices(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AgentModel = "gpt-4.1"
	cfg.Network.Allow = []string{"proxy.golang.org"}
	cfg.SetupAllow = []string{"registry.npmjs.org", "*.pythonhosted.org"}
	cfg.SetupSecrets = map[string]string{"NPM_TOKEN": "s3cret-val"}
	repo, err := policy.Parse(".github/agentgate.yml", []byte(`agent:
  preset: aider
setup:
  command: [sh, -c, "npm ci"]
  allow: [registry.npmjs.org, files.pythonhosted.org, evil.example]
  secrets: [NPM_TOKEN]
  timeout: 2h
`))
	if err != nil {
		t.Fatal(err)
	}
	eff, err := policy.Merge(nil, repo)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.runPolicy(&repoConfig{Effective: eff, AgentChosen: agentChosen(nil, repo)})
	if p.Agent == nil {
		t.Fatal("the repository's agent is not applied")
	}
	a, err := p.Agent([]string{"OPENAI_BASE_URL=http://127.0.0.1:4000/openai/v1"})
	if err != nil || a.Name != "aider" || !slices.Contains(a.Cmd, "openai/gpt-4.1") {
		t.Errorf("agent = %+v, %v", a, err)
	}
	s := p.Setup
	if s == nil {
		t.Fatal("no setup plan")
	}
	if !slices.Equal(s.Command, []string{"sh", "-c", "npm ci"}) || !slices.Equal(s.Secrets, []string{"NPM_TOKEN=s3cret-val"}) {
		t.Errorf("setup plan = %+v", s)
	}
	slices.Sort(s.Allow)
	if !slices.Equal(s.Allow, []string{"files.pythonhosted.org", "registry.npmjs.org"}) {
		t.Errorf("setup allow = %q: want the repository's list narrowed by the operator's", s.Allow)
	}
	if s.Timeout != cfg.Limits.Timeout {
		t.Errorf("setup timeout %s, want at most the run's %s", s.Timeout, cfg.Limits.Timeout)
	}
	// The policy's digest covers the pick and the secrets' names, never a
	// secret's value.
	if d := p.Digest(); d == "" {
		t.Error("the run policy has no digest")
	}
	if b, err := json.Marshal(p); err != nil || strings.Contains(string(b), "s3cret-val") || !strings.Contains(string(b), "NPM_TOKEN") || !strings.Contains(string(b), "aider") {
		t.Errorf("serialised policy %s, %v", b, err)
	}
	// Without a pick, the operator's agent runs and no setup phase.
	p = cfg.runPolicy(&repoConfig{Effective: policy.Defaults()})
	if p.Agent != nil || p.Setup != nil {
		t.Errorf("defaults pick an agent or a setup phase: %+v", p)
	}
}

// A setup phase's refusals are not the agent's: learning mode never
// proposes them for the agent's allowlist.
func TestLearnableIgnoresSetup(t *testing.T) {
	events := []telemetry.Event{
		{Kind: telemetry.KindNetDenied, Actor: "setup", Attrs: map[string]any{"host": "registry.npmjs.org", "port": 443, "reason": "not allowlisted", "phase": "setup"}},
		{Kind: telemetry.KindNetDenied, Actor: "agent", Attrs: map[string]any{"host": "proxy.golang.org", "port": 443, "reason": "not allowlisted"}},
	}
	if got := learnable(events, []string{"registry.npmjs.org", "proxy.golang.org"}, nil); !slices.Equal(got, []string{"proxy.golang.org:443"}) {
		t.Errorf("learnable = %q", got)
	}
}
