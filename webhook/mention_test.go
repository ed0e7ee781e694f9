package webhook

import (
	"strings"
	"testing"
	"time"
)

// Hostile Markdown costs intake no more than a few milliseconds: a comment
// is parsed on the request path, so input that makes a full CommonMark
// parser quadratic (links, deep nesting) must not reach it.
func TestParseMentionHostileInputIsFast(t *testing.T) {
	for _, filler := range []string{
		"[", "*a", "`", "`a", "> ", ">", " > ", "> - ", "1. ", "- ", "\n- ", "\n>", "<a ", "![", "_a",
		"[a](", "&#", "\n\n    ", "<!--", "\\",
	} {
		body := "@agentgate fix it\n" + strings.Repeat(filler, 65536/len(filler))
		start := time.Now()
		ParseMention(body, "@agentgate")
		MentionsAnywhere(body, "@agentgate")
		if took := time.Since(start); took > time.Second {
			t.Errorf("%q repeated: %s", filler, took)
		}
	}
}

func TestNestingBound(t *testing.T) {
	deep := strings.Repeat("> ", maxNesting+1) + "x"
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{"@agentgate fix\n" + strings.Repeat("> ", maxNesting) + "x", true},
		{"@agentgate fix\n" + deep, false},
		{"@agentgate fix\n" + strings.Repeat("1. ", maxNesting+1) + "x", false},
		{"@agentgate fix\n" + strings.Repeat("- ", maxNesting+1) + "x", false},
		{"@agentgate fix\n2026. was a year", true},
	} {
		if _, ok := ParseMention(tt.body, "@agentgate"); ok != tt.ok {
			t.Errorf("ParseMention(%.40q…) ok = %v, want %v", tt.body, ok, tt.ok)
		}
	}
}
