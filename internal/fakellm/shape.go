package fakellm

import (
	"encoding/json"
	"fmt"
	"net/http"
)

func (t Turn) finishReason() string {
	switch {
	case t.FinishReason != "":
		return t.FinishReason
	case len(t.ToolCalls) > 0:
		return "tool_calls"
	default:
		return "stop"
	}
}

func callID(n, i int, tc ToolCall) string {
	if tc.ID != "" {
		return tc.ID
	}
	return fmt.Sprintf("call_%d_%d", n, i)
}

func usage(t Turn) map[string]any {
	return map[string]any{"prompt_tokens": t.PromptTokens, "completion_tokens": t.OutputTokens, "total_tokens": t.PromptTokens + t.OutputTokens}
}

// completion is a non-streamed chat.completion object.
func completion(n int, model string, t Turn) map[string]any {
	msg := map[string]any{"role": "assistant", "content": nil}
	if t.Text != "" {
		msg["content"] = t.Text
	}
	if len(t.ToolCalls) > 0 {
		calls := make([]any, len(t.ToolCalls))
		for i, tc := range t.ToolCalls {
			calls[i] = map[string]any{"id": callID(n, i, tc), "type": "function",
				"function": map[string]any{"name": tc.Name, "arguments": tc.Arguments}}
		}
		msg["tool_calls"] = calls
	}
	return map[string]any{
		"id": fmt.Sprintf("chatcmpl-fake-%d", n), "object": "chat.completion", "created": 1700000000, "model": model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": t.finishReason()}},
		"usage":   usage(t),
	}
}

// stream writes the turn as chat.completion.chunk events: the text in
// pieces, then the tool calls interleaved (parallel) with their arguments
// in fragments, then the finish reason, then a usage chunk and [DONE].
func (s *Server) stream(w http.ResponseWriter, n int, model string, t Turn) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	chunk := func(delta map[string]any, finish any, u map[string]any) {
		c := map[string]any{"id": fmt.Sprintf("chatcmpl-fake-%d", n), "object": "chat.completion.chunk", "created": 1700000000, "model": model}
		if delta != nil {
			c["choices"] = []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}
		} else {
			c["choices"] = []any{}
		}
		if u != nil {
			c["usage"] = u
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil)
	for i := 0; i < len(t.Text); i += 5 {
		chunk(map[string]any{"content": t.Text[i:min(i+5, len(t.Text))]}, nil, nil)
	}
	// First a header per call (id, name, no arguments), then fragments
	// round-robin over the calls, so parallel calls interleave.
	for i, tc := range t.ToolCalls {
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": callID(n, i, tc), "type": "function",
			"function": map[string]any{"name": tc.Name, "arguments": ""}}}}, nil, nil)
	}
	for off := 0; ; off += s.frag {
		sent := false
		for i, tc := range t.ToolCalls {
			if off >= len(tc.Arguments) {
				continue
			}
			sent = true
			chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i,
				"function": map[string]any{"arguments": tc.Arguments[off:min(off+s.frag, len(tc.Arguments))]}}}}, nil, nil)
		}
		if !sent {
			break
		}
	}
	chunk(map[string]any{}, t.finishReason(), nil)
	chunk(nil, nil, usage(t))
	fmt.Fprint(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}
