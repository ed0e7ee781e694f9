package agents

import (
	"slices"
	"strings"
	"testing"
)

func TestInstructionFiles(t *testing.T) {
	cases := []struct {
		preset string
		want   []string // must be listed
		not    []string // must not be listed
	}{
		{NameBuiltin, []string{"AGENTS.md", ".github/copilot-instructions.md"}, []string{"CLAUDE.md"}},
		{NameCodex, []string{"AGENTS.md", "AGENTS.override.md"}, []string{"CONVENTIONS.md"}},
		{NameClaudeCode, []string{"AGENTS.md", "CLAUDE.md", "CLAUDE.local.md", ".claude/"}, []string{"AGENTS.override.md"}},
		{NameAider, []string{"AGENTS.md", "CONVENTIONS.md", ".aider.conf.yml"}, []string{".claude/"}},
		{NameCustom, []string{"AGENTS.md", "CLAUDE.md", ".claude/", "CONVENTIONS.md", "AGENTS.override.md", ".aider.conf.yml"}, nil},
		{"unknown", []string{"AGENTS.md", "CLAUDE.md", "CONVENTIONS.md"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			got := InstructionFiles(tc.preset)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q lacks %s", got, w)
				}
			}
			for _, n := range tc.not {
				if slices.Contains(got, n) {
					t.Errorf("%q lists %s", got, n)
				}
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("not sorted or has duplicates: %q", got)
			}
			for _, p := range got {
				if strings.HasPrefix(p, "/") || strings.Contains(p, "..") || strings.HasPrefix(p, ".git/") {
					t.Errorf("path %q is not a plain repository path", p)
				}
			}
		})
	}
	// The caller may change the list without changing the next one.
	l := InstructionFiles(NameCodex)
	l[0] = "changed"
	if InstructionFiles(NameCodex)[0] == "changed" {
		t.Error("InstructionFiles returns shared storage")
	}
}
