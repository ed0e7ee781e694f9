package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, name, in string) *Config {
	t.Helper()
	c, err := Parse(name, []byte(in))
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	return c
}

// mergeYAML merges the org's and the repository's configuration texts,
// as org.yml and repo.yml; an empty text is no file.
func mergeYAML(t *testing.T, org, repo string) (EffectiveConfig, error) {
	t.Helper()
	var o, r *Config
	if org != "" {
		o = mustParse(t, "org.yml", org)
	}
	if repo != "" {
		r = mustParse(t, "repo.yml", repo)
	}
	return Merge(o, r)
}

func TestDefaults(t *testing.T) {
	e := Defaults()
	if e.MinPermission != "write" || e.Agent.Timeout != 30*time.Minute || e.Agent.Preset != "builtin" ||
		e.Network.Mode != "relay" || len(e.Network.Allow) != 0 || e.AllowBinary || e.AllowSymlinks || e.Draft ||
		e.Limits.MemoryBytes != 2<<30 || e.MaxFiles != DefaultMaxFiles {
		t.Errorf("unexpected defaults: %+v", e)
	}
	for _, p := range []string{".github/workflows/**", ".github/agentgate.yml", "CODEOWNERS"} {
		if !slices.Contains(e.ProtectedPaths, p) {
			t.Errorf("default protected paths lack %s: %v", p, e.ProtectedPaths)
		}
	}
}

const orgFile = `min_permission: write
allowed_teams: [acme/devs]
allowed_users: [alice, bob]
presets: [codex, custom]
images: [agentgate/agent-codex:1, agentgate/agent-custom:2]
agent:
  preset: codex
  timeout: 1h
limits:
  memory: 4GiB
  cpus: 2
  pids: 512
network:
  mode: relay
  allow: ["*.golang.org", "github.com", "registry.npmjs.org:443"]
protected_paths: ["secrets/**"]
max_files: 100
max_lines: 5000
allow_binary: false
allow_symlinks: true
reviewers: [sec-lead]
labels: [agentgate]
`

func TestMergeNarrowing(t *testing.T) {
	org := mustParse(t, "acme/.github:.github/agentgate.yml", orgFile)
	tests := []struct {
		name  string
		repo  string
		check func(e EffectiveConfig) bool
	}{
		{"no repo file", "", func(e EffectiveConfig) bool {
			return e.Agent.Preset == "codex" && e.Agent.Timeout == time.Hour && e.Limits.MemoryBytes == 4<<30 &&
				e.Limits.CPUs == 2 && e.MaxFiles == 100 && e.AllowSymlinks && !e.AllowBinary &&
				slices.Equal(e.AllowedUsers, []string{"alice", "bob"})
		}},
		{"raise permission", "min_permission: admin\n", func(e EffectiveConfig) bool { return e.MinPermission == "admin" }},
		{"lower limits", "limits:\n  memory: 1GiB\n  cpus: 0.5\nagent:\n  timeout: 10m\nmax_files: 10\n", func(e EffectiveConfig) bool {
			return e.Limits.MemoryBytes == 1<<30 && e.Limits.CPUs == 0.5 && e.Agent.Timeout == 10*time.Minute && e.MaxFiles == 10 &&
				e.Limits.Pids == 512 && e.MaxLines == 5000
		}},
		{"equal limit", "limits:\n  memory: 4096MiB\n", func(e EffectiveConfig) bool { return e.Limits.MemoryBytes == 4<<30 }},
		{"fewer hosts", "network:\n  allow: [proxy.golang.org, \"*.sum.golang.org\", github.com:443]\n", func(e EffectiveConfig) bool {
			return slices.Equal(e.Network.Allow, []string{"*.sum.golang.org", "github.com:443", "proxy.golang.org"})
		}},
		{"no hosts", "network:\n  allow: []\n", func(e EffectiveConfig) bool { return len(e.Network.Allow) == 0 }},
		{"close network", "network:\n  mode: none\n", func(e EffectiveConfig) bool { return e.Network.Mode == "none" }},
		{"protected union", "protected_paths: [\"infra/**\"]\n", func(e EffectiveConfig) bool {
			return slices.Contains(e.ProtectedPaths, "infra/**") && slices.Contains(e.ProtectedPaths, "secrets/**") &&
				slices.Contains(e.ProtectedPaths, ".github/workflows/**")
		}},
		{"symlinks off", "allow_symlinks: false\n", func(e EffectiveConfig) bool { return !e.AllowSymlinks }},
		{"narrow users", "allowed_users: [ALICE]\nallowed_teams: []\n", func(e EffectiveConfig) bool {
			return slices.Equal(e.AllowedUsers, []string{"ALICE"}) && len(e.AllowedTeams) == 0
		}},
		{"pick allowed preset", "agent:\n  preset: custom\n  image: agentgate/agent-custom:2\n", func(e EffectiveConfig) bool {
			return e.Agent.Preset == "custom" && e.Agent.Image == "agentgate/agent-custom:2"
		}},
		{"reviewers union", "reviewers: [carol, Sec-Lead]\n", func(e EffectiveConfig) bool {
			return slices.Equal(e.Reviewers, []string{"carol", "sec-lead"})
		}},
		{"preferences", "draft: true\n", func(e EffectiveConfig) bool {
			return e.Draft
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := mustParse(t, ".github/agentgate.yml", tt.repo)
			e, err := Merge(org, repo)
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if !tt.check(e) {
				t.Errorf("unexpected result: %+v", e)
			}
		})
	}
}

func TestMergeWidening(t *testing.T) {
	org := mustParse(t, "acme/.github:.github/agentgate.yml", orgFile)
	tests := []struct {
		name, repo string
		line       int
		want       string
	}{
		{"lower permission", "draft: true\nmin_permission: triage\n", 2, `min_permission: "triage" is below the org's "write"`},
		{"more memory", "limits:\n  memory: 8GiB\n", 2, "limits.memory: 8GiB is above the org's limit of 4GiB"},
		{"more cpus", "limits:\n  cpus: 2.5\n", 2, "limits.cpus: 2.5 is above the org's limit of 2"},
		{"more pids", "limits:\n  pids: 1024\n", 2, "limits.pids: 1024 is above"},
		{"longer timeout", "agent:\n  timeout: 2h\n", 2, "agent.timeout: 2h0m0s is longer than the org's 1h0m0s"},
		{"more files", "max_files: 101\n", 1, "max_files: 101 is above the org's limit of 100"},
		{"more lines", "max_lines: 5001\n", 1, "max_lines: 5001 is above"},
		{"new host", "network:\n  allow:\n    - github.com\n    - evil.example\n", 4, `network.allow[1]: "evil.example" is not allowed by the org's network.allow`},
		{"wider wildcard", "network:\n  allow: [\"*.org\"]\n", 0, "at least two labels"},
		{"wildcard over name", "network:\n  allow: [\"*.github.com\"]\n", 2, `"*.github.com" is not allowed`},
		{"apex of wildcard", "network:\n  allow: [golang.org]\n", 2, `"golang.org" is not allowed`},
		{"other port", "network:\n  allow: [\"registry.npmjs.org:80\"]\n", 2, `"registry.npmjs.org:80" is not allowed`},
		{"default ports over one", "network:\n  allow: [registry.npmjs.org]\n", 2, `"registry.npmjs.org" is not allowed`},
		{"open network", "network:\n  mode: learn\n", 2, `network.mode: "learn" is more open than the org's "relay"`},
		{"binary on", "allow_binary: true\n", 1, "the org sets allow_binary: false"},
		{"foreign user", "allowed_users: [alice, mallory]\n", 1, `allowed_users[1]: "mallory" is not in the org's allowed_users`},
		{"foreign team", "allowed_teams:\n  - acme/devs\n  - acme/interns\n", 3, `allowed_teams[1]: "acme/interns"`},
		{"preset not offered", "agent:\n  preset: aider\n", 2, `agent.preset: "aider" is not one of the org's presets (codex, custom)`},
		{"image not offered", "agent:\n  image: evil/image:latest\n", 2, `agent.image: "evil/image:latest" is not one of the org's images`},
		{"repo lists presets", "presets: [aider]\n", 1, "presets: only the org's file may list presets"},
		{"repo lists images", "images: [x/y]\n", 1, "images: only the org's file may list images"},
		{"custom without image", "agent:\n  preset: custom\n", 2, "a custom agent needs agent.image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := Parse(".github/agentgate.yml", []byte(tt.repo))
			if err == nil {
				_, err = Merge(org, repo)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("want a *ConfigError, got %v", err)
			}
			if ce.File != ".github/agentgate.yml" {
				t.Errorf("File = %q, want the repository's file", ce.File)
			}
			if tt.line != 0 && ce.Line != tt.line {
				t.Errorf("Line = %d, want %d (%v)", ce.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// Without an org file the repository's settings stand (within the schema's bounds).
func TestMergeNoOrg(t *testing.T) {
	repo := mustParse(t, ".github/agentgate.yml", "min_permission: triage\nallow_binary: true\nnetwork:\n  mode: learn\n  allow: [example.com]\nlimits:\n  memory: 8GiB\n")
	e, err := Merge(nil, repo)
	if err != nil {
		t.Fatal(err)
	}
	if e.MinPermission != "triage" || !e.AllowBinary || e.Network.Mode != "learn" || e.Limits.MemoryBytes != 8<<30 ||
		!slices.Equal(e.Network.Allow, []string{"example.com"}) {
		t.Errorf("unexpected: %+v", e)
	}
}

func TestMergeOrgPresetDefault(t *testing.T) {
	org := mustParse(t, "org", "presets: [claude-code, codex]\n")
	e, err := Merge(org, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Agent.Preset != "claude-code" {
		t.Errorf("preset = %q, want the org's first", e.Agent.Preset)
	}
}

func TestHash(t *testing.T) {
	a := mustParse(t, "r", "reviewers: [b, a]\nlabels: [x]\n")
	b := mustParse(t, "r", "labels: [x, x]\nreviewers: [a, b, A]\n")
	ea, _ := Merge(nil, a)
	eb, _ := Merge(nil, b)
	if ea.Hash() != eb.Hash() {
		t.Error("equivalent configurations hash differently")
	}
	if len(ea.Hash()) != 64 {
		t.Errorf("hash %q is not hex SHA-256", ea.Hash())
	}
	for _, change := range []string{"max_files: 999\n", "network:\n  allow: [a.example.com]\n", "draft: true\n", "protected_paths: [x]\n"} {
		ec, err := Merge(nil, mustParse(t, "r", change))
		if err != nil {
			t.Fatal(err)
		}
		if ec.Hash() == Defaults().Hash() {
			t.Errorf("%q does not change the hash", change)
		}
	}
	empty := EffectiveConfig{Labels: []string{}}
	if empty.Hash() != (EffectiveConfig{}).Hash() {
		t.Error("nil and empty lists hash differently")
	}
}
