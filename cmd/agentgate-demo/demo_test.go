package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/dockertest"
)

// The demo end to end: the built-in agent in its sandbox, the scripted
// model behind the gateway; the pull request's diff fixes the example
// issue's typo, and the output shows the check's token usage and tool
// calls, the run page's egress and gateway decisions, and a verified
// audit trail.
func TestDemo(t *testing.T) {
	dockertest.RequireRoot(t)
	dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The README's first command, as written, where the Quick start runs
	// it ("from a clone of this repository": the demo builds its images
	// from the source), with the built binary for `go run ./cmd/agentgate-demo`:
	// the demo keeps its directory under TMPDIR (the test's) and writes
	// nothing into the clone.
	line := readmeLine(t, `(go run \./cmd/agentgate-demo)\s+#.*`)[1]
	root := t.TempDir()
	cwd, tmp := filepath.Join("..", ".."), filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	// The clone's untracked and ignored files (edits to tracked files are
	// the developer's).
	gitStatus := func() string {
		t.Helper()
		out, err := exec.Command("git", "-C", cwd, "status", "--porcelain", "--ignored").CombinedOutput()
		if err != nil {
			t.Fatalf("git status: %v: %s", err, out)
		}
		var files []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "??") || strings.HasPrefix(l, "!!") {
				files = append(files, l)
			}
		}
		return strings.Join(files, "\n")
	}
	before := gitStatus()
	cmd := exec.CommandContext(ctx, "sh", "-c", strings.Replace(line, "go run ./cmd/agentgate-demo", filepath.Join(binaries(t), "agentgate-demo"), 1))
	cmd.Dir = cwd
	cmd.Env = userEnv(filepath.Join(root, "home"), filepath.Join(root, "state"), "TMPDIR="+tmp)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", line, err, out.String(), errOut.String())
	}
	dirs, err := filepath.Glob(filepath.Join(tmp, "agentgate-demo-*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("the demo's directories under TMPDIR: %q, %v", dirs, err)
	}
	dir := dirs[0]
	s := out.String()
	for _, want := range []string{
		// The pull request's diff: the typo really fixed.
		"--- a/README.md\n+++ b/README.md\n", "\n-My first commmit.\n+My first commit.\n",
		// The check: the agent's tool calls and the model's token usage.
		`Check run "agentgate"`, "| ` grep -rn commmit . ` | 0 |", "wget -q -O- http://dictionary.invalid/words.txt",
		"**LLM usage:** 4 requests, 5337 input + 175 output tokens (` demo-model `)",
		"**Tool calls:** 5 (`run` ×3, `apply_patch` ×1, `finish` ×1)",
		"| ` dictionary.invalid:80 ` (not allowlisted) | 0 | 1 |",
		// The run page: egress and gateway decisions.
		"dictionary.invalid:80 | 0 | 1 | 0 B | 0 B | not allowlisted",
		"net.denied | agent |", "llm.gateway | agentgate |", "llm.request | agent |", "Tokens: 5337 input + 175 output",
		// The audit trail, and where to look.
		"OK: head ", "agentgate audit verify --database-url " + dir,
		"pull request   #2, branch agentgate/1-", "run page       http://127.0.0.1:",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if !regexp.MustCompile(`Check run "agentgate" on [0-9a-f]{12}: completed/success`).MatchString(s) {
		t.Error("the check run did not succeed")
	}
	// The audit command the demo tells the user to type works as printed,
	// from the user's directory.
	if m := regexp.MustCompile(`(?m)^  audit trail    (agentgate audit show .*)$`).FindStringSubmatch(s); m == nil {
		t.Error("the demo prints no audit show command")
	} else if got, err := readmeShell(ctx, t, cwd, m[1], cmd.Env); err != nil || !strings.Contains(got, "git.pushed") {
		t.Errorf("%s: %v\n%s", m[1], err, got)
	}
	if after := gitStatus(); after != before {
		t.Errorf("the demo changed the clone: git status before:\n%s\nafter:\n%s", before, after)
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", s)
	}
}
