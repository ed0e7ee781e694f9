package telemetry

import (
	"strings"
	"testing"
)

// An agent image reporting another CLI version than its preset was
// checked against is a warning in the check run's summary.
func TestSummaryVersionWarning(t *testing.T) {
	warn := "the codex image agentgate/codex:dev reports CLI version \"codex-cli 0.150.0\"; agentgate checked its codex command line against version 0.146.1"
	cases := []struct {
		name  string
		attrs map[string]any
		want  string
	}{
		{"mismatch", map[string]any{"agent": "codex", "agent_version": "codex-cli 0.150.0", "agent_version_warning": warn}, "**Warning:** the codex image"},
		{"match", map[string]any{"agent": "codex", "agent_version": "codex-cli 0.146.1"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize([]Event{{Kind: KindSandboxStarted, Attrs: tc.attrs}, {Kind: KindRunFinished, Attrs: map[string]any{"outcome": "succeeded"}}})
			md := s.Markdown()
			if tc.want == "" {
				if len(s.Warnings) != 0 || strings.Contains(md, "Warning") {
					t.Errorf("unexpected warning %q:\n%s", s.Warnings, md)
				}
				return
			}
			if len(s.Warnings) != 1 || !strings.Contains(md, tc.want) || !strings.Contains(md, `0\.146\.1`) {
				t.Errorf("warnings %q; markdown lacks %q:\n%s", s.Warnings, tc.want, md)
			}
		})
	}
}
