package app

import (
	"strings"
	"testing"

	"github.com/agentgate/agentgate/telemetry"
)

func TestLearnable(t *testing.T) {
	denied := func(host string, port any, reason string) telemetry.Event {
		return telemetry.Event{Kind: telemetry.KindNetDenied, Attrs: map[string]any{"host": host, "port": port, "reason": reason}}
	}
	events := []telemetry.Event{
		denied("proxy.golang.org", 443, "not allowlisted"),
		denied("proxy.golang.org", float64(443), "not allowlisted"), // twice: once in the proposal
		denied("registry.npmjs.org", 443, "not allowlisted"),        // beyond the org
		denied("evil.example", 443, "not allowlisted"),              // beyond the operator
		denied("10.0.0.1", 443, "ip literal"),                       // not a matter of the allowlist
		{Kind: telemetry.KindNetAllowed, Attrs: map[string]any{"host": "sum.golang.org", "port": 443}},
	}
	got := learnable(events, []string{"*.golang.org", "registry.npmjs.org"}, []string{"proxy.golang.org"})
	if strings.Join(got, " ") != "proxy.golang.org:443" {
		t.Errorf("learnable = %q", got)
	}
	if got := learnable(events, []string{"*.golang.org", "registry.npmjs.org"}, nil); strings.Join(got, " ") != "proxy.golang.org:443 registry.npmjs.org:443" {
		t.Errorf("without an org list = %q", got)
	}
}

func TestWithAllowed(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the result
		err      bool
	}{
		{"no file", "", []string{"network:", "allow:", "- a.example:443"}, false},
		{"keeps the rest", "# keep me\ndraft: true\nnetwork:\n  allow: [b.example]\n", []string{"# keep me", "draft: true", "- b.example", "- a.example:443"}, false},
		{"already there", "network:\n  allow:\n    - a.example:443\n", []string{"- a.example:443"}, false},
		{"not a mapping", "- 1\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := withAllowed([]byte(tt.in), []string{"a.example:443"})
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("result lacks %q:\n%s", w, out)
				}
			}
			if strings.Count(string(out), "a.example:443") > 1 {
				t.Errorf("entry added twice:\n%s", out)
			}
		})
	}
}
