package fakellm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
)

// ToolCall is a tool call a scripted turn makes.
type ToolCall struct {
	ID        string // default call_<turn>_<i>
	Name      string
	Arguments string // JSON text, sent as is (it may be malformed on purpose)
}

// Turn is one scripted answer.
type Turn struct {
	Text         string
	ToolCalls    []ToolCall
	FinishReason string // default "tool_calls" when there are tool calls, else "stop"
	PromptTokens int
	OutputTokens int
	Stream       bool // force SSE even if the request did not ask for it

	Status     int    // not 0 or 200: answer this status with an OpenAI error body
	RetryAfter string // Retry-After header of an error answer
	Raw        string // when set, the body sent as is (status 200 unless Status is set)
}

// Request is a recorded request.
type Request struct {
	Path          string
	Authorization string
	Model         string
	Stream        bool
	Messages      []Message
	Tools         []Tool
	Body          []byte
}

// Message is a recorded chat message.
type Message struct {
	Role       string `json:"role"`
	Content    any    `json:"content"`
	ToolCallID string `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// Text is the message content as a string (text parts joined).
func (m Message) Text() string {
	switch c := m.Content.(type) {
	case string:
		return c
	case []any:
		s := ""
		for _, p := range c {
			if pm, ok := p.(map[string]any); ok {
				if t, ok := pm["text"].(string); ok {
					s += t
				}
			}
		}
		return s
	}
	return ""
}

// Tool is a recorded tool definition.
type Tool struct {
	Type     string `json:"type"`
	Function struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// Option configures a Server.
type Option func(*Server)

// WithKey makes the server answer 401 unless the request carries
// "Authorization: Bearer key".
func WithKey(key string) Option { return func(s *Server) { s.key = key } }

// WithFragment sets the size of tool-call argument fragments in streamed
// answers (default 7 bytes).
func WithFragment(n int) Option { return func(s *Server) { s.frag = max(n, 1) } }

// Server is a running fake. Close it when done.
type Server struct {
	*httptest.Server
	key  string
	frag int

	mu       sync.Mutex
	script   []Turn
	next     int
	requests []Request
}

// New starts a fake serving script in order. A request past the end of
// the script is answered 500 ("script exhausted").
func New(script []Turn, opts ...Option) *Server {
	s := &Server{script: script, frag: 7}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handle)
	mux.HandleFunc("POST /chat/completions", s.handle)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the OpenAI base URL of the fake (URL + "/v1").
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Remaining is the number of turns not served yet.
func (s *Server) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script) - s.next
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "reading the body: "+err.Error())
		return
	}
	if s.key != "" && r.Header.Get("Authorization") != "Bearer "+s.key {
		writeError(w, http.StatusUnauthorized, "", "invalid api key")
		return
	}
	var req struct {
		Model    string    `json:"model"`
		Stream   bool      `json:"stream"`
		Messages []Message `json:"messages"`
		Tools    []Tool    `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "", "malformed request: "+err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Model: req.Model,
		Stream: req.Stream, Messages: req.Messages, Tools: req.Tools, Body: body})
	n := s.next
	var turn Turn
	ok := n < len(s.script)
	if ok {
		turn = s.script[n]
		s.next++
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusInternalServerError, "", "fakellm: script exhausted")
		return
	}
	if turn.Status != 0 && turn.Status != http.StatusOK {
		if turn.Raw != "" {
			w.WriteHeader(turn.Status)
			_, _ = io.WriteString(w, turn.Raw)
			return
		}
		writeError(w, turn.Status, turn.RetryAfter, fmt.Sprintf("fakellm: scripted status %d", turn.Status))
		return
	}
	if turn.Raw != "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, turn.Raw)
		return
	}
	model := req.Model
	if model == "" {
		model = "fake-model"
	}
	if req.Stream || turn.Stream {
		s.stream(w, n, model, turn)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(completion(n, model, turn))
}

func writeError(w http.ResponseWriter, status int, retryAfter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "fakellm_error", "code": strconv.Itoa(status)}})
}
