package gateway

import (
	"net/http"
	"slices"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		path    string
		ok      bool
		api, up string
		method  string
		tokens  bool
	}{
		{"/openai/v1/chat/completions", true, APIOpenAI, "/v1/chat/completions", http.MethodPost, true},
		{"/openai/v1/responses", true, APIOpenAI, "/v1/responses", http.MethodPost, true},
		{"/openai/v1/models", true, APIOpenAI, "/v1/models", http.MethodGet, false},
		{"/openai/v1/models/gpt-4o-mini", true, APIOpenAI, "/v1/models/gpt-4o-mini", http.MethodGet, false},
		{"/anthropic/v1/messages", true, APIAnthropic, "/v1/messages", http.MethodPost, true},
		{"/v1/chat/completions", true, APIOpenAI, "/v1/chat/completions", http.MethodPost, true},
		{"/v1/responses", true, APIOpenAI, "/v1/responses", http.MethodPost, true},
		{"/v1/models", true, APIOpenAI, "/v1/models", http.MethodGet, false},
		{"/v1/messages", true, APIAnthropic, "/v1/messages", http.MethodPost, true},
		{"/anthropic/v1/messages/count_tokens", true, APIAnthropic, "/v1/messages/count_tokens", http.MethodPost, false},
		// not served
		{"/", false, "", "", "", false},
		{"/openai/v1/embeddings", false, "", "", "", false},
		{"/openai/v1/files", false, "", "", "", false},
		{"/anthropic/v1/chat/completions", false, "", "", "", false},
		{"/openai/v1/messages", false, "", "", "", false},
		{"/anthropic/v1/messages/batches", false, "", "", "", false},
		{"/anthropic/v1/messages/count_tokens/", false, "", "", "", false},
		{"/openai/v1/messages/count_tokens", false, "", "", "", false},
		{"/openai/v1/models/../files", false, "", "", "", false},
		{"/openai/v1/models/a/b", false, "", "", "", false},
		{"/openai/v1/models/..", false, "", "", "", false},
		{"/openai/v1/models/", false, "", "", "", false},
		{"/openai//v1/chat/completions", false, "", "", "", false},
		{"/openai/v1/chat/completions/", false, "", "", "", false},
		{"/OPENAI/v1/chat/completions", false, "", "", "", false},
		{"/v2/chat/completions", false, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rt, ok := resolve(tt.path)
			if ok != tt.ok {
				t.Fatalf("resolve(%q) ok = %v, want %v", tt.path, ok, tt.ok)
			}
			if !ok {
				return
			}
			if rt.api != tt.api || rt.path != tt.up || rt.method != tt.method || rt.tokens != tt.tokens {
				t.Errorf("resolve(%q) = %+v, want api=%s path=%s method=%s tokens=%v", tt.path, rt, tt.api, tt.up, tt.method, tt.tokens)
			}
		})
	}
}

func TestUpstreamHeaders(t *testing.T) {
	in := http.Header{}
	in.Set("Authorization", "Bearer placeholder")
	in.Set("X-Api-Key", "placeholder")
	in.Set("Api-Key", "placeholder")
	in.Set("Cookie", "a=b")
	in.Set("OpenAI-Organization", "org-other")
	in.Set("OpenAI-Project", "proj-other")
	in.Set("X-Forwarded-For", "10.0.0.1")
	in.Set("Proxy-Authorization", "Basic eDp5")
	in.Set("Content-Type", "application/json")
	in.Set("Anthropic-Beta", "interleaved-thinking-2025-05-14, mcp-client-2025-04-04")
	in.Add("Anthropic-Beta", "web-fetch-2025-09-10,context-1m-2025-08-07")
	in.Set("OpenAI-Beta", "assistants=v2")
	dropped := []string{"mcp-client-2025-04-04", "web-fetch-2025-09-10", "assistants=v2"}
	betas := "interleaved-thinking-2025-05-14,context-1m-2025-08-07"

	tests := []struct {
		api, key string
		want     http.Header
	}{
		{APIOpenAI, "sk-real-key-123", http.Header{
			"Authorization":  {"Bearer sk-real-key-123"},
			"Content-Type":   {"application/json"},
			"Anthropic-Beta": {betas},
		}},
		{APIAnthropic, "sk-ant-real-key", http.Header{
			"X-Api-Key":         {"sk-ant-real-key"},
			"Anthropic-Version": {defaultAnthropicVersion},
			"Content-Type":      {"application/json"},
			"Anthropic-Beta":    {betas},
		}},
		{APIOpenAI, "", http.Header{ // keyless upstream: no credential at all
			"Content-Type":   {"application/json"},
			"Anthropic-Beta": {betas},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.api+"/"+tt.key, func(t *testing.T) {
			pol, err := compilePolicy(Policy{})
			if err != nil {
				t.Fatal(err)
			}
			got, gotDropped := upstreamHeaders(in, tt.api, tt.key, pol)
			if !slices.Equal(gotDropped, dropped) {
				t.Errorf("dropped = %q, want %q", gotDropped, dropped)
			}
			if len(got) != len(tt.want) {
				t.Errorf("headers = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if g := got.Values(k); len(g) != 1 || g[0] != v[0] {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
		})
	}
}

func TestForwardResponseHeader(t *testing.T) {
	tests := map[string]bool{
		"content-type": true, "X-Request-Id": true, "x-ratelimit-remaining-tokens": true,
		"anthropic-ratelimit-requests-limit": true, "Retry-After": true,
		"Set-Cookie": false, "Content-Length": false, "Content-Encoding": false,
		"Openai-Organization": false, "Anthropic-Organization-Id": false, "Connection": false,
	}
	for h, want := range tests {
		if got := forwardResponseHeader(h); got != want {
			t.Errorf("forwardResponseHeader(%q) = %v, want %v", h, got, want)
		}
	}
}
