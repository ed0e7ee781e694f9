package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/stubagent"
	"github.com/agentgate/agentgate/runner/agents"
)

// The argv and environment of the presets as main had them before they
// were checked against the CLIs' source (runner/agents/testdata at commit
// e86f938): the contract stubs must refuse the codex one, as Codex 0.146.1
// would not work with it.
var (
	oldCodexArgv = []string{"codex", "exec", "--json", "--full-auto", "--skip-git-repo-check", "-C", "/workspace", "--model", "gpt-5-codex", "-"}
	oldCodexEnv  = []string{"HOME=/tmp", "NO_COLOR=1", "CODEX_HOME=/tmp/.codex"}
)

// contractCase runs one contract stub in a temporary work tree with a
// fake upstream as the gateway.
type contractCase struct {
	argv []string // argv[0] picks the contract
	env  []string // besides the gateway's
	task string
	root bool // run as uid 0
}

// presetCase is a contract case from a preset as runner/agents makes it,
// with /tmp, /workspace and the task file moved under dir.
func presetCase(t *testing.T, dir, gateway, preset, model string) (argv, env []string) {
	t.Helper()
	p, err := agents.Lookup(preset, agents.Options{Model: model, GatewayEnv: gatewayEnv(gateway)})
	if err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer("/tmp", filepath.Join(dir, "tmp"), "/workspace", filepath.Join(dir, "work"), agents.TaskFile, filepath.Join(dir, "task.md"))
	argv = slices.Clone(p.Cmd)
	if argv[0] == "/bin/sh" {
		// The wrapper's script runs as in the container: make the
		// directories it names.
		script := repl.Replace(argv[2])
		if dirs, ok := strings.CutPrefix(script, "mkdir -p "); ok {
			for _, d := range strings.Fields(strings.Split(dirs, "&&")[0]) {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
		argv = argv[4:]
	}
	for i := range argv {
		if !strings.Contains(argv[i], "model_providers") {
			argv[i] = repl.Replace(argv[i])
		}
	}
	for _, kv := range p.Env {
		env = append(env, repl.Replace(kv))
	}
	return argv, env
}

func gatewayEnv(origin string) []string {
	return []string{
		"OPENAI_BASE_URL=" + origin + "/openai/v1", "OPENAI_API_KEY=agentgate-placeholder",
		"ANTHROPIC_BASE_URL=" + origin + "/anthropic", "ANTHROPIC_API_KEY=agentgate-placeholder",
	}
}

func runContract(t *testing.T, dir string, tc contractCase) (stdout, stderr string, err error) {
	t.Helper()
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(filepath.Join(work, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, ".git", "config"), []byte("[core]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "task.md"), []byte(tc.task), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	t.Cleanup(func() { _ = os.Chdir(wd) })
	if err := os.Chdir(work); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	contract := contracts[tc.argv[0]]
	uid := 65532 // the sandbox user
	if tc.root {
		uid = 0
	}
	err = contract(&run{args: tc.argv[1:], env: envMap(tc.env), stdin: tc.task, out: &out, errOut: &errOut, uid: uid})
	return out.String(), errOut.String(), err
}

func TestContractsAcceptThePresets(t *testing.T) {
	up := stubagent.NewUpstream("# Hello-World\n\nMy first commit.\n")
	defer up.Close()
	for _, tc := range []struct{ preset, model, events string }{
		{agents.NameCodex, "gpt-5-codex", `"type":"turn.completed","usage":{"cached_input_tokens":1000,"input_tokens":1200,"output_tokens":30}`},
		{agents.NameCodex, "", `"type":"file_change"`},
		{agents.NameClaudeCode, "claude-sonnet-4-5", `"cache_read_input_tokens":95090`},
		{agents.NameAider, "gpt-4.1", "Applied edit to README.md\ncat README.md\nRun shell command? (Y)es/(N)o [Yes]: n"},
	} {
		t.Run(tc.preset+"/"+tc.model, func(t *testing.T) {
			dir := t.TempDir()
			argv, env := presetCase(t, dir, up.URL, tc.preset, tc.model)
			out, errOut, err := runContract(t, dir, contractCase{argv: argv, env: env, task: "Fix the typo.\n" + stubagent.WriteDirective + "README.md\n"})
			if err != nil {
				t.Fatalf("the %s contract refused the preset: %v\nstderr: %s\nstdout: %s", tc.preset, err, errOut, out)
			}
			if errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
			b, err := os.ReadFile(filepath.Join(dir, "work", "README.md"))
			if err != nil || string(b) != up.Reply {
				t.Errorf("README.md = %q, %v", b, err)
			}
			if !strings.Contains(out, tc.events) {
				t.Errorf("output lacks %s:\n%s", tc.events, out)
			}
			for _, bad := range []string{"Your Name", "Would you like to see what's new"} {
				if strings.Contains(out, bad) {
					t.Errorf("output holds %q:\n%s", bad, out)
				}
			}
		})
	}
	// The requests had the CLIs' shapes and the placeholder key.
	reqs := up.Requests()
	var paths []string
	for _, r := range reqs {
		paths = append(paths, r.Path)
		if r.Header.Get("Authorization") != "Bearer agentgate-placeholder" && r.Header.Get("X-Api-Key") != "agentgate-placeholder" {
			t.Errorf("%s without the placeholder key: %v", r.Path, r.Header)
		}
		switch r.Path {
		case "/openai/v1/responses":
			if r.Body["stream"] != true || r.Body["input"] == nil || r.Body["store"] != false {
				t.Errorf("Responses request %s", r.RawBody)
			}
		case "/anthropic/v1/messages":
			if r.Body["stream"] != true || r.Body["max_tokens"] == nil || r.Header.Get("Anthropic-Version") == "" || r.Query != "beta=true" {
				t.Errorf("Messages request %s %v", r.RawBody, r.Header)
			}
		case "/openai/v1/chat/completions":
			if r.Body["stream"] != true || r.Body["model"] != "gpt-4.1" {
				t.Errorf("chat request %s", r.RawBody)
			}
		}
	}
	want := []string{"/openai/v1/responses", "/openai/v1/responses", "/anthropic/v1/messages/count_tokens", "/anthropic/v1/messages", "/openai/v1/chat/completions"}
	if !slices.Equal(paths, want) {
		t.Errorf("requests %q, want %q", paths, want)
	}
}

func TestContractsRefuse(t *testing.T) {
	up := stubagent.NewUpstream("x")
	defer up.Close()
	cases := []struct {
		name     string
		preset   string
		edit     func(argv, env []string, dir string) ([]string, []string)
		wantCode int
		wantErr  string
	}{
		{"codex as on main", agents.NameCodex, func(_, _ []string, dir string) ([]string, []string) {
			env := slices.Clone(oldCodexEnv)
			env[2] = "CODEX_HOME=" + filepath.Join(dir, "tmp", ".codex")
			return slices.Clone(oldCodexArgv), append(env, gatewayEnv(up.URL)...)
		}, 1, "Error finding codex home"},
		{"codex without CODEX_HOME", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			return argv, replaceEnv(env, "CODEX_HOME", "/nonexistent/codex-home")
		}, 1, "does not exist"},
		{"codex --full-auto", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			return replaceArg(argv, "--dangerously-bypass-approvals-and-sandbox", "--full-auto"), env
		}, 1, "bubblewrap"},
		{"codex unknown flag", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			return append(argv[:len(argv)-1], "--ask-for-approval", "never", "-"), env
		}, 2, "unexpected argument '--ask-for-approval'"},
		{"codex built-in provider", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			return dropConfig(argv), env
		}, 1, "OPENAI_BASE_URL is not read"},
		{"codex provider key unset", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			return argv, replaceEnv(env, "OPENAI_API_KEY", "")
		}, 1, "Missing environment variable: `OPENAI_API_KEY`"},
		{"codex provider with websockets", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			for i := range argv {
				argv[i] = strings.Replace(argv[i], "supports_websockets=false", "supports_websockets=true", 1)
			}
			return argv, env
		}, 1, "WebSocket"},
		{"codex chat wire API", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			for i := range argv {
				argv[i] = strings.Replace(argv[i], `wire_api="responses"`, `wire_api="chat"`, 1)
			}
			return argv, env
		}, 1, "no longer supported"},
		{"codex override without =", agents.NameCodex, func(argv, env []string, _ string) ([]string, []string) {
			return append([]string{argv[0], argv[1], "-c", "model_provider"}, argv[2:]...), env
		}, 1, "missing '='"},
		{"claude stream-json without --verbose", agents.NameClaudeCode, func(argv, env []string, _ string) ([]string, []string) {
			return slices.DeleteFunc(argv, func(a string) bool { return a == "--verbose" }), env
		}, 1, "requires --verbose"},
		{"claude unknown flag", agents.NameClaudeCode, func(argv, env []string, _ string) ([]string, []string) {
			return append(argv, "--yolo"), env
		}, 1, "unknown option '--yolo'"},
		{"claude without base URL", agents.NameClaudeCode, func(argv, env []string, _ string) ([]string, []string) {
			return argv, replaceEnv(env, "ANTHROPIC_BASE_URL", "")
		}, 1, "api.anthropic.com"},
		{"aider unknown flag", agents.NameAider, func(argv, env []string, _ string) ([]string, []string) {
			return append(argv, "--yes"), env
		}, 2, "unrecognized arguments: --yes"},
		{"aider without key", agents.NameAider, func(argv, env []string, _ string) ([]string, []string) {
			return argv, replaceEnv(env, "OPENAI_API_KEY", "")
		}, 1, "api_key"},
		{"aider missing message file", agents.NameAider, func(argv, env []string, _ string) ([]string, []string) {
			return replaceArgAfter(argv, "--message-file", "/nonexistent/task.md"), env
		}, 1, "message file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			argv, env := presetCase(t, dir, up.URL, tc.preset, "m")
			argv, env = tc.edit(argv, env, dir)
			_, errOut, err := runContract(t, dir, contractCase{argv: argv, env: env, task: "Fix it.\n"})
			var ee exitError
			if !errors.As(err, &ee) || ee.code != tc.wantCode || !strings.Contains(ee.msg, tc.wantErr) {
				t.Fatalf("error %v (stderr %q), want exit %d with %q", err, errOut, tc.wantCode, tc.wantErr)
			}
		})
	}
}

// TestContractsWarn: what the real CLI only warns about, the stub warns
// about too, on standard error or in its output.
func TestContractsWarn(t *testing.T) {
	up := stubagent.NewUpstream("x")
	defer up.Close()
	dir := t.TempDir()
	argv, env := presetCase(t, dir, up.URL, agents.NameCodex, "")
	env = replaceEnv(env, "TMPDIR", "")
	_, errOut, err := runContract(t, dir, contractCase{argv: argv, env: append(env, "TMPDIR="+filepath.Join(dir, "tmp")), task: "Fix it.\n"})
	if err != nil || !strings.Contains(errOut, "Refusing to create helper binaries under temporary dir") {
		t.Errorf("CODEX_HOME under TMPDIR: err %v, stderr %q", err, errOut)
	}
	dir = t.TempDir()
	argv, env = presetCase(t, dir, up.URL, agents.NameAider, "")
	argv = slices.DeleteFunc(argv, func(a string) bool { return a == "--no-show-release-notes" })
	out, _, err := runContract(t, dir, contractCase{argv: argv, env: replaceEnv(env, "GIT_CONFIG_COUNT", ""), task: "Fix it.\n"})
	if err != nil || !strings.Contains(out, "Would you like to see what's new") || !strings.Contains(out, `git config user.name "Your Name"`) {
		t.Errorf("aider as on main: err %v, output %q", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "work", ".git", "config")); !strings.Contains(string(b), "Your Name") {
		t.Errorf(".git/config = %q, want aider's placeholder", b)
	}
}

// TestStubBinaryExitCodes runs the stub as the container does: as codex,
// with an unknown flag it exits 2 (and still prints its record).
func TestStubBinaryExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the stub")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "codex")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v %s", err, out)
	}
	cmd := exec.Command(bin, "exec", "--no-such-flag")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), stubagent.StdoutPrefix) {
		t.Errorf("exit %v, output %q", err, out)
	}
}

func replaceEnv(env []string, key, value string) []string {
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	if value != "" {
		out = append(out, key+"="+value)
	}
	return out
}

func replaceArg(argv []string, from, to string) []string {
	out := slices.Clone(argv)
	for i, a := range out {
		if a == from {
			out[i] = to
		}
	}
	return out
}

func replaceArgAfter(argv []string, flag, value string) []string {
	out := slices.Clone(argv)
	for i := range out[:len(out)-1] {
		if out[i] == flag {
			out[i+1] = value
		}
	}
	return out
}

// dropConfig removes the -c overrides.
func dropConfig(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		if argv[i] == "-c" {
			i++
			continue
		}
		out = append(out, argv[i])
	}
	return out
}

// Claude Code refuses bypassPermissions to root: the sandbox user must not
// be uid 0.
func TestClaudeContractRefusesRoot(t *testing.T) {
	up := stubagent.NewUpstream("x")
	defer up.Close()
	dir := t.TempDir()
	argv, env := presetCase(t, dir, up.URL, agents.NameClaudeCode, "")
	_, _, err := runContract(t, dir, contractCase{argv: argv, env: env, task: "Fix it.\n", root: true})
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(ee.msg, "root") {
		t.Errorf("as root: %v", err)
	}
}
