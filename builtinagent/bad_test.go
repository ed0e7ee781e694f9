package builtinagent

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/internal/fakellm"
)

var finish = calls(call("finish", `{"summary":"done"}`))

// TestToolRefusals: bad tool calls are answered with an error tool result
// the model sees, nothing outside the workspace is read or written, and
// the run goes on to finish.
func TestToolRefusals(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("TOPSECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call fakellm.ToolCall
		want string
	}{
		{"malformed JSON", call("read_file", `{"path": "hello.go"`), "error: malformed arguments for read_file"},
		{"wrong type", call("read_file", `{"path": 7}`), "error: malformed arguments"},
		{"unknown field", call("write_file", `{"path":"x","content":"y","mode":"0777"}`), "error: malformed arguments"},
		{"missing content", call("write_file", `{"path":"x"}`), "error: write_file needs path and content"},
		{"unknown tool", call("rm_rf", `{}`), `error: unknown tool "rm_rf"`},
		{"dotdot read", call("read_file", `{"path":"../../etc/passwd"}`), "outside the workspace"},
		{"absolute read", call("read_file", `{"path":"/etc/passwd"}`), "outside the workspace"},
		{"absolute write", call("write_file", js(map[string]string{"path": filepath.Join(outside, "new"), "content": "x"})), "outside the workspace"},
		{"dotdot write", call("write_file", `{"path":"sub/../../x","content":"x"}`), "outside the workspace"},
		{"symlink read", call("read_file", `{"path":"out/secret"}`), "error: "},
		{"symlink write", call("write_file", `{"path":"out/new","content":"x"}`), "error: "},
		{"symlink list", call("list_files", `{"path":"out"}`), "error: "},
		{"patch escape", call("apply_patch", js(map[string]string{"diff": "--- /dev/null\n+++ b/../../x\n@@ -0,0 +1 @@\n+x\n"})), "outside the workspace"},
		{"patch mismatch", call("apply_patch", js(map[string]string{"diff": "--- a/hello.go\n+++ b/hello.go\n@@ -1,1 +1,1 @@\n-package nope\n+package yes\n"})), "does not match"},
		{"patch garbage", call("apply_patch", `{"diff":"not a diff"}`), "error: "},
		{"bad regexp", call("search", `{"pattern":"("}`), "bad pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAgent(t, map[string]string{"hello.go": "package main\n"}, []fakellm.Turn{calls(tt.call), finish}, func(c *Config) {
				if err := os.Symlink(outside, filepath.Join(c.Workspace, "out")); err != nil {
					t.Fatal(err)
				}
			})
			if r.err != nil || r.res.Status != StatusFinished {
				t.Fatalf("Run = %+v, %v", r.res, r.err)
			}
			res := toolResults(r.fake)
			if len(res) != 1 || !strings.Contains(res[0], tt.want) {
				t.Fatalf("tool results %q, want the first to contain %q", res, tt.want)
			}
			if strings.Contains(res[0], "TOPSECRET") {
				t.Fatal("a file outside the workspace was read")
			}
			entries, _ := os.ReadDir(outside)
			if len(entries) != 1 {
				t.Fatalf("outside dir has %d entries, want only secret", len(entries))
			}
			if got := readWS(t, r.ws, "hello.go"); got != "package main\n" {
				t.Errorf("hello.go changed: %q", got)
			}
			for _, e := range r.events {
				if e.Type == "file_change" {
					t.Errorf("unexpected event %+v", e)
				}
			}
		})
	}
}

// TestRunEnds: how a run ends for each kind of model behaviour.
func TestRunEnds(t *testing.T) {
	list := calls(call("list_files", `{}`))
	tests := []struct {
		name     string
		script   []fakellm.Turn
		steps    int
		status   Status
		requests int
		summary  string
		lastUser string // text of the last user message of the last request
	}{
		{"final text answer", []fakellm.Turn{list, {Text: "All done: nothing to change."}}, 10, StatusFinished, 2, "All done: nothing to change.", ""},
		{"step budget", []fakellm.Turn{list, list, list, list}, 3, StatusStepBudget, 3, "step budget", ""},
		{"429 and 500 retried", []fakellm.Turn{{Status: http.StatusTooManyRequests, RetryAfter: "0"}, {Status: 503}, finish}, 10, StatusFinished, 3, "done", ""},
		{"retries exhausted", []fakellm.Turn{{Status: 429}, {Status: 429}, {Status: 429}, {Status: 429}, {Status: 429}, finish}, 10, StatusError, 5, "answered 429", ""},
		{"client error not retried", []fakellm.Turn{{Status: 400}, finish}, 10, StatusError, 1, "answered 400", ""},
		{"malformed body", []fakellm.Turn{{Raw: `{"choices": [`}}, 10, StatusError, 1, "malformed answer", ""},
		{"no choices", []fakellm.Turn{{Raw: `{"choices": []}`}}, 10, StatusError, 1, "no choices", ""},
		{"length", []fakellm.Turn{{Text: "Writing", ToolCalls: []fakellm.ToolCall{call("write_file", `{"path":"big.txt","content":"aaa`)}, FinishReason: "length"}, finish}, 10, StatusFinished, 2, "done", "cut off"},
		{"empty answer nudged", []fakellm.Turn{{}, finish}, 10, StatusFinished, 2, "done", "Use the tools"},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: "", true: "/sse"}[stream], func(t *testing.T) {
				r := runAgent(t, nil, tt.script, func(c *Config) { c.MaxSteps = tt.steps; c.Stream = stream; c.MaxRetries = 4 })
				if r.res.Status != tt.status || (r.err == nil) != (tt.status == StatusFinished) {
					t.Fatalf("Run = %+v, %v; want %s", r.res, r.err, tt.status)
				}
				if got := len(r.fake.Requests()); got != tt.requests {
					t.Errorf("%d requests, want %d", got, tt.requests)
				}
				sum, err := os.ReadFile(filepath.Join(r.out, "summary.md"))
				if err != nil || !strings.Contains(string(sum), tt.summary) {
					t.Errorf("summary.md = %q, %v; want it to contain %q", sum, err, tt.summary)
				}
				if _, err := os.Stat(filepath.Join(r.ws, "big.txt")); err == nil {
					t.Error("a cut tool call was executed")
				}
				if tt.lastUser != "" {
					reqs := r.fake.Requests()
					msgs := reqs[len(reqs)-1].Messages
					if m := msgs[len(msgs)-1]; m.Role != "user" || !strings.Contains(m.Text(), tt.lastUser) {
						t.Errorf("last message %+v, want a user message containing %q", m, tt.lastUser)
					}
				}
				want := map[Status]int{StatusFinished: 0, StatusStepBudget: 3, StatusError: 1}[tt.status]
				if r.res.ExitCode() != want {
					t.Errorf("exit code %d, want %d", r.res.ExitCode(), want)
				}
			})
		}
	}
}
