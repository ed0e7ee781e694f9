package policy

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const file = ".github/agentgate.yml"

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(file, data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"min_permission", c.MinPermission, "maintain"},
		{"allowed_users", strings.Join(c.AllowedUsers, ","), "octocat,Hubot"},
		{"allowed_teams", strings.Join(c.AllowedTeams, ","), "acme/platform"},
		{"preset", c.Agent.Preset, "custom"},
		{"image", c.Agent.Image, "agentgate/agent-custom:1.0"},
		{"command", strings.Join(c.Agent.Command, "|"), "run|--fast"},
		{"timeout", time.Duration(*c.Agent.Timeout), 45 * time.Minute},
		{"memory", int64(*c.Limits.Memory), int64(4 << 30)},
		{"cpus", *c.Limits.CPUs, 1.5},
		{"pids", *c.Limits.Pids, int64(512)},
		{"tmp_size", int64(*c.Limits.TmpSize), int64(512 << 20)},
		{"output", int64(*c.Limits.Output), int64(2 << 20)},
		{"workspace_size", int64(*c.Limits.WorkspaceSize), int64(3 << 30)},
		{"mode", c.Network.Mode, "relay"},
		{"allow", strings.Join(c.Network.Allow, ","), "proxy.golang.org,*.npmjs.org,example.com:8443"},
		{"protected_paths", strings.Join(c.ProtectedPaths, ","), "deploy/**,*.pem"},
		{"max_files", *c.MaxFiles, 50},
		{"max_lines", *c.MaxLines, 2000},
		{"allow_binary", *c.AllowBinary, false},
		{"allow_symlinks", *c.AllowSymlinks, true},
		{"draft", *c.Draft, true},
		{"reviewers", strings.Join(c.Reviewers, ","), "octocat"},
		{"team_reviewers", strings.Join(c.TeamReviewers, ","), "platform"},
		{"labels", strings.Join(c.Labels, ","), "agent,needs-review"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "~\n", "---\n"} {
		c, err := Parse(file, []byte(in))
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		e, err := Merge(nil, c)
		if err != nil {
			t.Errorf("Merge(%q): %v", in, err)
			continue
		}
		if e.Hash() != Defaults().Hash() {
			t.Errorf("Parse(%q) does not resolve to the defaults", in)
		}
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	tests := []struct {
		name, in string
		line     int
		want     string // substring of Error()
	}{
		{"size word", "draft: true\nlimits:\n  memory: lots\n", 3, `limits.memory: "lots" is not a size`},
		{"size negative", "limits:\n  memory: -5\n", 2, "limits.memory: -5: a size must be positive"},
		{"size list", "limits:\n  memory: [1]\n", 2, "limits.memory: must be an integer or a string, not a list"},
		{"unknown top", "draft: true\nfrobnicate: 1\n", 2, "frobnicate: unknown setting"},
		{"trigger is the operator's", "draft: true\ntrigger:\n  mention: \"@helper\"\n", 2, "trigger: unknown setting: the mention and label that start runs are the operator's settings"},
		{"unknown at depth", "agent:\n  preset: codex\n  timeout: 5m\n  secret_mode: on\n", 4, "agent.secret_mode: unknown setting"},
		{"unknown in limits", "limits:\n\n  memroy: 1GiB\n", 3, "limits.memroy: unknown setting"},
		{"string for int", "max_files: many\n", 1, "max_files: must be an integer, not a string"},
		{"float for int", "max_lines: 1.5\n", 1, "max_lines: must be an integer"},
		{"mapping for bool", "allow_binary:\n  yes: please\n", 1, "allow_binary: must be a boolean, not a mapping"},
		{"string for bool", "draft: \"true\"\n", 1, "draft: must be a boolean, not a string"},
		{"int for list", "reviewers: 3\n", 1, "reviewers: must be a list"},
		{"int in list", "labels:\n  - ok\n  - 7\n", 3, "labels[1]: must be a string"},
		{"list for mapping", "network:\n  - relay\n", 1, "network: must be a mapping, not a list"},
		{"bad enum", "network:\n  mode: open\n", 2, `network.mode: "open" is not one of relay, none, learn`},
		{"bad permission", "min_permission: owner\n", 1, `"owner" is not one of read, triage, write, maintain, admin`},
		{"bad preset", "agent:\n  preset: gpt\n", 2, `agent.preset: "gpt" is not one of`},
		{"bad duration", "agent:\n  timeout: soon\n", 2, `agent.timeout: "soon" is not a duration`},
		{"duration too long", "agent:\n  timeout: 100h\n", 2, "out of range"},
		{"cpus zero", "limits: {cpus: 0}\n", 1, "limits.cpus: 0 must be more than 0"},
		{"pids huge", "limits:\n  pids: 99999999\n", 2, "limits.pids: 99999999 is above the maximum 65536"},
		{"bad login", "reviewers: [\"not a login\"]\n", 1, `reviewers[0]: "not a login" is not a valid value here`},
		{"bad host", "network:\n  allow:\n    - ok.example.com\n    - \"http://x\"\n", 4, "network.allow[1]"},
		{"ip literal", "network:\n  allow: [10.0.0.1]\n", 2, "IP addresses are always refused"},
		{"short wildcard", "network:\n  allow: [\"*.com\"]\n", 2, "at least two labels"},
		{"bad port", "network:\n  allow: [\"a.example.com:99999\"]\n", 2, "bad port"},
		{"bad glob", "protected_paths:\n  - \"src/[\"\n", 2, "bad glob"},
		{"partial doublestar", "protected_paths: [\"a/b**\"]\n", 1, "whole path segment"},
		{"preset not in own list", "presets: [codex]\nagent:\n  preset: aider\n", 3, `agent.preset: "aider" is not in presets`},
		{"non-mapping root list", "- a\n- b\n", 1, "must be a mapping of settings, not a list"},
		{"non-mapping root scalar", "hello\n", 1, "must be a mapping of settings, not a string"},
		{"null value", "limits:\n", 1, "limits: must be a mapping, not empty"},
		{"duplicate key", "draft: true\nlabels: [a]\ndraft: false\n", 3, "draft is set twice (first on line 1)"},
		{"alias", "labels: &l [a]\nreviewers: *l\n", 1, "anchors and aliases are not allowed"},
		{"alias bomb", bomb, 1, "anchors and aliases are not allowed"},
		{"merge key", "base: &b {draft: true}\n<<: *b\n", 1, "anchors and aliases"},
		{"merge key alone", "<<: {draft: true}\n", 1, "no merge keys"},
		{"deep nesting", "labels: " + deep + "\n", 1, "nested deeper than 32 levels"},
		{"deep mappings", "a:" + strings.Repeat(" {b:", 40) + " 1" + strings.Repeat("}", 40) + "\n", 1, "nested deeper"},
		{"parser depth limit", strings.Repeat("[", MaxConfigBytes), 0, "exceeded max depth"},
		{"two documents", "draft: true\n---\ndraft: false\n", 2, "more than one YAML document"},
		{"yaml syntax", "draft: true\nlabels: [a,\n", 0, "invalid YAML"},
		{"custom tag", "draft: !secret yes\n", 1, "tag !secret is not allowed"},
		{"non-string key", "1: a\n", 1, "key 1 must be a name, not an integer"},
		{"huge int", "max_files: 99999999999999999999999\n", 1, "is above the maximum 100000"},
		{"nan", "limits:\n  cpus: .nan\n", 2, "not a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(file, []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse accepted %q: %+v", tt.in, c)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *ConfigError", err, err)
			}
			if ce.File != file {
				t.Errorf("File = %q", ce.File)
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

func TestParseHugeFile(t *testing.T) {
	data := []byte("labels: [a]\n" + strings.Repeat("# padding\n", MaxConfigBytes/10+1))
	_, err := Parse(file, data)
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(ce.Problem, "the limit is 65536") {
		t.Fatalf("huge file: %v", err)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	tests := []struct {
		e    ConfigError
		want string
	}{
		{ConfigError{File: file, Line: 7, Column: 3, Problem: `limits.memory: "lots" is not a size`}, `.github/agentgate.yml:7: limits.memory: "lots" is not a size`},
		{ConfigError{File: file, Problem: "too big"}, ".github/agentgate.yml: too big"},
		{ConfigError{Line: 2, Problem: "x"}, "line 2: x"},
		{ConfigError{Problem: "x"}, "x"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		ok   bool
	}{
		{"2GiB", 2 << 30, true}, {"512MiB", 512 << 20, true}, {"100k", 100 << 10, true},
		{"1 gb", 1 << 30, true}, {"1048576", 1 << 20, true}, {"7b", 7, true},
		{"lots", 0, false}, {"", 0, false}, {"0", 0, false}, {"-1GiB", 0, false},
		{"1.5GiB", 0, false}, {"99999999999TiB", 0, false}, {"GiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
