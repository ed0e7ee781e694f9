package sandbox

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/agentgate/agentgate/runner/gateway"
	"github.com/agentgate/agentgate/telemetry"
)

// memRecorder keeps appended events.
type memRecorder struct {
	mu  sync.Mutex
	evs []telemetry.Event
}

func (m *memRecorder) Append(_ context.Context, ev telemetry.Event) (telemetry.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evs = append(m.evs, ev)
	return ev, nil
}

func (m *memRecorder) kinds(kind string) []telemetry.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []telemetry.Event
	for _, ev := range m.evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// TestGatewayPolicyAudited starts a run's network with the operator's
// gateway settings and sends model requests through its socket: the
// settings are recorded (llm.gateway, which the provenance reads), a
// server-side tool the operator did not name is refused before the
// upstream and recorded as llm.refused, and the named one is forwarded.
func TestGatewayPolicyAudited(t *testing.T) {
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, `{"model":"gpt-x","usage":{"input_tokens":1,"output_tokens":1}}`)
	}))
	defer up.Close()
	rec := &memRecorder{}
	s := &Sandbox{Events: rec, DataDir: t.TempDir(), WorkerID: "w"}
	cfg := NetworkConfig{
		Mode: "relay", OpenAIURL: up.URL, OpenAIKey: "sk-test-0123456789",
		Gateway: GatewayConfig{AllowServerTools: []string{"web_search"}},
	}
	n, err := s.startNetwork(context.Background(), "run-gw", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var key string
	for _, kv := range n.env {
		if v, ok := strings.CutPrefix(kv, "OPENAI_API_KEY="); ok {
			key = v
		}
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(n.sockDir, "gateway.sock"))
	}}}
	post := func(body string) int {
		req, _ := http.NewRequest("POST", "http://gateway/openai/v1/responses", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(`{"model":"m","input":"x","tools":[{"type":"file_search","vector_store_ids":["vs_x"]}]}`); st != 400 || hits.Load() != 0 {
		t.Fatalf("file_search: status %d, upstream hits %d", st, hits.Load())
	}
	if st := post(`{"model":"m","input":"x","tools":[{"type":"web_search"}]}`); st != 200 || hits.Load() != 1 {
		t.Fatalf("allowed web_search: status %d, upstream hits %d", st, hits.Load())
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	pol := rec.kinds(telemetry.KindLLMGateway)
	if len(pol) != 1 || pol[0].Attrs["allow_server_tools"] != "web_search" || pol[0].Attrs["allow_provider_state"] != false {
		t.Errorf("llm.gateway events = %+v", pol)
	}
	refused := rec.kinds(telemetry.KindLLMRefused)
	if len(refused) != 1 || refused[0].Attrs["error"] != gateway.ErrRefused || !strings.Contains(refused[0].Attrs["refused"].(string), `"file_search"`) {
		t.Errorf("llm.refused events = %+v", refused)
	}
	if reqs := rec.kinds(telemetry.KindLLMRequest); len(reqs) != 1 || reqs[0].Attrs["status"] != 200 {
		t.Errorf("llm.request events = %+v", reqs)
	}
}
