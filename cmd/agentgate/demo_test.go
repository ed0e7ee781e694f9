package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
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
	var out bytes.Buffer
	dir := filepath.Join(t.TempDir(), "demo")
	if err := cmdDemo(ctx, []string{"-dir", dir}, &out, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
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
	if t.Failed() {
		t.Logf("demo output:\n%s", s)
	}
}
