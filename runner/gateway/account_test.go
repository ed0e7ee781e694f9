package gateway

import (
	"math"
	"testing"
	"time"
)

func TestCost(t *testing.T) {
	prices := map[string]Price{
		"gpt-4o":      {InputPerMTok: 2.5, OutputPerMTok: 10},
		"gpt-4o-mini": {InputPerMTok: 0.15, OutputPerMTok: 0.6},
		"claude":      {InputPerMTok: 3, OutputPerMTok: 15},
	}
	tests := []struct {
		model   string
		in, out int64
		want    float64
	}{
		{"gpt-4o", 1_000_000, 1_000_000, 12.5},
		{"gpt-4o-2024-08-06", 2_000_000, 0, 5},                 // prefix
		{"gpt-4o-mini-2024-07-18", 1_000_000, 1_000_000, 0.75}, // longest prefix wins
		{"claude-sonnet-4", 1000, 2000, 0.033},
		{"llama3", 1000, 1000, 0},
		{"", 1000, 1000, 0},
	}
	for _, tt := range tests {
		if got := Cost(prices, tt.model, tt.in, tt.out); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Cost(%q, %d, %d) = %v, want %v", tt.model, tt.in, tt.out, got, tt.want)
		}
	}
	if got := Cost(nil, "gpt-4o", 10, 10); got != 0 {
		t.Errorf("Cost with no prices = %v", got)
	}
}

func TestUsageAdd(t *testing.T) {
	var u Usage
	u.add(Request{Model: "a", InputTokens: 1, OutputTokens: 2, CostUSD: 0.5}, true)
	u.add(Request{Model: "a", InputTokens: 3, OutputTokens: 4, CostUSD: 0.25}, true)
	u.add(Request{Model: "b", InputTokens: 10}, true)
	u.add(Request{Status: 401}, false)
	if u.Requests != 3 || u.Refused != 1 || u.InputTokens != 14 || u.OutputTokens != 6 || u.Tokens() != 20 || u.CostUSD != 0.75 {
		t.Errorf("usage = %+v", u)
	}
	if a := u.ByModel["a"]; a.Requests != 2 || a.InputTokens != 4 || a.OutputTokens != 6 || a.CostUSD != 0.75 {
		t.Errorf("by model a = %+v", a)
	}
	c := u.clone()
	c.ByModel["a"] = ModelUsage{}
	if u.ByModel["a"].Requests != 2 {
		t.Error("clone shares ByModel")
	}
}

func TestRequestAttrs(t *testing.T) {
	r := Request{API: APIOpenAI, Path: "/v1/chat/completions", Model: "m", Status: 200, Stream: true,
		InputTokens: 5, OutputTokens: 6, Latency: 1500 * time.Millisecond, FirstByte: 20 * time.Millisecond, Estimated: true, Error: ErrUpstream}
	a := r.Attrs()
	want := map[string]any{"api": APIOpenAI, "model": "m", "status": 200, "input_tokens": int64(5), "output_tokens": int64(6),
		"latency_ms": int64(1500), "first_byte_ms": int64(20), "estimated": true, "error": ErrUpstream}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("attrs[%s] = %v (%T), want %v", k, a[k], a[k], v)
		}
	}
	if _, ok := (Request{}).Attrs()["error"]; ok {
		t.Error("error attr on a clean request")
	}
}
