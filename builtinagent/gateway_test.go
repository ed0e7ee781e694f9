package builtinagent

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/fakellm"
	"github.com/agentgate/agentgate/runner/gateway"
)

// TestBehindGateway: the agent talks to fakellm through the real gateway,
// streamed and not, holding only the placeholder; fakellm sees the real
// key, and the gateway counts the tokens.
func TestBehindGateway(t *testing.T) {
	const realKey = "sk-proj-REALKEY-for-the-fake-0123456789"
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "sse"}[stream], func(t *testing.T) {
			fake := fakellm.New([]fakellm.Turn{
				{ToolCalls: []fakellm.ToolCall{{Name: "write_file", Arguments: `{"path":"a.txt","content":"A\n"}`}}, PromptTokens: 50, OutputTokens: 7},
				{ToolCalls: []fakellm.ToolCall{{Name: "finish", Arguments: `{"summary":"wrote a.txt"}`}}, PromptTokens: 60, OutputTokens: 3},
			}, fakellm.WithKey(realKey))
			defer fake.Close()
			placeholder := gateway.NewPlaceholder("run1")
			gw, err := gateway.New(gateway.Options{OpenAI: &gateway.Upstream{BaseURL: fake.URL, Key: realKey}, Placeholder: placeholder,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = gw.Serve(ln) }()
			defer gw.Close()
			env := map[string]string{}
			for _, kv := range gw.Env("http://" + ln.Addr().String()) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			ws := t.TempDir()
			var events bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := Run(ctx, Config{BaseURL: env["OPENAI_BASE_URL"], APIKey: env["OPENAI_API_KEY"], Task: "t", Workspace: ws,
				OutDir: t.TempDir(), Stream: stream, Events: &events, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil || res.Status != StatusFinished {
				t.Fatalf("Run = %+v, %v", res, err)
			}
			if b, _ := os.ReadFile(filepath.Join(ws, "a.txt")); string(b) != "A\n" {
				t.Errorf("a.txt = %q", b)
			}
			if res.InputTokens != 110 || res.OutputTokens != 10 {
				t.Errorf("agent counted %d/%d tokens, want 110/10", res.InputTokens, res.OutputTokens)
			}
			// The gateway books a streamed answer once it has passed it on.
			u := gw.Usage()
			for deadline := time.Now().Add(5 * time.Second); u.Requests < 2 && time.Now().Before(deadline); u = gw.Usage() {
				time.Sleep(10 * time.Millisecond)
			}
			if u.InputTokens != 110 || u.OutputTokens != 10 {
				t.Errorf("gateway usage %+v, want 110/10", u)
			}
			if reqs := fake.Requests(); len(reqs) != 2 || reqs[0].Authorization != "Bearer "+realKey || bytes.Contains(reqs[0].Body, []byte(placeholder)) {
				t.Errorf("upstream requests %+v", reqs)
			}
		})
	}
}
