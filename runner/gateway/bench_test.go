package gateway

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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
