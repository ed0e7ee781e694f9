package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandLine: the demo is the default command (its flags need no
// "demo" before them), the bench is a subcommand, anything else is refused.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{[]string{"help"}, 0, "agentgate-demo bench"},
		{[]string{"-h"}, 0, "agentgate-demo [demo]"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"-bogus"}, 1, "agentgate-demo demo: flag provided but not defined: -bogus"},
		{[]string{"demo", "-bogus"}, 1, "agentgate-demo demo: flag provided but not defined: -bogus"},
		{[]string{"bench", "-bogus"}, 1, "agentgate-demo bench: flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		all := out.String() + errOut.String()
		if code != tt.code || !strings.Contains(all, tt.want) {
			t.Errorf("agentgate-demo %q: exit %d, output %q; want exit %d with %q", tt.args, code, all, tt.code, tt.want)
		}
	}
}
