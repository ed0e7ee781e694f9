package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRelayCommand checks the relay's command line: bad forwards are
// refused before anything listens, and a relay whose pre-flight fails
// prints a not-ready status and exits non-zero.
func TestRelayCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr string
	}{
		{"public listen address", []string{"--listen", "0.0.0.0:3128=/s/egress.sock"}, "", "loopback"},
		{"no forward", nil, `{"ready":false,"reason":"config: no forward given"}`, "no forward given"},
		{"stray argument", []string{"--listen", "127.0.0.1:3128=/s/e.sock", "extra"}, "", "unexpected arguments"},
		{"port zero", []string{"--listen", "127.0.0.1:0=/s/egress.sock"}, "", "loopback IP with a port"},
		// The runner's command names "relay" first (for relay images that
		// run the agentgate binary); the flags after it are still checked.
		{"relay first", []string{"relay", "--listen", "0.0.0.0:3128=/s/egress.sock"}, "", "loopback"},
		{"relay, no forward", []string{"relay"}, `{"ready":false,"reason":"config: no forward given"}`, "no forward given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code == 0 {
				t.Fatalf("exit 0; stdout %q stderr %q", stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stdout %q stderr %q; want %q / %q", stdout.String(), stderr.String(), tt.wantStdout, tt.wantStderr)
			}
		})
	}
}
