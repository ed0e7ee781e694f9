package tasktext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSanitize: the result is valid UTF-8 without any invisible
// character, holds no HTML comment opener outside code when the input
// had no code, and sanitizing it again changes nothing visible.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		"Fix the bug", "a<!-- b -->c", "<!--", "`<!--`", "```\n<!--\n```", "x\u202ey\u200b", "[a]: b \"c\"\n",
		"[](u \"t\")", "\r\n\x00", "````\n```\n````", "`` ` ``<!---->", "\xff", "~~~\n~~~<!--",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, rep := Sanitize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", in)
		}
		if i := strings.IndexFunc(out, Invisible); i >= 0 {
			t.Fatalf("invisible %U left in %q", []rune(out[i:])[0], out)
		}
		if !strings.ContainsAny(in, "`~") && strings.Contains(out, "<!--") {
			t.Fatalf("HTML comment left in %q (from %q)", out, in)
		}
		if rep.Empty() && out != strings.ReplaceAll(in, "\r\n", "\n") {
			t.Fatalf("changed %q to %q but reported nothing", in, out)
		}
		if again, _ := Sanitize(out); strings.Count(again, "<!--") > strings.Count(out, "<!--") || strings.IndexFunc(again, Invisible) >= 0 {
			t.Fatalf("second pass differs: %q -> %q", out, again)
		}
	})
}
