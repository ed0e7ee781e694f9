package fakellm

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServer: each answer shape of the script, in order, and the
// recorded requests.
func TestServer(t *testing.T) {
	s := New([]Turn{
		{Status: 429, RetryAfter: "2"},
		{Text: "hi", ToolCalls: []ToolCall{{Name: "a", Arguments: `{"x":1}`}}, PromptTokens: 3, OutputTokens: 4},
		{ToolCalls: []ToolCall{{Name: "a", Arguments: `{"path":"one"}`}, {Name: "b", Arguments: `{"path":"two"}`}}},
		{Raw: `{"choices": [`},
	}, WithKey("k"), WithFragment(4))
	defer s.Close()
	chat := s.BaseURL() + "/chat/completions"

	if resp, _ := post(t, chat, "wrong", `{}`); resp.StatusCode != 401 {
		t.Fatalf("wrong key: %d", resp.StatusCode)
	}
	if resp, _ := post(t, chat, "k", `{"model":"m"}`); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("turn 1: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := post(t, s.URL+"/chat/completions", "k", `{"model":"m","messages":[{"role":"user","content":"task"}],"tools":[{"type":"function","function":{"name":"a"}}]}`)
	var c struct {
		Choices []struct {
			Message struct {
				Content   string
				ToolCalls []struct {
					ID       string
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		}
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil || resp.StatusCode != 200 {
		t.Fatalf("turn 2: %d %q %v", resp.StatusCode, body, err)
	}
	if m := c.Choices[0]; m.Message.Content != "hi" || m.FinishReason != "tool_calls" || m.Message.ToolCalls[0].Function.Arguments != `{"x":1}` || m.Message.ToolCalls[0].ID != "call_1_0" || c.Usage.PromptTokens != 3 {
		t.Fatalf("turn 2: %s", body)
	}
	resp, body = post(t, chat, "k", `{"model":"m","stream":true}`)
	if resp.Header.Get("Content-Type") != "text/event-stream" || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("turn 3: %v %q", resp.Header, body)
	}
	// Arguments arrive in 4-byte fragments, the two calls interleaved.
	args := map[float64]string{}
	order := []float64{}
	for _, line := range strings.Split(body, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ch struct {
			Choices []struct {
				Delta struct {
					ToolCalls []struct {
						Index    float64
						Function struct{ Arguments string }
					} `json:"tool_calls"`
				}
			}
		}
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		for _, c := range ch.Choices {
			for _, tc := range c.Delta.ToolCalls {
				if a := tc.Function.Arguments; a != "" {
					if len(a) > 4 {
						t.Errorf("fragment %q longer than 4", a)
					}
					args[tc.Index] += a
					order = append(order, tc.Index)
				}
			}
		}
	}
	if args[0] != `{"path":"one"}` || args[1] != `{"path":"two"}` || len(order) < 4 || order[0] != 0 || order[1] != 1 {
		t.Fatalf("assembled %v, order %v", args, order)
	}
	if resp, body = post(t, chat, "k", `{}`); resp.StatusCode != 200 || body != `{"choices": [` {
		t.Fatalf("turn 4: %d %q", resp.StatusCode, body)
	}
	if resp, _ = post(t, chat, "k", `{}`); resp.StatusCode != 500 || s.Remaining() != 0 {
		t.Fatalf("past the script: %d", resp.StatusCode)
	}
	reqs := s.Requests()
	if len(reqs) != 5 || reqs[1].Messages[0].Text() != "task" || reqs[1].Tools[0].Function.Name != "a" || reqs[1].Path != "/chat/completions" || !reqs[2].Stream {
		t.Fatalf("recorded %+v", reqs)
	}
}
