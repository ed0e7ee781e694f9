package app

import (
	"encoding/json"
	"maps"
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
	cfg, _, err := LoadConfig("serve", []string{"--setup-secrets", "NPM_TOKEN=" + file + ";installations=12+3;repositories=9,PIP_TOKEN;installations=*"}, env(map[string]string{
		"AGENTGATE_SETUP_SECRET_PIP_TOKEN": "from-the-env",
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SetupSecrets["NPM_TOKEN"] != "from-a-file" || cfg.SetupSecrets["PIP_TOKEN"] != "from-the-env" || len(cfg.SetupSecrets) != 2 {
		t.Errorf("setup secrets = %v", cfg.SetupSecrets)
	}
	if b := cfg.SetupSecretBindings; !slices.Equal(b["NPM_TOKEN"].Installations, []int64{3, 12}) || !slices.Equal(b["NPM_TOKEN"].Repositories, []int64{9}) ||
		b["NPM_TOKEN"].All || !b["PIP_TOKEN"].All || b["PIP_TOKEN"].Repositories != nil {
		t.Errorf("setup secret bindings = %+v", b)
	}
	bad := []struct {
		spec string
		want string
	}{
		{"lower=" + file + ";installations=1", "not NAME"},
		{"MISSING;installations=1", "AGENTGATE_SETUP_SECRET_MISSING is not set"},
		{"A=" + filepath.Join(dir, "nope") + ";installations=1", "A:"},
		{"A=" + file + ";installations=1,A=" + file + ";installations=2", "twice"},
		{"A=" + file, "A is bound to no installation"},
		{"A=" + file + ";installations=", "installations=ID+ID"},
		{"A=" + file + ";installations=1+x", `"x" is not an installation id`},
		{"A=" + file + ";repos=1", "installations=ID+ID"},
		{"A=" + file + ";installations=1;repos=2", "only ;repositories=ID+ID"},
		{"A=" + file + ";installations=1;repositories=0", `"0" is not a repository id`},
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
	cfg.SetupSecrets = map[string]string{"NPM_TOKEN": "x", "B_TOKEN": "y", "LOOSE": "z", "REPO_TOKEN": "r"}
	cfg.SetupSecretBindings = map[string]Binding{"NPM_TOKEN": {Installations: []int64{1}}, "B_TOKEN": {Installations: []int64{2}},
		"REPO_TOKEN": {Installations: []int64{1}, Repositories: []int64{100}}}
	bindImage := func(c *Config) {
		c.AgentImages = []string{"acme/agent:1", "shared/agent:1"}
		c.AgentImageBindings = map[string]Binding{"acme/agent:1": {Installations: []int64{1}}}
	}
	cases := []struct {
		name     string
		operator func(*Config)
		inst     int64 // 0: installation 1
		repo     string
		wantLine int
		want     string
	}{
		{"operator's agent", nil, 0, "draft: true\n", 0, ""},
		{"preset default image", nil, 0, "agent:\n  preset: codex\n", 0, ""},
		{"image not allowed", nil, 0, "agent:\n  preset: codex\n  image: me/codex:1\n", 3, `image "me/codex:1" is not one this agentgate runs`},
		{"listed by the operator", func(c *Config) { c.AgentImages = []string{"me/codex:1"} }, 0, "agent:\n  preset: codex\n  image: me/codex:1\n", 0, ""},
		{"operator list replaces the defaults", func(c *Config) { c.AgentImages = []string{"me/codex:1"} }, 0, "agent:\n  preset: aider\n", 2, `"agentgate/aider:dev" is not one`},
		{"command on a preset", nil, 0, "agent:\n  preset: codex\n  command: [x]\n", 2, "only for the \"custom\" preset"},
		{"known secret", nil, 0, "setup:\n  command: x\n  secrets: [NPM_TOKEN]\n", 0, ""},
		{"unknown secret", nil, 0, "setup:\n  command: x\n  secrets: [NPM_TOKEN, GH_TOKEN]\n", 3, "GH_TOKEN is not a setup secret"},
		// Tenants: installation 2 cannot name installation 1's secret, nor
		// one bound to no installation; each still has its own.
		{"another installation's secret", nil, 2, "setup:\n  command: x\n  secrets: [NPM_TOKEN]\n", 3, "NPM_TOKEN is not a setup secret this agentgate provides to this installation"},
		{"its own secret", nil, 2, "setup:\n  command: x\n  secrets: [B_TOKEN]\n", 0, ""},
		{"a secret bound to none", nil, 0, "setup:\n  command: x\n  secrets: [LOOSE]\n", 3, "LOOSE is not a setup secret"},
		{"another installation's image", bindImage, 2, "agent:\n  preset: codex\n  image: acme/agent:1\n", 3, `image "acme/agent:1" is not one this agentgate runs`},
		{"its installation's image", bindImage, 1, "agent:\n  preset: codex\n  image: acme/agent:1\n", 0, ""},
		{"an unbound image", bindImage, 2, "agent:\n  preset: codex\n  image: shared/agent:1\n", 0, ""},
		// A binding narrowed to repository 100 of installation 1.
		{"its repository's secret", nil, 0, "setup:\n  command: x\n  secrets: [REPO_TOKEN]\n", 0, ""},
		{"another repository's secret", func(c *Config) {
			c.SetupSecretBindings["REPO_TOKEN"] = Binding{Installations: []int64{1}, Repositories: []int64{101}}
		}, 0, "setup:\n  command: x\n  secrets: [REPO_TOKEN]\n", 3, "REPO_TOKEN is not a setup secret"},
		// verify.image is bounded like the agent's image.
		{"verify image not allowed", nil, 0, "verify:\n  command: make test\n  image: evil/anything:latest\n", 3, `image "evil/anything:latest" is not one this agentgate runs`},
		{"verify image allowed", nil, 0, "verify:\n  command: make test\n  image: agentgate/testagent:dev\n", 0, ""},
		{"verify image of another installation", bindImage, 2, "verify:\n  command: make test\n  image: acme/agent:1\n", 3, `image "acme/agent:1" is not one`},
		{"verify image of its installation", bindImage, 1, "verify:\n  command: make test\n  image: acme/agent:1\n", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.SetupSecretBindings = maps.Clone(cfg.SetupSecretBindings)
			if tc.operator != nil {
				tc.operator(&c)
			}
			repo := parse(tc.repo)
			eff, err := policy.Merge(nil, repo)
			if err != nil {
				t.Fatal(err)
			}
			inst := tc.inst
			if inst == 0 {
				inst = 1
			}
			err = c.checkChoices(nil, repo, eff, Tenant{Installation: inst, Repository: 100})
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
	cfg.SetupSecretBindings = map[string]Binding{"NPM_TOKEN": {Installations: []int64{1}}}
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
	p := cfg.runPolicy(&repoConfig{Effective: eff, AgentChosen: agentChosen(nil, repo), Tenant: Tenant{1, 100}})
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
	// Another installation's run never gets the secret, even past checkChoices.
	if p := cfg.runPolicy(&repoConfig{Effective: eff, AgentChosen: true, Tenant: Tenant{2, 200}}); len(p.Setup.Secrets) != 0 {
		t.Errorf("installation 2's setup plan holds %q", p.Setup.SecretNames)
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

// Private egress destinations and extra images bound to an installation
// reach only its runs; unbound ones reach every installation's.
func TestBoundOperatorItems(t *testing.T) {
	cfg, _, err := LoadConfig("serve", []string{
		"--egress-allow-private", "acme-mirror.internal;installations=1, 10.9.0.0/16;installations=1+7, shared-mirror.internal",
		"--agent-images", "acme/agent:1;installations=1 shared/agent:1",
	}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"acme-mirror.internal", "10.9.0.0/16", "shared-mirror.internal"}; !slices.Equal(cfg.Network.AllowPrivate, want) {
		t.Errorf("allow private = %q, want %q", cfg.Network.AllowPrivate, want)
	}
	for inst, want := range map[int64][]string{
		1: {"acme-mirror.internal", "10.9.0.0/16", "shared-mirror.internal"},
		2: {"shared-mirror.internal"},
		7: {"10.9.0.0/16", "shared-mirror.internal"},
		0: {"shared-mirror.internal"},
	} {
		if got := cfg.networkFor(Tenant{Installation: inst}).AllowPrivate; !slices.Equal(got, want) {
			t.Errorf("installation %d: private destinations %q, want %q", inst, got, want)
		}
		p := cfg.runPolicy(&repoConfig{Effective: policy.Defaults(), Tenant: Tenant{Installation: inst}})
		if !slices.Equal(p.Network.AllowPrivate, want) {
			t.Errorf("installation %d: run policy's private destinations %q, want %q", inst, p.Network.AllowPrivate, want)
		}
	}
	if got := cfg.allowedImages(Tenant{2, 200}); slices.Contains(got, "acme/agent:1") || !slices.Contains(got, "shared/agent:1") {
		t.Errorf("installation 2's images %q", got)
	}
	if got := cfg.allowedImages(Tenant{1, 100}); !slices.Contains(got, "acme/agent:1") {
		t.Errorf("installation 1's images %q", got)
	}
	for _, bad := range []string{"x;installations=0", ";installations=1", "a;installations=1,a"} {
		if _, _, err := LoadConfig("serve", []string{"--egress-allow-private", bad}, env(nil), nil); err == nil {
			t.Errorf("egress-allow-private %q accepted", bad)
		}
	}
}
