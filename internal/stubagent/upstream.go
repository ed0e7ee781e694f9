package stubagent

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Upstream is a fake model API for the contract stubs: it answers the
// OpenAI Responses API (POST /v1/responses, streamed as Codex asks), the
// Anthropic Messages API (POST /v1/messages, streamed, and
// /v1/messages/count_tokens) and OpenAI chat completions (POST
// /v1/chat/completions, streamed), each with Reply as the model's text,
// and records every request. Paths may carry the gateway's /openai or
// /anthropic prefix, so a test can point a stub at it directly.
type Upstream struct {
	*httptest.Server
	Reply string

	mu       sync.Mutex
	requests []UpstreamRequest
}

// UpstreamRequest is one recorded request.
type UpstreamRequest struct {
	Path    string
	Query   string
	Header  http.Header
	Body    map[string]any
	RawBody []byte
}

// NewUpstream starts an Upstream answering reply.
func NewUpstream(reply string) *Upstream {
	u := &Upstream{Reply: reply}
	u.Server = httptest.NewServer(http.HandlerFunc(u.handle))
	return u
}

// Requests returns the requests so far.
func (u *Upstream) Requests() []UpstreamRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]UpstreamRequest(nil), u.requests...)
}

func (u *Upstream) handle(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	u.mu.Lock()
	u.requests = append(u.requests, UpstreamRequest{Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, RawBody: raw})
	u.mu.Unlock()
	path := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/openai"), "/anthropic")
	if r.Method != http.MethodPost || body == nil {
		http.Error(w, "want a POST with a JSON object", http.StatusBadRequest)
		return
	}
	model, _ := body["model"].(string)
	switch path {
	case "/v1/responses":
		u.responses(w, model)
	case "/v1/messages":
		u.messages(w, model)
	case "/v1/messages/count_tokens":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"input_tokens":42}`)
	case "/v1/chat/completions":
		u.chat(w, model)
	default:
		http.NotFound(w, r)
	}
}

// sse writes one server-sent event.
func sse(w http.ResponseWriter, name string, v any) {
	b, _ := json.Marshal(v)
	if name != "" {
		fmt.Fprintf(w, "event: %s\n", name)
	}
	fmt.Fprintf(w, "data: %s\n\n", b)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// halves splits the reply in two deltas.
func (u *Upstream) halves() []string {
	n := len(u.Reply) / 2
	return []string{u.Reply[:n], u.Reply[n:]}
}

func (u *Upstream) responses(w http.ResponseWriter, model string) {
	w.Header().Set("Content-Type", "text/event-stream")
	sse(w, "response.created", map[string]any{"type": "response.created", "response": map[string]any{"id": "resp_1", "model": model}})
	for _, d := range u.halves() {
		sse(w, "response.output_text.delta", map[string]any{"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": d})
	}
	sse(w, "response.output_item.done", map[string]any{"type": "response.output_item.done", "output_index": 0, "item": map[string]any{
		"type": "message", "id": "msg_1", "role": "assistant", "content": []any{map[string]any{"type": "output_text", "text": u.Reply}}}})
	sse(w, "response.completed", map[string]any{"type": "response.completed", "response": map[string]any{"id": "resp_1", "model": model, "usage": map[string]any{
		"input_tokens": 1200, "input_tokens_details": map[string]any{"cached_tokens": 1000}, "output_tokens": 30,
		"output_tokens_details": map[string]any{"reasoning_tokens": 10}, "total_tokens": 1230}}})
}

func (u *Upstream) messages(w http.ResponseWriter, model string) {
	w.Header().Set("Content-Type", "text/event-stream")
	sse(w, "message_start", map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": []any{},
		"usage": map[string]any{"input_tokens": 26, "cache_creation_input_tokens": 5321, "cache_read_input_tokens": 95090, "output_tokens": 1}}})
	sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	for _, d := range u.halves() {
		sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": d}})
	}
	sse(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	sse(w, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn"}, "usage": map[string]any{"output_tokens": 40}})
	sse(w, "message_stop", map[string]any{"type": "message_stop"})
}

func (u *Upstream) chat(w http.ResponseWriter, model string) {
	w.Header().Set("Content-Type", "text/event-stream")
	for _, d := range u.halves() {
		sse(w, "", map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model, "choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": d}}}})
	}
	sse(w, "", map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model, "choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}},
		"usage": map[string]any{"prompt_tokens": 300, "completion_tokens": 20, "total_tokens": 320}})
	fmt.Fprint(w, "data: [DONE]\n\n")
}
