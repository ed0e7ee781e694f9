package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The real keys the host holds and the placeholder the container holds.
const (
	openAIKey   = "sk-proj-REALKEY-openai-0123456789"
	anthropKey  = "sk-ant-REALKEY-anthropic-0123456789"
	placeholder = "agentgate-run42-PLACEHOLDER"
)

// fakeUpstream stands for a model API. It insists on the real key and on
// never seeing the placeholder, then lets the test's handler answer.
type fakeUpstream struct {
	t      *testing.T
	api    string
	hits   atomic.Int32
	mu     sync.Mutex
	bodies [][]byte
	hdrs   []http.Header
	handle func(w http.ResponseWriter, r *http.Request, body []byte)
	srv    *httptest.Server
}

func newFake(t *testing.T, api string) *fakeUpstream {
	f := &fakeUpstream{t: t, api: api}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.hdrs = append(f.hdrs, r.Header.Clone())
	f.mu.Unlock()
	var keyOK bool
	switch f.api {
	case APIOpenAI:
		keyOK = r.Header.Get("Authorization") == "Bearer "+openAIKey && r.Header.Get("X-Api-Key") == ""
	case APIAnthropic:
		keyOK = r.Header.Get("X-Api-Key") == anthropKey && r.Header.Get("Authorization") == "" &&
			r.Header.Get("Anthropic-Version") != ""
	}
	if !keyOK {
		f.t.Errorf("%s upstream: real key missing or a client credential passed: %v", f.api, r.Header)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, placeholder) {
				f.t.Errorf("%s upstream saw the placeholder in %s", f.api, k)
			}
		}
	}
	if bytes.Contains(body, []byte(placeholder)) {
		f.t.Errorf("%s upstream saw the placeholder in the body", f.api)
	}
	if f.handle == nil {
		http.Error(w, "no handler", http.StatusTeapot)
		return
	}
	f.handle(w, r, body)
}

func (f *fakeUpstream) lastBody() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		return nil
	}
	return f.bodies[len(f.bodies)-1]
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness runs a gateway on a loopback listener in front of two fakes and
// records everything that could leak a key: what the client received, the
// logs, the OnRequest records and Usage. Cleanup fails the test if a real
// key appears in any of them.
type harness struct {
	t      *testing.T
	gw     *Gateway
	url    string
	openai *fakeUpstream
	anth   *fakeUpstream
	logs   *syncBuffer
	mu     sync.Mutex
	recs   []Request
	seen   bytes.Buffer // every status line, header and body byte the client got
	served chan error
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, openai: newFake(t, APIOpenAI), anth: newFake(t, APIAnthropic), logs: &syncBuffer{}, served: make(chan error, 1)}
	opts := Options{
		OpenAI:      &Upstream{BaseURL: h.openai.srv.URL, Key: openAIKey},
		Anthropic:   &Upstream{BaseURL: h.anth.srv.URL + "/v1/", Key: anthropKey},
		Placeholder: placeholder,
		Prices: map[string]Price{
			"gpt-4o":  {InputPerMTok: 2.5, OutputPerMTok: 10},
			"gpt-4.1": {InputPerMTok: 2, OutputPerMTok: 8},
			"claude":  {InputPerMTok: 3, OutputPerMTok: 15},
		},
		OnRequest: func(r Request) {
			h.mu.Lock()
			h.recs = append(h.recs, r)
			h.mu.Unlock()
		},
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&opts)
	}
	gw, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.gw = gw
	gw.headerTimeout, gw.bodyTimeout = 300*time.Millisecond, 300*time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	go func() { h.served <- gw.Serve(ln) }()
	t.Cleanup(func() {
		if err := gw.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-h.served:
			if err != nil {
				t.Errorf("Serve returned %v after Close", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
		h.assertNoKey()
	})
	return h
}

// assertNoKey fails the test if a real key is anywhere the container or
// the audit trail could see it.
func (h *harness) assertNoKey() {
	h.t.Helper()
	h.mu.Lock()
	recs, _ := json.Marshal(h.recs)
	seen := h.seen.String()
	h.mu.Unlock()
	usage := fmt.Sprintf("%+v", h.gw.Usage())
	for _, key := range []string{openAIKey, anthropKey} {
		for where, s := range map[string]string{"client": seen, "logs": h.logs.String(), "records": string(recs), "usage": usage} {
			if strings.Contains(s, key) {
				h.t.Errorf("real key found in %s", where)
			}
		}
	}
}

// records returns the OnRequest records so far.
func (h *harness) records() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.recs...)
}

// request builds a request to the gateway with the given auth header
// (name: value); an empty auth sends none.
func (h *harness) request(method, path, auth, body string) *http.Request {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if name, value, ok := strings.Cut(auth, ": "); ok {
		req.Header.Set(name, value)
	}
	return req
}

// do sends the request and reads the whole response.
func (h *harness) do(req *http.Request) (*http.Response, []byte) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	h.note(resp, body)
	return resp, body
}

// note adds a response to what the client has seen.
func (h *harness) note(resp *http.Response, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(&h.seen, "%s\n", resp.Status)
	_ = resp.Header.Write(&h.seen)
	h.seen.Write(body)
}

const bearer = "Authorization: Bearer " + placeholder

// writeSSE writes events one by one, flushing after each.
func writeSSE(w http.ResponseWriter, events []string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, ev := range events {
		_, _ = io.WriteString(w, ev)
		w.(http.Flusher).Flush()
	}
}

// events splits a stream into its events (each with its blank line).
func events(stream string) []string {
	sep := "\n\n"
	if strings.Contains(stream, "\r\n\r\n") {
		sep = "\r\n\r\n"
	}
	parts := strings.SplitAfter(stream, sep)
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// errorCode reads the gateway's error code from either error shape.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %q", body)
	}
	if e.Error.Message == "" {
		t.Errorf("error body without a message: %s", body)
	}
	if e.Type == "error" {
		return e.Error.Type
	}
	return e.Error.Code
}
