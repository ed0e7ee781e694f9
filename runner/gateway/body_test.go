package gateway

import (
	"encoding/json"
	"math"
	"testing"
)

func TestInspectBody(t *testing.T) {
	chat := route{api: APIOpenAI, path: "/v1/chat/completions"}
	responses := route{api: APIOpenAI, path: "/v1/responses"}
	messages := route{api: APIAnthropic, path: "/v1/messages"}
	tests := []struct {
		name       string
		body       string
		rt         route
		wantErr    bool
		model      string
		stream     bool
		rewritten  bool
		wantOption map[string]any // stream_options after rewriting
	}{
		{name: "chat no stream", body: `{"model":"gpt-4o","messages":[]}`, rt: chat, model: "gpt-4o"},
		{name: "chat stream", body: `{"model":"gpt-4o","stream":true}`, rt: chat, model: "gpt-4o", stream: true, rewritten: true,
			wantOption: map[string]any{"include_usage": true}},
		{name: "chat stream opts off", body: `{"model":"m","stream":true,"stream_options":{"include_usage":false,"x":1}}`, rt: chat, model: "m", stream: true, rewritten: true,
			wantOption: map[string]any{"include_usage": true, "x": float64(1)}},
		{name: "chat stream opts null", body: `{"model":"m","stream":true,"stream_options":null}`, rt: chat, model: "m", stream: true, rewritten: true,
			wantOption: map[string]any{"include_usage": true}},
		{name: "chat stream opts bad", body: `{"model":"m","stream":true,"stream_options":7}`, rt: chat, wantErr: true},
		{name: "responses stream untouched", body: `{"model":"gpt-4.1","stream":true,"store":false}`, rt: responses, model: "gpt-4.1", stream: true},
		{name: "anthropic stream untouched", body: `{"model":"claude","stream":true}`, rt: messages, model: "claude", stream: true},
		{name: "odd types", body: `{"model":7,"stream":"yes"}`, rt: chat},
		{name: "array", body: `[1]`, rt: chat, wantErr: true},
		{name: "null", body: `null`, rt: chat, wantErr: true},
		{name: "not json", body: `model=gpt`, rt: chat, wantErr: true},
		{name: "empty", body: ``, rt: chat, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, out, err := inspectBody([]byte(tt.body), tt.rt, &policy{}, 0)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if info.model != tt.model || info.stream != tt.stream {
				t.Errorf("info = %+v", info)
			}
			if !tt.rewritten {
				if string(out) != tt.body {
					t.Errorf("body changed: %s", out)
				}
				return
			}
			var got struct {
				Model         string         `json:"model"`
				Stream        bool           `json:"stream"`
				StreamOptions map[string]any `json:"stream_options"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got.Model != tt.model || !got.Stream || len(got.StreamOptions) != len(tt.wantOption) {
				t.Fatalf("rewritten = %s", out)
			}
			for k, v := range tt.wantOption {
				if got.StreamOptions[k] != v {
					t.Errorf("stream_options[%s] = %v, want %v", k, got.StreamOptions[k], v)
				}
			}
		})
	}
}

// TestMaxOutput checks the output cap read for the budget reservation.
func TestMaxOutput(t *testing.T) {
	chat := route{api: APIOpenAI, path: "/v1/chat/completions"}
	responses := route{api: APIOpenAI, path: "/v1/responses"}
	messages := route{api: APIAnthropic, path: "/v1/messages"}
	tests := []struct {
		rt   route
		body string
		want int64
	}{
		{messages, `{"max_tokens":100}`, 100},
		{messages, `{"max_tokens":1e3}`, 1000},
		{messages, `{"max_tokens":99.5}`, 100},
		{messages, `{"max_tokens":1e300}`, 1 << 53},
		{messages, `{"max_tokens":-5}`, -1},
		{messages, `{"max_tokens":"100"}`, -1},
		{messages, `{}`, -1},
		{responses, `{"max_output_tokens":64}`, 64},
		{chat, `{"max_completion_tokens":10,"max_tokens":99,"n":3}`, 30},
		{chat, `{"max_tokens":10}`, 10},
		{chat, `{"n":4}`, -1},
		// 2^53 × 1024 overflows int64: the cap saturates, never negative.
		{chat, `{"max_completion_tokens":9007199254740992,"n":1024}`, math.MaxInt64},
	}
	for _, tt := range tests {
		info, _, err := inspectBody([]byte(tt.body), tt.rt, &policy{}, 0)
		if err != nil || info.maxOutput != tt.want {
			t.Errorf("%s %s: maxOutput %d err %v, want %d", tt.rt.path, tt.body, info.maxOutput, err, tt.want)
		}
	}
	if got := (requestInfo{maxOutput: -1}).reservation(41, 500); got != 11+500 {
		t.Errorf("reservation without a cap = %d", got)
	}
	if got := (requestInfo{maxOutput: math.MaxInt64}).reservation(41, 500); got != math.MaxInt64 {
		t.Errorf("reservation of a saturated cap = %d, want MaxInt64", got)
	}
}
