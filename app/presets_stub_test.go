package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/stubagent"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/runner/relayimage"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
)

// presetGolden is the part of runner/agents/testdata/<preset>.json this
// test compares with.
type presetGolden struct {
	Cmd []string `json:"cmd"`
	Env []string `json:"env"`
}

// gatewayKeys are the variables the golden files fill from a fixed
// gateway environment; in a real run they come from the run's gateway.
var gatewayKeys = map[string]bool{
	"OPENAI_BASE_URL": true, "OPENAI_API_KEY": true, "OPENAI_API_BASE": true,
	"ANTHROPIC_BASE_URL": true, "ANTHROPIC_API_KEY": true,
}

// TestPresetsStartExactlyAsGolden runs each non-builtin preset's command
// line in the real sandbox (relay network, LLM gateway) with
// agentgate/stub:dev, whose programs only record how they were started.
// The container's command is exactly the golden file's; the agent's
// environment is exactly the golden file's (with the run's gateway URLs and
// placeholders) plus the sandbox's own variables: no real key, no token,
// nothing of the worker's environment. It runs as the sandbox user in
// /workspace and sees no host path but the work tree, the read-only task
// file and the out directory.
func TestPresetsStartExactlyAsGolden(t *testing.T) {
	requireDocker(t)
	const (
		openAIKey    = "sk-real-openai-key-0123456789abcdef0123"
		anthropicKey = "sk-ant-real-anthropic-key-0123456789abcdef"
		task         = "Fix the bug.\n$(touch /tmp/pwned) `id` ; echo $HOME\n"
	)
	// Something a careless sandbox would pass on: it must not arrive.
	t.Setenv("GITHUB_TOKEN", "ghp_abcdefghijklmnopqrstuvwxyz0123456789")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cli := dockertest.Client(t)
	if _, err := stubagent.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	if _, err := relayimage.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the stub reached the model upstream: %s", r.URL)
	}))
	defer upstream.Close()

	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if out, err := exec.Command("git", "init", "-q", "-b", "main", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "init")
	db, err := store.Open(ctx, filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	cases := []struct {
		golden string // file in runner/agents/testdata
		preset string
		opts   agents.Options
		stdin  bool // the preset hands the task on standard input
	}{
		{"codex", agents.NameCodex, agents.Options{Model: "gpt-5-codex"}, true},
		{"claude-code", agents.NameClaudeCode, agents.Options{Model: "claude-sonnet-4-5"}, true},
		{"aider", agents.NameAider, agents.Options{Model: "gpt-4.1"}, false},
		{"custom", agents.NameCustom, agents.Options{Cmd: []string{"/bin/agent", "--unattended"}, Model: "m"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			var want presetGolden
			b, err := os.ReadFile(filepath.Join("..", "runner", "agents", "testdata", tc.golden+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			var gatewayEnv []string
			cfg := app.DefaultConfig()
			sb := &sandbox.Sandbox{
				Engine: runner.New(cli), Events: db, DataDir: filepath.Join(dir, "data"), WorkerID: "stub-test",
				Agent: func(gw []string) (agents.Preset, error) {
					gatewayEnv = gw
					opts := tc.opts
					opts.Image, opts.GatewayEnv = stubagent.Image, gw
					return agents.Lookup(tc.preset, opts)
				},
				Limits:         runner.Limits{Timeout: time.Minute, MemoryBytes: 256 << 20, NanoCPUs: 1e9, Pids: 64, TmpfsBytes: 16 << 20, OutputBytes: 1 << 20},
				WorkspaceBytes: 32 << 20, WorkspaceInodes: 10_000,
				Network: sandbox.NetworkConfig{
					Mode: "relay", RelayImage: cfg.Network.RelayImage, MaxBytes: 1 << 20, MaxConns: 4,
					OpenAIURL: upstream.URL, OpenAIKey: openAIKey,
					AnthropicURL: upstream.URL, AnthropicKey: anthropicKey,
				},
			}
			runID := "stub-" + tc.golden
			att, err := sb.Execute(ctx, sandbox.Task{RunID: runID, CloneURL: repo, Text: task, Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := att.Close(); err != nil {
					t.Error(err)
				}
			}()
			if att.Outcome != sandbox.OutcomeNoChange {
				t.Fatalf("outcome %q (%s); output:\n%s", att.Outcome, att.Reason, att.Result.Output)
			}
			rec := stubRecord(t, att.Result.Output)
			if len(rec.Errors) > 0 {
				t.Errorf("the stub could not read: %q", rec.Errors)
			}

			// The golden files name a fixed gateway; the codex preset puts
			// the run's gateway URL on its command line.
			for i, a := range want.Cmd {
				want.Cmd[i] = strings.ReplaceAll(a, goldenOpenAIURL, gatewayEnvValue(gatewayEnv, "OPENAI_BASE_URL"))
			}
			// The container's command, as PID 1 (docker-init) was given it.
			i := slices.Index(rec.Init, "--")
			if i < 0 || !slices.Equal(rec.Init[i+1:], want.Cmd) {
				t.Errorf("container command = %q\nwant the golden %q", rec.Init, want.Cmd)
			}
			// The program the command ends in got the agent's argv.
			wantArgv := want.Cmd
			if tc.stdin {
				wantArgv = want.Cmd[4:] // after: /bin/sh -c <script> agentgate-task
			}
			if !slices.Equal(rec.Argv, wantArgv) {
				t.Errorf("agent argv = %q, want %q", rec.Argv, wantArgv)
			}
			wantStdin := ""
			if tc.stdin {
				wantStdin = task
			}
			if rec.Stdin != wantStdin {
				t.Errorf("stdin = %q, want %q", rec.Stdin, wantStdin)
			}

			// The environment: exactly the golden's (gateway entries taken
			// from this run's gateway), the sandbox's own, and what the
			// image and engine always set.
			gw := map[string]string{}
			for _, kv := range gatewayEnv {
				k, v, _ := strings.Cut(kv, "=")
				gw[k] = v
			}
			wantEnv := []string{
				"PATH=/usr/local/bin:/bin", // the image's ENV
				"AGENTGATE_TASK_FILE=/agentgate/task.md", "AGENTGATE_RUN_ID=" + runID, "HOME=/tmp",
				"HTTP_PROXY=http://127.0.0.1:3128", "HTTPS_PROXY=http://127.0.0.1:3128",
				"http_proxy=http://127.0.0.1:3128", "https_proxy=http://127.0.0.1:3128",
				"NO_PROXY=localhost,127.0.0.1", "no_proxy=localhost,127.0.0.1",
			}
			for _, kv := range want.Env {
				k, _, _ := strings.Cut(kv, "=")
				switch {
				case k == "HOME": // the sandbox sets it (to the same /tmp)
				case gatewayKeys[k] && k == "OPENAI_API_BASE":
					wantEnv = append(wantEnv, k+"="+gw["OPENAI_BASE_URL"])
				case gatewayKeys[k]:
					v, ok := gw[k]
					if !ok {
						t.Fatalf("the run's gateway did not hand out %s", k)
					}
					wantEnv = append(wantEnv, k+"="+v)
				default:
					wantEnv = append(wantEnv, kv)
				}
			}
			slices.Sort(wantEnv)
			canaries := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "NPM_TOKEN"}
			withoutHostname := func(env []string) []string {
				for _, k := range canaries { // the run's decoys, fresh each run: present, and then left out
					if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
						t.Errorf("canary %s not in the environment", k)
					}
				}
				out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
					k, _, _ := strings.Cut(kv, "=")
					return k == "HOSTNAME" || slices.Contains(canaries, k) // HOSTNAME is set by the engine
				})
				slices.Sort(out)
				return out
			}
			// The container's environment, as PID 1 got it.
			if got := withoutHostname(rec.InitEnv); !slices.Equal(got, wantEnv) {
				t.Errorf("container environment:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantEnv, "\n"))
			}
			// The agent's: the same, plus what the presets' /bin/sh
			// wrapper exports itself.
			wantAgent := wantEnv
			if tc.stdin {
				wantAgent = append(slices.Clone(wantEnv), "PWD=/workspace", "SHLVL=1")
				slices.Sort(wantAgent)
			}
			if got := withoutHostname(rec.Env); !slices.Equal(got, wantAgent) {
				t.Errorf("agent environment:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantAgent, "\n"))
			}
			for _, kv := range slices.Concat(rec.Env, rec.InitEnv) {
				if strings.Contains(kv, openAIKey) || strings.Contains(kv, anthropicKey) || strings.Contains(kv, "ghp_") {
					t.Errorf("a real credential reached the agent: %s", kv)
				}
			}
			if gw["OPENAI_BASE_URL"] != "http://127.0.0.1:4000/openai/v1" || gw["ANTHROPIC_BASE_URL"] != "http://127.0.0.1:4000/anthropic" {
				t.Errorf("gateway env %q", gatewayEnv)
			}

			if rec.UID != 65532 || rec.GID != 65532 || slices.Contains(rec.Groups, 0) {
				t.Errorf("user %d:%d groups %v, want 65532:65532 without group 0", rec.UID, rec.GID, rec.Groups)
			}
			if rec.Cwd != "/workspace" {
				t.Errorf("cwd %q", rec.Cwd)
			}
			checkStubMounts(t, rec.Mounts)
			if !slices.Contains(rec.Files, "/agentgate/task.md") {
				t.Errorf("files under /agentgate: %q", rec.Files)
			}
		})
	}
}

// goldenOpenAIURL is the OpenAI base URL of runner/agents' golden files.
const goldenOpenAIURL = "http://gateway.invalid:8080/openai/v1"

// gatewayEnvValue is key's value in a KEY=VALUE list, or "".
func gatewayEnvValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// stubRecord finds the stub's record line in the agent's output.
func stubRecord(t *testing.T, out []byte) stubagent.Record {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), stubagent.StdoutPrefix); ok {
			var rec stubagent.Record
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("stub record: %v", err)
			}
			return rec
		}
	}
	t.Fatalf("no stub record in the output:\n%s", out)
	return stubagent.Record{}
}

// checkStubMounts checks what the agent sees mounted: a read-only root, a
// tmpfs /tmp, and as host paths only the work tree, the read-only task
// file and the out directory; no Docker socket anywhere.
func checkStubMounts(t *testing.T, ms []stubagent.Mount) {
	t.Helper()
	byTarget := map[string]stubagent.Mount{}
	var host []string
	for _, m := range ms {
		byTarget[m.Target] = m
		if strings.Contains(m.Target, "docker.sock") {
			t.Errorf("the Docker socket is mounted: %+v", m)
		}
		switch {
		case m.Target == "/", m.Target == "/tmp",
			m.Target == "/proc" || strings.HasPrefix(m.Target, "/proc/"),
			m.Target == "/sys" || strings.HasPrefix(m.Target, "/sys/"),
			m.Target == "/dev" || strings.HasPrefix(m.Target, "/dev/"),
			m.Target == "/etc/resolv.conf", m.Target == "/etc/hostname", m.Target == "/etc/hosts",
			m.Target == "/sbin/docker-init": // Init: true
			continue // the engine's own
		}
		host = append(host, m.Target)
	}
	slices.Sort(host)
	// The run's canaries (read-only decoy credentials) sit in HOME.
	want := []string{"/agentgate/out", "/agentgate/task.md", "/tmp/.aws/credentials", "/tmp/.env", "/tmp/.npmrc", "/workspace"}
	if !slices.Equal(host, want) {
		t.Errorf("host paths mounted: %q, want %q", host, want)
	}
	for _, c := range []string{"/tmp/.aws/credentials", "/tmp/.env", "/tmp/.npmrc"} {
		if !strings.HasPrefix(byTarget[c].Options, "ro") {
			t.Errorf("canary %s is not read-only: %+v", c, byTarget[c])
		}
	}
	ro := func(target string) bool { return strings.HasPrefix(byTarget[target].Options, "ro") }
	if !ro("/") || !ro("/agentgate/task.md") || ro("/workspace") || ro("/agentgate/out") {
		t.Errorf("mount options: / %q, task %q, workspace %q, out %q", byTarget["/"].Options,
			byTarget["/agentgate/task.md"].Options, byTarget["/workspace"].Options, byTarget["/agentgate/out"].Options)
	}
	if byTarget["/tmp"].FSType != "tmpfs" {
		t.Errorf("/tmp is %+v, want a tmpfs", byTarget["/tmp"])
	}
}
