package gateway

import (
	"strings"
	"testing"
)

// Streams and documents shaped like the real APIs' (trimmed).
const (
	openAIChatStream = `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"Hel"}}],"usage":null}

data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":null}

data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30}}

data: [DONE]

`
	openAIResponsesStream = `event: response.created
data: {"type":"response.created","response":{"id":"r1","model":"gpt-4.1","usage":null}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","delta":"Hi"}

event: response.completed
data: {"type":"response.completed","response":{"id":"r1","model":"gpt-4.1-2025-04-14","usage":{"input_tokens":33,"output_tokens":12,"total_tokens":45}}}

`
	anthropicStream = "event: message_start\r\n" +
		`data: {"type":"message_start","message":{"id":"m1","model":"claude-sonnet-4-20250514","usage":{"input_tokens":40,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":1}}}` + "\r\n\r\n" +
		"event: content_block_delta\r\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage"}}` + "\r\n\r\n" +
		"event: message_delta\r\n" +
		`data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}` + "\r\n\r\n" +
		"event: message_delta\r\n" +
		`data: {"type":"message_delta","delta":{},"usage":{"output_tokens":27}}` + "\r\n\r\n" +
		"event: message_stop\r\n" +
		`data: {"type":"message_stop"}` // no final blank line: Close dispatches it
)

func TestSSEParser(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		model   string
		in, out int64
	}{
		{"openai chat", openAIChatStream, "gpt-4o-2024-08-06", 21, 9},
		{"openai responses", openAIResponsesStream, "gpt-4.1-2025-04-14", 33, 12},
		{"anthropic", anthropicStream, "claude-sonnet-4-20250514", 145, 27},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{1, 7, 64, len(tt.stream)} {
				tl := &tally{}
				p := &sseParser{t: tl}
				for s := tt.stream; s != ""; {
					n := min(chunk, len(s))
					_, _ = p.Write([]byte(s[:n]))
					s = s[n:]
				}
				_ = p.Close()
				if !tl.seen || tl.model != tt.model || tl.inputTokens() != tt.in || tl.output != tt.out {
					t.Errorf("chunk %d: model=%q in=%d out=%d seen=%v, want %q %d %d",
						chunk, tl.model, tl.inputTokens(), tl.output, tl.seen, tt.model, tt.in, tt.out)
				}
			}
		})
	}
}

func TestSSEParserHostileInput(t *testing.T) {
	tl := &tally{}
	p := &sseParser{t: tl}
	huge := "data: " + strings.Repeat("x", maxLineBytes+10) + "\n\n"
	_, _ = p.Write([]byte(huge))
	_, _ = p.Write([]byte("data: {not json\n\ndata: [1,2]\n\ndata: {\"usage\":{\"prompt_tokens\":-5}}\n\n"))
	_, _ = p.Write([]byte(`data: {"usage":{"prompt_tokens":3,"completion_tokens":4}}` + "\n\n"))
	_ = p.Close()
	if tl.inputTokens() != 3 || tl.output != 4 {
		t.Errorf("in=%d out=%d, want 3 4", tl.inputTokens(), tl.output)
	}
	if cap(p.line) > 2*maxLineBytes {
		t.Errorf("line buffer grew to %d", cap(p.line))
	}
}

func TestTallyDocuments(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		seen    bool
		model   string
		in, out int64
	}{
		{"openai chat", `{"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}`, true, "gpt-4o", 10, 3},
		{"openai responses", `{"model":"gpt-4.1","output":[],"usage":{"input_tokens":8,"output_tokens":2,"input_tokens_details":{"cached_tokens":4}}}`, true, "gpt-4.1", 8, 2},
		{"anthropic", `{"model":"claude-3-5-haiku","usage":{"input_tokens":5,"output_tokens":6,"cache_read_input_tokens":10}}`, true, "claude-3-5-haiku", 15, 6},
		{"error body", `{"error":{"message":"bad"}}`, false, "", 0, 0},
		{"models list", `{"object":"list","data":[{"id":"gpt-4o"}]}`, false, "", 0, 0},
		{"not json", `<html>`, false, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := &tally{}
			tl.addDoc([]byte(tt.doc))
			if tl.seen != tt.seen || tl.model != tt.model || tl.inputTokens() != tt.in || tl.output != tt.out {
				t.Errorf("got seen=%v model=%q in=%d out=%d", tl.seen, tl.model, tl.inputTokens(), tl.output)
			}
		})
	}
}
