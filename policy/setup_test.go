package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSetupParseAndMerge(t *testing.T) {
	repo := mustParse(t, ".github/agentgate.yml", `setup:
  command: [sh, -c, "npm ci"]
  allow: [registry.npmjs.org]
  secrets: [NPM_TOKEN]
  timeout: 5m
`)
	e, err := Merge(nil, repo)
	if err != nil {
		t.Fatal(err)
	}
	want := EffectiveSetup{Command: []string{"sh", "-c", "npm ci"}, Allow: []string{"registry.npmjs.org"}, Secrets: []string{"NPM_TOKEN"}, Timeout: 5 * time.Minute}
	if !slices.Equal(e.Setup.Command, want.Command) || !slices.Equal(e.Setup.Allow, want.Allow) ||
		!slices.Equal(e.Setup.Secrets, want.Secrets) || e.Setup.Timeout != want.Timeout {
		t.Errorf("setup = %+v, want %+v", e.Setup, want)
	}
	if d := Defaults(); len(d.Setup.Command) != 0 {
		t.Errorf("a setup phase by default: %+v", d.Setup)
	}
	// A string command is split on spaces; the timeout defaults.
	e, err = Merge(nil, mustParse(t, "r", "setup: {command: make deps}\n"))
	if err != nil || !slices.Equal(e.Setup.Command, []string{"make", "deps"}) || e.Setup.Timeout != DefaultSetupTimeout {
		t.Errorf("setup = %+v, %v", e.Setup, err)
	}
	if Defaults().Hash() == e.Hash() {
		t.Error("the setup phase does not change the policy hash")
	}
}

func TestSetupErrors(t *testing.T) {
	org := mustParse(t, "org", `setup:
  command: make deps
  allow: ["*.npmjs.org"]
  secrets: [NPM_TOKEN]
  timeout: 10m
`)
	cases := []struct {
		name, file string
		org        *Config
		line       int
		want       string
	}{
		{"no command", "setup:\n  allow: [a.example]\n", nil, 1, "command"},
		{"bad secret name", "setup:\n  command: x\n  secrets: [npm-token]\n", nil, 3, "setup.secrets[0]"},
		{"bad allow", "setup:\n  command: x\n  allow: [\"http://x\"]\n", nil, 3, "setup.allow[0]"},
		{"unknown key", "setup:\n  command: x\n  env: {A: b}\n", nil, 3, "env"},
		{"allow widens org", "setup:\n  command: x\n  allow: [pypi.org]\n", org, 3, "not allowed by the org's setup.allow"},
		{"secret not in org", "setup:\n  command: x\n  secrets: [AWS_KEY]\n", org, 3, "not one of the org's setup.secrets"},
		{"timeout widens org", "setup:\n  command: x\n  timeout: 1h\n", org, 3, "longer than the org's"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo, err := Parse(".github/agentgate.yml", []byte(tc.file))
			if err == nil {
				_, err = Merge(tc.org, repo)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConfigError", err)
			}
			if ce.Line != tc.line || !strings.Contains(ce.Error(), tc.want) {
				t.Errorf("err = %v (line %d), want line %d and %q", ce, ce.Line, tc.line, tc.want)
			}
		})
	}
	// Within the org's bounds it merges.
	repo := mustParse(t, "r", "setup:\n  command: npm ci\n  allow: [registry.npmjs.org]\n  secrets: [NPM_TOKEN]\n  timeout: 2m\n")
	if e, err := Merge(org, repo); err != nil || e.Setup.Timeout != 2*time.Minute {
		t.Errorf("merge within the org's bounds: %+v, %v", e.Setup, err)
	}
}

func TestErrorAt(t *testing.T) {
	c := mustParse(t, ".github/agentgate.yml", "draft: true\nagent:\n  preset: codex\n  image: me/agent:1\n")
	e := c.ErrorAt("agent/image", "not allowed by the operator")
	if e.Line != 4 || !strings.Contains(e.Error(), "agent.image: not allowed by the operator") {
		t.Errorf("ErrorAt = %v (line %d)", e, e.Line)
	}
}

func TestSetupTrustMerge(t *testing.T) {
	org := mustParse(t, "org", "setup:\n  command: npm ci\n  inputs: [package.json, package-lock.json]\n  on_untrusted: stop\n")
	cases := []struct {
		name        string
		org         *Config
		repo        string
		inputs      []string
		onUntrusted string
		wantErr     string
	}{
		{"defaults", nil, "setup: {command: npm ci}\n", nil, SetupWithoutSecrets, ""},
		{"repository's inputs", nil, "setup: {command: npm ci, inputs: [package.json, scripts/**], on_untrusted: stop}\n",
			[]string{"package.json", "scripts/**"}, SetupStop, ""},
		{"the org's command keeps the org's inputs", org, "draft: true\n", []string{"package-lock.json", "package.json"}, SetupStop, ""},
		{"a repository's own command drops the org's inputs", org, "setup: {command: make deps}\n", nil, SetupStop, ""},
		{"the org's stop stays", org, "setup: {command: npm ci, on_untrusted: without-secrets}\n", nil, "", "cannot release it"},
		{"bad glob", nil, "setup: {command: x, inputs: [\"/abs\"]}\n", nil, "", "setup.inputs[0]"},
		{"bad value", nil, "setup: {command: x, on_untrusted: ask}\n", nil, "", "on_untrusted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo, err := Parse(".github/agentgate.yml", []byte(tc.repo))
			var e EffectiveConfig
			if err == nil {
				e, err = Merge(tc.org, repo)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(e.Setup.Inputs, tc.inputs) || e.Setup.OnUntrusted != tc.onUntrusted {
				t.Errorf("inputs %q, on_untrusted %q; want %q, %q", e.Setup.Inputs, e.Setup.OnUntrusted, tc.inputs, tc.onUntrusted)
			}
		})
	}
}
