package gitops

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestOneLineNonPositiveMax(t *testing.T) {
	// Found by FuzzOneLine: a max below 1 used to slice with a negative
	// bound and panic.
	for _, max := range []int{0, -1, -100} {
		if got := OneLine("some title", max); got != "" {
			t.Errorf("OneLine(_, %d) = %q, want empty", max, got)
		}
	}
}

// FuzzOneLine: the result is one line of valid UTF-8 without control,
// format (bidi, zero-width) or separator characters, without leading,
// trailing or doubled spaces, and at most max runes.
func FuzzOneLine(f *testing.F) {
	for _, s := range []string{
		"Fix README", "a\nb\r\nc", "\u202eevil\u202c", "zero\u200bwidth\u2060join", "line\u2028sep\u2029para",
		"\xff\xfe", "  many   spaces  ", strings.Repeat("é", 300), "\x00\x1b[31mred", "",
	} {
		f.Add(s, 72)
	}
	f.Add("x", 0)
	f.Add("xyz", 1)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 300
		got := OneLine(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if n := utf8.RuneCountInString(got); n > max && !(max < 1 && n == 0) {
			t.Fatalf("%d runes, max %d: %q", n, max, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("%q holds %U", got, r)
			}
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("untidy spaces in %q", got)
		}
	})
}
