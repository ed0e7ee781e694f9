package gateway

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkRoundTrip compares a small non-streamed completion sent
// directly to a fake upstream with the same request through the gateway
// (both over loopback TCP), to show the gateway's added latency.
func BenchmarkRoundTrip(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"model":"m","usage":{"prompt_tokens":10,"completion_tokens":5}}`)
	}))
	defer up.Close()
	g, err := New(Options{OpenAI: &Upstream{BaseURL: up.URL, Key: openAIKey}, Placeholder: placeholder, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = g.Serve(ln) }()
	defer g.Close()
	body := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`
	run := func(b *testing.B, url string) {
		for b.Loop() {
			req, _ := http.NewRequest("POST", url, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+placeholder)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, up.URL+"/v1/chat/completions") })
	b.Run("gateway", func(b *testing.B) { run(b, "http://"+ln.Addr().String()+"/openai/v1/chat/completions") })
}

// BenchmarkStream measures throughput of a 16 MiB server-sent-event stream
// through the gateway (parsed and redacted on the way).
func BenchmarkStream(b *testing.B) {
	ev := "data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("y", 1000) + "\"}}]}\n\n"
	const n = 16 << 10 // events of ~1 KiB
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for range n {
			_, _ = io.WriteString(w, ev)
		}
	}))
	defer up.Close()
	g, err := New(Options{OpenAI: &Upstream{BaseURL: up.URL, Key: openAIKey}, Placeholder: placeholder, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = g.Serve(ln) }()
	defer g.Close()
	b.SetBytes(int64(n * len(ev)))
	for b.Loop() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/openai/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true}`))
		req.Header.Set("Authorization", "Bearer "+placeholder)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkInspectBody measures the policy check on a 1 MB conversation
// with tools, as an agent sends late in a run.
func BenchmarkInspectBody(b *testing.B) {
	var msgs []string
	for i := range 200 {
		msgs = append(msgs, `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t`+strconv.Itoa(i)+`","content":"`+strings.Repeat("line of output ", 330)+`"}]}`)
	}
	body := []byte(`{"model":"claude-x","max_tokens":32000,"stream":true,"tools":` + clientAnt + `,"messages":[` + strings.Join(msgs, ",") + `]}`)
	pol, _ := compilePolicy(Policy{})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := inspectBody(body, route{api: APIAnthropic, path: "/v1/messages"}, pol, 0); err != nil {
			b.Fatal(err)
		}
	}
}
