package agentimage

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/fakellm"
)

// TestAgentInImage builds the image, checks its configuration, and runs
// the built-in agent in it against a fake model on the host's loopback:
// the agent writes a file, runs a command with the image's busybox sh and
// finishes, as the non-root user, in /workspace.
func TestAgentInImage(t *testing.T) {
	cli := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if img, err := EnsureImage(ctx, cli); err != nil || img != Image {
		t.Fatalf("EnsureImage = %q, %v", img, err)
	}
	inspect, err := cli.ImageInspect(ctx, Image)
	if err != nil {
		t.Fatal(err)
	}
	cfg := inspect.Config
	if cfg == nil || strings.Join(cfg.Entrypoint, " ") != "/usr/local/bin/agentgate agent" || cfg.User != "65532:65532" || cfg.WorkingDir != "/workspace" {
		t.Fatalf("image config %+v", cfg)
	}

	fake := fakellm.New([]fakellm.Turn{
		{ToolCalls: []fakellm.ToolCall{{Name: "write_file", Arguments: `{"path":"GREETING.md","content":"hello\n"}`}}},
		{ToolCalls: []fakellm.ToolCall{{Name: "run", Arguments: `{"command":"cat GREETING.md; id -u"}`}}},
		{ToolCalls: []fakellm.ToolCall{{Name: "finish", Arguments: `{"summary":"Added GREETING.md."}`}}},
	}, fakellm.WithKey("placeholder"))
	defer fake.Close()
	ws, out := t.TempDir(), t.TempDir()
	for _, d := range []string{ws, out} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "task.md"), []byte("add a greeting"), 0o644); err != nil {
		t.Fatal(err)
	}
	created, err := cli.ContainerCreate(ctx, &container.Config{
		Image: Image,
		Env: []string{"OPENAI_BASE_URL=" + fake.BaseURL(), "OPENAI_API_KEY=placeholder", "AGENTGATE_MODEL=fake-1",
			"AGENTGATE_TASK_FILE=/agentgate/task/task.md", "AGENTGATE_OUT_DIR=/agentgate/task/out"},
	}, &container.HostConfig{
		NetworkMode: "host", // the fake listens on the host's loopback only
		Binds:       []string{ws + ":/workspace", out + ":/agentgate/task"},
		CapDrop:     []string{"ALL"},
		SecurityOpt: []string{"no-new-privileges"},
	}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNotRunning)
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		t.Fatal(err)
	}
	logs, err := cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	_, _ = stdcopy.StdCopy(&stdout, &stderr, logs)
	logs.Close()
	if code != 0 {
		t.Fatalf("agent exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(ws, "GREETING.md")); err != nil || string(b) != "hello\n" {
		t.Errorf("GREETING.md = %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "out", "summary.md")); err != nil || strings.TrimSpace(string(b)) != "Added GREETING.md." {
		t.Errorf("summary.md = %q, %v", b, err)
	}
	var sawCommand bool
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var ev struct {
			Type     string `json:"type"`
			Command  string `json:"command"`
			ExitCode *int   `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("stdout line %q is not an event: %v", line, err)
		}
		if ev.Type == "command" && ev.ExitCode != nil && *ev.ExitCode == 0 {
			sawCommand = true
		}
	}
	if !sawCommand {
		t.Errorf("no successful command event in %s", stdout.String())
	}
	reqs := fake.Requests()
	if len(reqs) != 3 || reqs[0].Model != "fake-1" {
		t.Fatalf("%d requests, first %+v", len(reqs), reqs)
	}
	var runResult string
	for _, m := range reqs[2].Messages {
		if m.Role == "tool" {
			runResult = m.Text()
		}
	}
	if !strings.Contains(runResult, "exit code 0\nhello\n65532") {
		t.Errorf("run result %q, want the file and uid 65532", runResult)
	}
}
