package builtinagent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/fakellm"
)

// runAgent runs the agent on a temp workspace holding files against a
// fakellm serving script (streamed or not) and returns the result, error,
// events, workspace dir, out dir and the fake.
type run struct {
	res    Result
	err    error
	events []Event
	ws     string
	out    string
	fake   *fakellm.Server
}

func runAgent(t *testing.T, files map[string]string, script []fakellm.Turn, mod func(*Config)) run {
	t.Helper()
	fake := fakellm.New(script, fakellm.WithKey("placeholder"))
	t.Cleanup(fake.Close)
	ws, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	for name, content := range files {
		p := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var evbuf bytes.Buffer
	cfg := Config{BaseURL: fake.BaseURL(), APIKey: "placeholder", Task: "fix the greeting", Workspace: ws, OutDir: out,
		Events: &evbuf, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryBase: 10 * time.Millisecond, MaxSteps: 10}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	var evs []Event
	for _, line := range strings.Split(strings.TrimSpace(evbuf.String()), "\n") {
		if line == "" {
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("event %q is not JSON: %v", line, err)
		}
		evs = append(evs, e)
	}
	return run{res: res, err: err, events: evs, ws: ws, out: out, fake: fake}
}

func call(name, args string) fakellm.ToolCall { return fakellm.ToolCall{Name: name, Arguments: args} }

func calls(c ...fakellm.ToolCall) fakellm.Turn {
	return fakellm.Turn{ToolCalls: c, PromptTokens: 10, OutputTokens: 5}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func readWS(t *testing.T, ws, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ws, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// toolResults returns the tool messages of the last request, in order.
func toolResults(fake *fakellm.Server) []string {
	reqs := fake.Requests()
	if len(reqs) == 0 {
		return nil
	}
	var out []string
	for _, m := range reqs[len(reqs)-1].Messages {
		if m.Role == "tool" {
			out = append(out, m.Text())
		}
	}
	return out
}

const patch = `--- a/hello.go
+++ b/hello.go
@@ -3,3 +3,3 @@
 func greet() string {
-	return "helo"
+	return "hello"
 }
`

// TestFullRun drives every tool once, streamed and not: the files change
// on disk, events are printed and the summary is written.
func TestFullRun(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "sse"}[stream], func(t *testing.T) {
			hasSh := true
			if _, err := os.Stat("/bin/sh"); err != nil {
				hasSh = false
			}
			script := []fakellm.Turn{
				{Text: "Let me look.", ToolCalls: []fakellm.ToolCall{call("list_files", `{"path":"."}`)}, PromptTokens: 100, OutputTokens: 20},
				calls(call("read_file", `{"path":"hello.go"}`), call("search", `{"pattern":"helo"}`)),
				calls(call("write_file", js(map[string]string{"path": "docs/NOTES.md", "content": "notes\n"}))),
				calls(call("apply_patch", js(map[string]string{"diff": patch}))),
			}
			if hasSh {
				script = append(script, calls(call("run", `{"command":"echo ok && cat docs/NOTES.md","timeout_seconds":10}`)))
			}
			script = append(script, calls(call("finish", `{"summary":"Fixed the greeting typo."}`)))
			r := runAgent(t, map[string]string{"hello.go": "package main\n\nfunc greet() string {\n\treturn \"helo\"\n}\n"}, script,
				func(c *Config) { c.Stream = stream })
			if r.err != nil || r.res.Status != StatusFinished || r.res.ExitCode() != 0 {
				t.Fatalf("Run = %+v, %v", r.res, r.err)
			}
			if got := readWS(t, r.ws, "hello.go"); !strings.Contains(got, `return "hello"`) {
				t.Errorf("hello.go = %q", got)
			}
			if got := readWS(t, r.ws, "docs/NOTES.md"); got != "notes\n" {
				t.Errorf("NOTES.md = %q", got)
			}
			sum, err := os.ReadFile(filepath.Join(r.out, "summary.md"))
			if err != nil || strings.TrimSpace(string(sum)) != "Fixed the greeting typo." {
				t.Errorf("summary.md = %q, %v", sum, err)
			}
			var kinds []string
			for _, e := range r.events {
				switch e.Type {
				case "file_change":
					kinds = append(kinds, "file_change:"+e.Path+":"+e.Op)
				case "command":
					kinds = append(kinds, "command:"+e.Command+":"+js(e.ExitCode))
				case "message":
					kinds = append(kinds, "message:"+e.Text)
				}
			}
			want := []string{"message:Let me look.", "file_change:docs/NOTES.md:create", "file_change:hello.go:update"}
			if hasSh {
				want = append(want, "command:echo ok && cat docs/NOTES.md:0")
			}
			if strings.Join(kinds, "|") != strings.Join(want, "|") {
				t.Errorf("events %v, want %v", kinds, want)
			}
			if r.events[0].Type != "usage" || r.events[0].InputTokens != 100 || r.events[0].OutputTokens != 20 {
				t.Errorf("first event %+v, want usage 100/20", r.events[0])
			}
			reqs := r.fake.Requests()
			if len(reqs) != len(script) || reqs[0].Authorization != "Bearer placeholder" || reqs[0].Model != DefaultModel || len(reqs[0].Tools) != len(toolDefs) || reqs[0].Stream != stream {
				t.Fatalf("%d requests, first %+v", len(reqs), reqs[0])
			}
			// What the tools answered, as the model saw it.
			seen := map[string]string{}
			for _, m := range reqs[len(reqs)-1].Messages {
				if m.Role == "tool" {
					seen[m.ToolCallID] = m.Text()
				}
			}
			checks := map[string]string{"call_0_0": "hello.go\n", "call_1_0": "4\t\treturn \"helo\"", "call_1_1": "hello.go:4:", "call_3_0": "applied to hello.go"}
			if hasSh {
				checks["call_4_0"] = "exit code 0\nok\nnotes\n"
			}
			for id, want := range checks {
				if !strings.Contains(seen[id], want) {
					t.Errorf("tool result %s = %q, want it to contain %q", id, seen[id], want)
				}
			}
		})
	}
}
