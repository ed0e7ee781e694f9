package agents

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLookupErrors(t *testing.T) {
	cases := []struct {
		name    string
		preset  string
		opts    Options
		wantErr string
	}{
		{"unknown lists names", "gpt-engineer", Options{}, "aider, builtin, claude-code, codex, custom"},
		{"custom without image", NameCustom, Options{Cmd: []string{"x"}}, "needs an image"},
		{"custom without command", NameCustom, Options{Image: "a:b"}, "needs a command"},
		{"command on a preset", NameCodex, Options{Cmd: []string{"sh"}}, "only be given to the \"custom\""},
		{"model as flag", NameCodex, Options{Model: "--dangerously-bypass-approvals-and-sandbox"}, "model name"},
		{"model with shell", NameAider, Options{Model: "gpt$(id)"}, "model name"},
		{"model with space", NameClaudeCode, Options{Model: "a b"}, "model name"},
		{"model too long", NameBuiltin, Options{Model: strings.Repeat("m", 129)}, "model name"},
		{"image with space", NameCodex, Options{Image: "a b"}, "image"},
		{"image as flag", NameCodex, Options{Image: "--privileged"}, "image"},
		{"bad gateway env", NameCodex, Options{GatewayEnv: []string{"NOEQUALS"}}, "KEY=VALUE"},
		{"bad gateway key", NameCodex, Options{GatewayEnv: []string{"A B=c"}}, "KEY=VALUE"},
		{"bad events", NameCustom, Options{Image: "a", Cmd: []string{"b"}, Events: "xml"}, "event format"},
		{"too many args", NameCustom, Options{Image: "a", Cmd: make([]string, 65)}, "arguments"},
		{"nul in arg", NameCustom, Options{Image: "a", Cmd: []string{"a\x00b"}}, "NUL"},
		// The codex preset puts the gateway URL in a TOML string on its
		// command line: nothing may end the string or the table.
		{"codex gateway URL with quote", NameCodex, Options{GatewayEnv: []string{`OPENAI_BASE_URL=http://g/v1",env_key="X`}}, "quote"},
		{"codex gateway URL with backslash", NameCodex, Options{GatewayEnv: []string{`OPENAI_BASE_URL=http://g/v1\u0022`}}, "backslash"},
		{"codex gateway URL with newline", NameCodex, Options{GatewayEnv: []string{"OPENAI_BASE_URL=http://g/v1\nmodel=1"}}, "control"},
		{"codex gateway URL not http", NameCodex, Options{GatewayEnv: []string{"OPENAI_BASE_URL=file:///etc/passwd"}}, "http(s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Lookup(tc.preset, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Lookup error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestLookupOK(t *testing.T) {
	cases := []struct {
		preset     string
		opts       Options
		wantImage  string
		wantEvents string
	}{
		{NameBuiltin, Options{}, ImageBuiltin, EventsAgentgate},
		{NameCodex, Options{Image: "registry.example/codex@sha256:abc"}, "registry.example/codex@sha256:abc", EventsCodex},
		{NameClaudeCode, Options{Model: "anthropic/claude-x"}, ImageClaudeCode, EventsClaudeCode},
		{NameAider, Options{Model: "anthropic/claude-x"}, ImageAider, EventsAider},
		{NameCustom, Options{Image: "me/agent", Cmd: []string{"run"}, Events: EventsCodex}, "me/agent", EventsCodex},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			p, err := Lookup(tc.preset, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.preset || p.Image != tc.wantImage || p.Events != tc.wantEvents {
				t.Errorf("got name %q image %q events %q, want %q %q %q", p.Name, p.Image, p.Events, tc.preset, tc.wantImage, tc.wantEvents)
			}
			if len(p.Cmd) == 0 || !slices.Contains(p.Env, "HOME=/tmp") {
				t.Errorf("preset lacks a command or HOME=/tmp: %+v", p)
			}
			// A model with a provider prefix is passed to aider unchanged.
			if tc.opts.Model != "" && tc.preset == NameAider && !slices.Contains(p.Cmd, tc.opts.Model) {
				t.Errorf("aider argv %q lacks model %q", p.Cmd, tc.opts.Model)
			}
		})
	}
}

// TestLookupDoesNotAlias checks that the returned preset shares no slice
// with the caller's options, so a caller editing one cannot change another.
func TestLookupDoesNotAlias(t *testing.T) {
	cmd := []string{"agent"}
	gw := []string{"OPENAI_BASE_URL=http://g/v1"}
	p, err := Lookup(NameCustom, Options{Image: "a", Cmd: cmd, GatewayEnv: gw})
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd[0], p.Env[len(p.Env)-1] = "changed", "changed"
	if cmd[0] != "agent" || gw[0] != "OPENAI_BASE_URL=http://g/v1" {
		t.Errorf("Lookup aliases the caller's slices: cmd %q env %q", cmd, gw)
	}
}

// TestStdinScriptDoesNotInterpretTask runs the presets' shell wrapper with
// a hostile task file and checks that the agent receives the bytes
// unchanged on stdin and that nothing in them ran.
func TestStdinScriptDoesNotInterpretTask(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this host")
	}
	dir := t.TempDir()
	task := filepath.Join(dir, "task.md")
	marker := filepath.Join(dir, "pwned")
	hostile := "fix it $(touch " + marker + ") `touch " + marker + "` ; touch " + marker + "\n\"'$HOME\n"
	if err := os.WriteFile(task, []byte(hostile), 0o600); err != nil {
		t.Fatal(err)
	}
	script := strings.Replace(stdinScript, TaskFile, task, 1)
	if script == stdinScript {
		t.Fatal("stdinScript does not name TaskFile")
	}
	p, err := Lookup(NameClaudeCode, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cmd[2] != stdinScript {
		t.Fatalf("claude-code preset does not use stdinScript: %q", p.Cmd)
	}
	p, err = Lookup(NameCodex, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cmd[2] != codexScript || !strings.HasSuffix(codexScript, " && "+stdinScript) {
		t.Fatalf("codex preset does not use codexScript ending in stdinScript: %q", p.Cmd)
	}
	// codexScript, with its directories moved under dir: it creates them
	// (Codex exits 1 when CODEX_HOME does not exist) and then hands the
	// task over unchanged.
	home, tmp := filepath.Join(dir, "codex-home"), filepath.Join(dir, "codex-tmp")
	codexScriptHere := strings.NewReplacer(CodexHome, home, CodexTmpDir, tmp, TaskFile, task).Replace(codexScript)
	for _, s := range []string{script, codexScriptHere} {
		out, err := exec.Command(sh, "-c", s, "agentgate-task", "cat").Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != hostile {
			t.Errorf("agent got %q on stdin, want the task unchanged %q", out, hostile)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the task text was executed by the shell")
		}
	}
	for _, d := range []string{home, tmp} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("codexScript did not create %s: %v", d, err)
		}
	}
}

// TestCodexDirectories checks the directory rules of codex-rs at
// CodexVersion: CODEX_HOME is set to a directory codexScript creates, and
// it does not lie under TMPDIR (arg0 refuses its helpers there).
func TestCodexDirectories(t *testing.T) {
	p, err := Lookup(NameCodex, Options{GatewayEnv: []string{"OPENAI_BASE_URL=http://127.0.0.1:4000/openai/v1"}})
	if err != nil {
		t.Fatal(err)
	}
	home, tmp := envValue(p.Env, "CODEX_HOME"), envValue(p.Env, "TMPDIR")
	if home == "" || tmp == "" {
		t.Fatalf("env %q lacks CODEX_HOME or TMPDIR", p.Env)
	}
	if !strings.Contains(p.Cmd[2], "mkdir -p "+home+" "+tmp+" ") {
		t.Errorf("the command %q does not create %s and %s", p.Cmd[2], home, tmp)
	}
	if rel, err := filepath.Rel(tmp, home); err == nil && !strings.HasPrefix(rel, "..") {
		t.Errorf("CODEX_HOME %s lies under TMPDIR %s", home, tmp)
	}
	for _, bad := range []string{"--full-auto", "workspace-write"} {
		if slices.Contains(p.Cmd, bad) {
			t.Errorf("argv holds %s (Codex's own sandbox cannot run in the container): %q", bad, p.Cmd)
		}
	}
	if !slices.Contains(p.Cmd, "--dangerously-bypass-approvals-and-sandbox") {
		t.Errorf("argv %q does not turn Codex's own sandbox off", p.Cmd)
	}
	if !slices.Contains(p.Cmd, `model_provider="agentgate"`) {
		t.Errorf("argv %q does not select the gateway provider", p.Cmd)
	}
}

func TestCheckVersion(t *testing.T) {
	codex, err := Lookup(NameCodex, Options{})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := Lookup(NameCustom, Options{Image: "a", Cmd: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		p            Preset
		label        string
		wantReported string
		wantWarning  string // substring; "" for none
	}{
		{"same", codex, "codex-cli " + CodexVersion, "codex-cli " + CodexVersion, ""},
		{"bare version with v", codex, "v" + CodexVersion, "v" + CodexVersion, ""},
		{"different", codex, "codex-cli 0.150.0", "codex-cli 0.150.0", `reports CLI version "codex-cli 0.150.0"`},
		{"longer version is different", codex, "codex-cli " + CodexVersion + "0", "codex-cli " + CodexVersion + "0", "reports CLI version"},
		{"no label", codex, "", "", "reports no CLI version"},
		{"control characters dropped", codex, "codex-cli\x1b[31m 0.1\n", "codex-cli[31m 0.1", "reports CLI version"},
		{"custom has no version", custom, "anything", "anything", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			labels := map[string]string{}
			if tc.label != "" {
				labels[VersionLabel] = tc.label
			}
			reported, warning := CheckVersion(tc.p, labels)
			if reported != tc.wantReported {
				t.Errorf("reported %q, want %q", reported, tc.wantReported)
			}
			if (tc.wantWarning == "") != (warning == "") || !strings.Contains(warning, tc.wantWarning) {
				t.Errorf("warning %q, want one containing %q", warning, tc.wantWarning)
			}
		})
	}
}
