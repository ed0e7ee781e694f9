package auditcmd

import "testing"

func TestTermSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+on: push\n\tx = 1\n", "+on: push\n\tx = 1\n"}, // positive control: kept as is
		{"héllo, 世界", "héllo, 世界"},
		{"\x1b[2J", `\x1b[2J`},
		{"\x1b]0;t\x07", `\x1b]0;t\x07`},
		{"a\rb", `a\rb`},
		{"\x00\x7f", `\x00\x7f`},
		{"\u009b31m", `\u009b31m`},
		{"\u202eevil\u202c \u2066x\u2069 \u200f", `\u202eevil\u202c \u2066x\u2069 \u200f`},
		{"\xff\xc2", `\xff\xc2`},
	}
	for _, tt := range tests {
		if got := termSafe(tt.in); got != tt.want {
			t.Errorf("termSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
