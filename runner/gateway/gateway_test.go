package gateway

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTokenAccounting sends every API, streamed and not, through the
// gateway to fakes that report usage, and checks that the counts, model
// and cost recorded equal what the fake reported.
func TestTokenAccounting(t *testing.T) {
	h := newHarness(t, nil)
	h.openai.handle = func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			Stream        bool `json:"stream"`
			StreamOptions struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		_ = json.Unmarshal(body, &req)
		switch {
		case r.URL.Path == "/v1/chat/completions" && req.Stream:
			var evs []string
			for _, ev := range events(openAIChatStream) {
				if strings.Contains(ev, `"usage":{`) && !req.StreamOptions.IncludeUsage {
					continue // what OpenAI does unless asked
				}
				evs = append(evs, ev)
			}
			writeSSE(w, evs)
		case r.URL.Path == "/v1/chat/completions":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"c","model":"gpt-4o-2024-08-06","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
		case r.URL.Path == "/v1/responses" && req.Stream:
			writeSSE(w, events(openAIResponsesStream))
		case r.URL.Path == "/v1/responses":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = io.WriteString(w, `{"id":"r","model":"gpt-4.1","output":[],"usage":{"input_tokens":8,"output_tokens":2,"total_tokens":10}}`)
		case r.URL.Path == "/v1/models":
			_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"gpt-4o","object":"model"}]}`)
		default:
			t.Errorf("openai upstream: unexpected %s", r.URL.Path)
		}
	}
	h.anth.handle = func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path != "/v1/messages" {
			t.Errorf("anthropic upstream: unexpected path %s", r.URL.Path)
		}
		if strings.Contains(string(body), `"stream":true`) {
			writeSSE(w, events(anthropicStream+"\r\n\r\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"m","model":"claude-3-5-haiku-20241022","content":[],"usage":{"input_tokens":5,"output_tokens":6,"cache_read_input_tokens":10}}`)
	}

	tests := []struct {
		name, method, path, auth, body string
		stream                         bool
		model                          string
		in, out                        int64
	}{
		{"openai chat", "POST", "/openai/v1/chat/completions", bearer, `{"model":"gpt-4o","messages":[]}`, false, "gpt-4o-2024-08-06", 11, 7},
		{"openai chat stream", "POST", "/openai/v1/chat/completions", bearer, `{"model":"gpt-4o","stream":true}`, true, "gpt-4o-2024-08-06", 21, 9},
		{"openai responses", "POST", "/openai/v1/responses", bearer, `{"model":"gpt-4.1","input":"x"}`, false, "gpt-4.1", 8, 2},
		{"openai responses stream", "POST", "/openai/v1/responses", bearer, `{"model":"gpt-4.1","stream":true}`, true, "gpt-4.1-2025-04-14", 33, 12},
		{"openai models", "GET", "/openai/v1/models", bearer, "", false, "", 0, 0},
		{"bare v1 chat", "POST", "/v1/chat/completions", bearer, `{"model":"gpt-4o"}`, false, "gpt-4o-2024-08-06", 11, 7},
		{"anthropic", "POST", "/anthropic/v1/messages", "X-Api-Key: " + placeholder, `{"model":"claude-3-5-haiku"}`, false, "claude-3-5-haiku-20241022", 15, 6},
		{"anthropic stream", "POST", "/anthropic/v1/messages", "X-Api-Key: " + placeholder, `{"model":"claude-sonnet-4","stream":true}`, true, "claude-sonnet-4-20250514", 145, 27},
		{"anthropic bearer bare path", "POST", "/v1/messages?beta=true", bearer, `{"model":"claude-sonnet-4","stream":true}`, true, "claude-sonnet-4-20250514", 145, 27},
	}
	var wantIn, wantOut int64
	var wantCost float64
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := h.request(tt.method, tt.path, tt.auth, tt.body)
			req.Header.Set("OpenAI-Organization", "org-someone-else")
			req.Header.Set("Cookie", "session=x")
			resp, body := h.do(req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			recs := h.records()
			if len(recs) != i+1 {
				t.Fatalf("%d records after %d requests", len(recs), i+1)
			}
			rec := recs[i]
			cost := Cost(h.gw.prices, tt.model, tt.in, tt.out)
			if rec.Model != tt.model || rec.InputTokens != tt.in || rec.OutputTokens != tt.out || rec.Stream != tt.stream ||
				rec.Status != 200 || rec.Estimated || rec.Error != "" || rec.CostUSD != cost {
				t.Errorf("record = %+v, want model %q in %d out %d stream %v cost %v", rec, tt.model, tt.in, tt.out, tt.stream, cost)
			}
			if tt.in > 0 && cost == 0 {
				t.Errorf("no price matched %q", tt.model)
			}
			if rec.Latency <= 0 || rec.Time.IsZero() {
				t.Errorf("latency %v time %v", rec.Latency, rec.Time)
			}
			wantIn, wantOut, wantCost = wantIn+tt.in, wantOut+tt.out, wantCost+cost
		})
	}
	// what the upstream received: organisation and cookie dropped, query kept
	h.anth.mu.Lock()
	last := h.anth.hdrs[len(h.anth.hdrs)-1]
	h.anth.mu.Unlock()
	if last.Get("Cookie") != "" || last.Get("Openai-Organization") != "" {
		t.Errorf("client headers leaked upstream: %v", last)
	}
	u := h.gw.Usage()
	if u.Requests != len(tests) || u.Refused != 0 || u.InputTokens != wantIn || u.OutputTokens != wantOut || math.Abs(u.CostUSD-wantCost) > 1e-12 {
		t.Errorf("usage = %+v, want %d requests, %d in, %d out, $%v", u, len(tests), wantIn, wantOut, wantCost)
	}
	if m := u.ByModel["claude-sonnet-4-20250514"]; m.Requests != 2 || m.InputTokens != 290 || m.OutputTokens != 54 {
		t.Errorf("by model = %+v", m)
	}
}

// TestQueryForwarded checks Claude Code's ?beta=true reaches the upstream.
func TestQueryForwarded(t *testing.T) {
	h := newHarness(t, nil)
	var query string
	h.anth.handle = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		query = r.URL.RawQuery
		_, _ = io.WriteString(w, `{}`)
	}
	resp, _ := h.do(h.request("POST", "/anthropic/v1/messages?beta=true", bearer, `{"model":"c"}`))
	if resp.StatusCode != 200 || query != "beta=true" {
		t.Errorf("status %d, upstream query %q", resp.StatusCode, query)
	}
}

// TestStreamOptionsInjected checks the upstream is asked for usage in chat
// streams.
func TestStreamOptionsInjected(t *testing.T) {
	h := newHarness(t, nil)
	h.openai.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeSSE(w, events(openAIChatStream)) }
	h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	var got struct {
		Messages      []map[string]string `json:"messages"`
		StreamOptions map[string]bool     `json:"stream_options"`
	}
	if err := json.Unmarshal(h.openai.lastBody(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.StreamOptions["include_usage"] || len(got.Messages) != 1 || got.Messages[0]["content"] != "hi" {
		t.Errorf("upstream body = %s", h.openai.lastBody())
	}
}

// TestRefusals checks requests the gateway answers itself: right status,
// a clear error body in the API's shape, and no upstream call.
func TestRefusals(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxBodyBytes = 1024 })
	h.openai.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) { t.Error("openai upstream called") }
	h.anth.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) { t.Error("anthropic upstream called") }
	big := `{"model":"gpt-4o","messages":"` + strings.Repeat("x", 2048) + `"}`
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		code                           string
		anthropicShape                 bool
	}{
		{"no key", "POST", "/openai/v1/chat/completions", "", `{}`, 401, ErrUnauthorized, false},
		{"wrong key", "POST", "/openai/v1/chat/completions", "Authorization: Bearer agentgate-run41-OTHER", `{}`, 401, ErrUnauthorized, false},
		{"real key is not the placeholder", "POST", "/openai/v1/chat/completions", "Authorization: Bearer " + openAIKey, `{}`, 401, ErrUnauthorized, false},
		{"placeholder prefix", "POST", "/openai/v1/chat/completions", "Authorization: Bearer " + placeholder[:10], `{}`, 401, ErrUnauthorized, false},
		{"x-api-key on openai", "POST", "/openai/v1/chat/completions", "X-Api-Key: " + placeholder, `{}`, 401, ErrUnauthorized, false},
		{"anthropic wrong key", "POST", "/anthropic/v1/messages", "X-Api-Key: nope", `{}`, 401, ErrUnauthorized, true},
		{"unknown route", "POST", "/openai/v1/embeddings", bearer, `{}`, 404, ErrUnknownRoute, false},
		{"unknown anthropic route", "POST", "/anthropic/v1/complete", bearer, `{}`, 404, ErrUnknownRoute, true},
		{"traversal", "GET", "/openai/v1/models/..%2f..%2ffiles", bearer, "", 404, ErrUnknownRoute, false},
		{"wrong method", "GET", "/openai/v1/chat/completions", bearer, "", 405, ErrMethod, false},
		{"too large", "POST", "/openai/v1/chat/completions", bearer, big, 413, ErrTooLarge, false},
		{"not json", "POST", "/openai/v1/chat/completions", bearer, `model=x`, 400, ErrBadBody, false},
		{"empty body", "POST", "/anthropic/v1/messages", bearer, ``, 400, ErrBadBody, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.records())
			resp, body := h.do(h.request(tt.method, tt.path, tt.auth, tt.body))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if got := errorCode(t, body); got != tt.code {
				t.Errorf("error code %q, want %q", got, tt.code)
			}
			if got := strings.Contains(string(body), `"type":"error"`); got != tt.anthropicShape {
				t.Errorf("anthropic error shape = %v: %s", got, body)
			}
			if resp.Header.Get("X-Should-Retry") != "false" {
				t.Errorf("x-should-retry = %q", resp.Header.Get("X-Should-Retry"))
			}
			recs := h.records()
			if len(recs) != before+1 || recs[before].Status != tt.status || recs[before].Error != tt.code {
				t.Errorf("records = %+v", recs[before:])
			}
		})
	}
	if n := h.openai.hits.Load() + h.anth.hits.Load(); n != 0 {
		t.Errorf("upstreams called %d times", n)
	}
	if u := h.gw.Usage(); u.Requests != 0 || u.Refused != len(tests) {
		t.Errorf("usage = %+v", u)
	}
}

// TestAPINotOffered checks a nil upstream answers 404 with a clear body.
func TestAPINotOffered(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Anthropic = nil })
	resp, body := h.do(h.request("POST", "/anthropic/v1/messages", bearer, `{}`))
	if resp.StatusCode != 404 || errorCode(t, body) != ErrNotOffered || !strings.Contains(string(body), "anthropic API is not offered") {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
	env := strings.Join(h.gw.Env("http://127.0.0.1:4001"), " ")
	if env != "OPENAI_BASE_URL=http://127.0.0.1:4001/openai/v1 OPENAI_API_KEY="+placeholder {
		t.Errorf("Env = %s", env)
	}
}

// TestTokenBudget spends the budget and checks that a request whose worst
// case (input estimate plus output cap) no longer fits is refused with 429
// before the upstream is called, while model listing (no tokens) still
// works.
func TestTokenBudget(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.TokenBudget = 40 })
	h.openai.handle = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, `{"object":"list","data":[]}`)
			return
		}
		_, _ = io.WriteString(w, `{"model":"gpt-4o","usage":{"prompt_tokens":11,"completion_tokens":7}}`)
	}
	// 45 bytes: 12 tokens estimated, plus 10 of output, reserve 22
	chat := func() (*http.Response, []byte) {
		return h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"gpt-4o","max_completion_tokens":10}`))
	}
	for i := range 2 { // 0+22 and 18+22 fit in 40
		if resp, body := chat(); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := chat() // 36+22 does not
	if resp.StatusCode != http.StatusTooManyRequests || errorCode(t, body) != ErrBudget || !strings.Contains(string(body), "could use up to 22 tokens") {
		t.Fatalf("after budget: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Should-Retry") != "false" {
		t.Error("budget refusal invites a retry")
	}
	if n := h.openai.hits.Load(); n != 2 {
		t.Errorf("upstream called %d times, want 2", n)
	}
	if resp, _ := h.do(h.request("GET", "/openai/v1/models", bearer, "")); resp.StatusCode != 200 {
		t.Errorf("models after budget: %d", resp.StatusCode)
	}
	if u := h.gw.Usage(); u.Tokens() != 36 || u.Refused != 1 {
		t.Errorf("usage = %+v", u)
	}
}

// TestEstimatedWithoutUsage checks an upstream that reports no usage
// still spends the budget, by estimate.
func TestEstimatedWithoutUsage(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.TokenBudget, o.OutputReservation = 10, 1 })
	h.openai.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		_, _ = io.WriteString(w, `{"model":"llama3","choices":[{"message":{"content":"`+strings.Repeat("word ", 20)+`"}}]}`)
	}
	resp, _ := h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"llama3","messages":[]}`))
	rec := h.records()[0]
	if resp.StatusCode != 200 || !rec.Estimated || rec.InputTokens < 5 || rec.OutputTokens < 25 {
		t.Fatalf("status %d record %+v", resp.StatusCode, rec)
	}
	if resp, body := h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"llama3"}`)); resp.StatusCode != 429 || !strings.Contains(string(body), "budget (10 tokens) is spent") {
		t.Errorf("estimated usage did not count against the budget: %d %s", resp.StatusCode, body)
	}
}

// TestKeyEchoRedacted has the upstream echo the real key in an error body
// (cut in the middle of the key, with a flush between) and in a header;
// the client gets the status but never the key.
func TestKeyEchoRedacted(t *testing.T) {
	h := newHarness(t, nil)
	h.openai.handle = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-"+openAIKey)
		w.Header().Set("Set-Cookie", "k="+openAIKey)
		w.WriteHeader(http.StatusUnauthorized)
		msg := `{"error":{"message":"Incorrect API key provided: ` + openAIKey + `."}}`
		cut := strings.Index(msg, openAIKey) + 9
		_, _ = io.WriteString(w, msg[:cut])
		w.(http.Flusher).Flush()
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, msg[cut:])
	}
	h.anth.handle = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeSSE(w, []string{"event: error\ndata: {\"type\":\"error\",\"error\":{\"message\":\"key " + anthropKey[:6], anthropKey[6:] + " rejected\"}}\n\n"})
	}
	resp, body := h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"gpt-4o"}`))
	if resp.StatusCode != 401 || !strings.Contains(string(body), "provided: [REDACTED].") || resp.Header.Get("X-Request-Id") != "req-[REDACTED]" {
		t.Errorf("status %d, x-request-id %q, body %s", resp.StatusCode, resp.Header.Get("X-Request-Id"), body)
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("upstream cookie passed to the client")
	}
	_, body = h.do(h.request("POST", "/anthropic/v1/messages", bearer, `{"model":"c","stream":true}`))
	if !strings.Contains(string(body), "key [REDACTED] rejected") {
		t.Errorf("stream body %s", body)
	}
	// assertNoKey runs at cleanup over everything the client received
}

// TestStreamsUnbuffered checks the first event reaches the client while
// the upstream is still holding the rest of the stream.
func TestStreamsUnbuffered(t *testing.T) {
	h := newHarness(t, nil)
	release := make(chan struct{})
	evs := events(anthropicStream + "\r\n\r\n")
	h.anth.handle = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeSSE(w, evs[:1])
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
			return
		}
		for _, ev := range evs[1:] {
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	}
	resp, err := http.DefaultClient.Do(h.request("POST", "/anthropic/v1/messages", bearer, `{"model":"claude","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make(chan string, 1)
	br := bufio.NewReader(resp.Body)
	go func() {
		var ev strings.Builder
		for {
			line, err := br.ReadString('\n')
			ev.WriteString(line)
			if err != nil || line == "\r\n" {
				first <- ev.String()
				return
			}
		}
	}()
	select {
	case got := <-first:
		if got != evs[0] {
			t.Errorf("first event %q, want %q", got, evs[0])
		}
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("first event not delivered while the upstream held the stream")
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.HasSuffix(string(rest), evs[len(evs)-1]) {
		t.Errorf("rest of stream %q", rest)
	}
	if rec := h.records()[0]; rec.InputTokens != 145 || rec.OutputTokens != 27 || rec.FirstByte <= 0 || rec.FirstByte > rec.Latency {
		t.Errorf("record %+v", rec)
	}
}

// TestConcurrencyLimit checks requests beyond MaxConcurrent get 429.
func TestConcurrencyLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxConcurrent = 1 })
	started, release := make(chan struct{}), make(chan struct{})
	h.openai.handle = func(w http.ResponseWriter, r *http.Request, _ []byte) {
		close(started)
		<-release
		_, _ = io.WriteString(w, `{"usage":{"prompt_tokens":1,"completion_tokens":1}}`)
	}
	done := make(chan int)
	go func() {
		resp, err := http.DefaultClient.Do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"m"}`))
		if err != nil {
			done <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-started
	resp, body := h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"m"}`))
	close(release)
	if resp.StatusCode != 429 || errorCode(t, body) != ErrBusy {
		t.Errorf("second request: %d %s", resp.StatusCode, body)
	}
	if code := <-done; code != 200 {
		t.Errorf("first request: %d", code)
	}
}

// TestUpstreamFailures checks unreachable, broken and odd upstreams are
// answered with clear errors and recorded, and the gateway keeps serving.
func TestUpstreamFailures(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	h := newHarness(t, func(o *Options) { o.Anthropic = &Upstream{BaseURL: deadURL, Key: anthropKey} })

	resp, body := h.do(h.request("POST", "/anthropic/v1/messages", bearer, `{"model":"c"}`))
	if resp.StatusCode != 502 || errorCode(t, body) != ErrUpstream || resp.Header.Get("X-Should-Retry") != "true" {
		t.Errorf("unreachable: %d %s", resp.StatusCode, body)
	}

	h.openai.handle = func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case strings.Contains(string(body), "cut"):
			writeSSE(w, events(openAIChatStream)[:1])
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		case strings.Contains(string(body), "brotli"):
			w.Header().Set("Content-Encoding", "br")
			_, _ = io.WriteString(w, "\x8b\x00")
		default:
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
		}
	}
	resp, body = h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"cut","stream":true}`))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"content":"Hel"`) {
		t.Errorf("cut stream: %d %q", resp.StatusCode, body)
	}
	resp, body = h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"brotli"}`))
	if resp.StatusCode != 502 || errorCode(t, body) != ErrUpstreamEncoding {
		t.Errorf("encoding: %d %s", resp.StatusCode, body)
	}
	resp, body = h.do(h.request("POST", "/openai/v1/chat/completions", bearer, `{"model":"m"}`))
	if resp.StatusCode != 503 || !strings.Contains(string(body), "overloaded") {
		t.Errorf("upstream error status not passed through: %d %s", resp.StatusCode, body)
	}
	recs := h.records()
	want := []struct {
		status    int
		err       string
		estimated bool // a cut stream spends the budget by estimate
	}{{502, ErrUpstream, false}, {200, ErrUpstream, true}, {502, ErrUpstreamEncoding, false}, {503, "", false}}
	if len(recs) != len(want) {
		t.Fatalf("%d records", len(recs))
	}
	for i, w := range want {
		if recs[i].Status != w.status || recs[i].Error != w.err || recs[i].Estimated != w.estimated {
			t.Errorf("record %d = %+v, want %+v", i, recs[i], w)
		}
	}
}

// TestHostileClients sends raw bytes: malformed request lines, absurd
// headers and slow-loris clients are answered or cut off within bounds,
// and never reach an upstream.
func TestHostileClients(t *testing.T) {
	h := newHarness(t, nil)
	h.openai.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) { t.Error("upstream called") }
	addr := strings.TrimPrefix(h.url, "http://")
	tests := []struct {
		name   string
		send   string
		status int // 0: the connection is closed without an answer
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400},
		{"connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 404},
		{"absurd header", "GET /openai/v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 256<<10) + "\r\n\r\n", 431},
		{"slow headers", "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n", 0},
		{"slow body", "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + placeholder +
			"\r\nContent-Length: 1000\r\n\r\n{\"model\":", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tt.send); err != nil && tt.status != 431 {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if tt.status == 0 {
				if err == nil {
					t.Fatalf("got %s, want the connection closed", resp.Status)
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("connection held open past the header timeout")
				}
				return
			}
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	// still serving
	if resp, _ := h.do(h.request("GET", "/openai/v1/models", "", "")); resp.StatusCode != 401 {
		t.Errorf("after hostile clients: %d", resp.StatusCode)
	}
}

// TestClose checks a closed gateway refuses requests.
func TestClose(t *testing.T) {
	g, err := New(Options{OpenAI: &Upstream{BaseURL: "http://127.0.0.1:1"}, Placeholder: placeholder, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest("GET", "/openai/v1/models", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("after Close: %d", rec.Code)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Serve(ln); err != nil {
		t.Errorf("Serve after Close = %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("listener left open")
	}
}

func TestNewValidates(t *testing.T) {
	ok := &Upstream{BaseURL: "https://api.openai.com", Key: openAIKey}
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"ok", Options{OpenAI: ok, Placeholder: placeholder}, true},
		{"keyless local", Options{OpenAI: &Upstream{BaseURL: "http://127.0.0.1:11434/v1"}, Placeholder: placeholder}, true},
		{"no placeholder", Options{OpenAI: ok}, false},
		{"no upstream", Options{Placeholder: placeholder}, false},
		{"placeholder is the key", Options{OpenAI: ok, Placeholder: openAIKey}, false},
		{"short key", Options{OpenAI: &Upstream{BaseURL: "https://x", Key: "abc"}, Placeholder: placeholder}, false},
		{"key with newline", Options{OpenAI: &Upstream{BaseURL: "https://x", Key: "abcdefgh\nX-Evil: 1"}, Placeholder: placeholder}, false},
		{"bad scheme", Options{OpenAI: &Upstream{BaseURL: "file:///etc"}, Placeholder: placeholder}, false},
		{"no host", Options{OpenAI: &Upstream{BaseURL: "http://"}, Placeholder: placeholder}, false},
		{"userinfo", Options{OpenAI: &Upstream{BaseURL: "http://u:p@x"}, Placeholder: placeholder}, false},
		{"query", Options{OpenAI: &Upstream{BaseURL: "http://x/?a=1"}, Placeholder: placeholder}, false},
		{"negative budget", Options{OpenAI: ok, Placeholder: placeholder, TokenBudget: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if (err == nil) != tt.ok {
				t.Errorf("New err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), openAIKey) {
				t.Error("error message holds the key")
			}
		})
	}
}

func TestBaseURLPath(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.openai.com":       "https://api.openai.com",
		"https://api.openai.com/":      "https://api.openai.com",
		"https://api.openai.com/v1":    "https://api.openai.com",
		"http://127.0.0.1:8000/v1/":    "http://127.0.0.1:8000",
		"https://proxy.example/llm/v1": "https://proxy.example/llm",
	} {
		up, err := parseUpstream("openai", &Upstream{BaseURL: in})
		if err != nil || up.base.String() != want {
			t.Errorf("parseUpstream(%q) = %v, %v; want %s", in, up.base, err, want)
		}
	}
}

func TestNewPlaceholder(t *testing.T) {
	a, b := NewPlaceholder("run7"), NewPlaceholder("run7")
	if a == b || !strings.HasPrefix(a, "agentgate-run7-") || len(a) < len("agentgate-run7-")+20 {
		t.Errorf("placeholders %q %q", a, b)
	}
}
