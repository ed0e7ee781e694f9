package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	for _, k := range []string{"AGENTGATE_WEBHOOK_SECRET", "AGENTGATE_APP_ID", "AGENTGATE_PRIVATE_KEY", "AGENTGATE_CONFIG"} {
		t.Setenv(k, "")
	}
	tests := []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{nil, 2, "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"help"}, 0, "agentgate serve"},
		{[]string{"serve"}, 1, "webhook-secret (AGENTGATE_WEBHOOK_SECRET): required"},
		{[]string{"serve", "--app-id", "x"}, 1, "app-id (--app-id): not an integer"},
		{[]string{"run", "--task", ""}, 1, "--task: required"},
		{[]string{"run", "--agent", "bogus", "--task", "x"}, 1, "agent-preset"},
		{[]string{"version"}, 0, "schema: "},
		// The commands that left the product binary say where they went.
		{[]string{"demo"}, 2, "go run ./cmd/agentgate-demo"},
		{[]string{"bench", "-n", "1"}, 2, "go run ./cmd/agentgate-demo bench"},
		{[]string{"relay", "--listen", "127.0.0.1:3128=/s/e.sock"}, 2, "agentgate-relay"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		all := out.String() + errOut.String()
		if code != tt.code || !strings.Contains(all, tt.want) {
			t.Errorf("agentgate %q: exit %d, output %q; want exit %d with %q", tt.args, code, all, tt.code, tt.want)
		}
	}
}
