package telemetry

import (
	"strings"
	"testing"
)

func TestSummaryNetworkAndLLM(t *testing.T) {
	events := []Event{
		{Kind: KindNetAllowed, Attrs: map[string]any{"host": "proxy.golang.org", "port": 443, "bytes_up": 100, "bytes_down": 2048}},
		{Kind: KindNetAllowed, Attrs: map[string]any{"host": "proxy.golang.org", "port": float64(443), "bytes_up": float64(50), "bytes_down": float64(1024)}},
		{Kind: KindNetDenied, Attrs: map[string]any{"host": "evil.example", "port": 443, "reason": "not allowlisted"}},
		{Kind: KindNetDenied, Attrs: map[string]any{"host": "`|@team", "port": 80, "reason": "ip literal"}},
		{Kind: KindLLMRequest, Attrs: map[string]any{"model": "gpt-4o", "status": 200, "input_tokens": 1000, "output_tokens": 200, "cost_usd": 0.0045}},
		{Kind: KindLLMRequest, Attrs: map[string]any{"model": "gpt-4o", "status": float64(429), "input_tokens": float64(0), "output_tokens": float64(0)}},
	}
	s := Summarize(events)
	if len(s.Network) != 3 {
		t.Fatalf("network = %+v", s.Network)
	}
	if h := s.Network[0]; h.Allowed != 2 || h.BytesUp != 150 || h.BytesDown != 3072 {
		t.Errorf("proxy.golang.org = %+v", h)
	}
	if h := s.Network[1]; h.Denied != 1 || h.Reason != "not allowlisted" {
		t.Errorf("evil.example = %+v", h)
	}
	if s.LLM.Requests != 2 || s.LLM.Errors != 1 || s.LLM.InputTokens != 1000 || s.LLM.OutputTokens != 200 || s.LLM.CostUSD != 0.0045 {
		t.Errorf("llm = %+v", s.LLM)
	}
	md := s.Markdown()
	for _, want := range []string{"**Network**", "proxy.golang.org:443", "| 2 | 0 | 150 B | 3.0 KiB |", "evil.example:443", "not allowlisted", "**LLM usage:** 2 requests (1 failed), 1000 input + 200 output tokens, estimated $0.0045"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Denied destinations are listed first; a hostile host name stays in
	// one code span (no mention, no broken table).
	if strings.Index(md, "evil.example") > strings.Index(md, "proxy.golang.org") {
		t.Errorf("denied destinations should come first:\n%s", md)
	}
	if !strings.Contains(md, "| `` `\\|@\u200Bteam:80 `` (ip literal) | 0 | 1 |") {
		t.Errorf("hostile host name not contained in its cell:\n%s", md)
	}
}

// TestSummaryLLMRefused checks requests the gateway's policy refused count
// as failed requests and are named in the summary.
func TestSummaryLLMRefused(t *testing.T) {
	s := Summarize([]Event{
		{Kind: KindLLMRequest, Attrs: map[string]any{"model": "m", "status": 200, "input_tokens": 10, "output_tokens": 2}},
		{Kind: KindLLMRefused, Attrs: map[string]any{"status": 400, "error": "agentgate_request_refused", "refused": `server-side tool "web_fetch_20250910"`}},
	})
	if s.LLM.Requests != 2 || s.LLM.Errors != 1 || s.LLM.Refused != 1 {
		t.Errorf("llm = %+v", s.LLM)
	}
	if md := s.Markdown(); !strings.Contains(md, "2 requests (1 failed, of which 1 refused by the gateway's policy") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestSummaryCountsRefusedInspectedRequests(t *testing.T) {
	ev := func(kind string, attrs map[string]any) Event { return Event{Kind: kind, Attrs: attrs} }
	s := Summarize([]Event{
		ev(KindNetAllowed, map[string]any{"host": "api.internal", "port": 443, "method": "CONNECT", "inspected": true}),
		ev(KindNetRequest, map[string]any{"host": "api.internal", "port": 443, "method": "GET", "allowed": true, "reason": "allowlisted"}),
		ev(KindNetRequest, map[string]any{"host": "api.internal", "port": 443, "method": "DELETE", "allowed": false, "reason": "refused by rule"}),
	})
	if len(s.Network) != 1 || s.Network[0].Allowed != 1 || s.Network[0].Denied != 1 || s.Network[0].Reason != "refused by rule" {
		t.Fatalf("network %+v: want the tunnel allowed and the refused request denied", s.Network)
	}
}
