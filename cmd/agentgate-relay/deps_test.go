package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestRelayDeps keeps the relay, which sits on the sandbox's network trust
// boundary, built from runner/relay and the standard library alone: no
// other package of this module, no third-party module.
func TestRelayDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	want := []string{"github.com/agentgate/agentgate/cmd/agentgate-relay", "github.com/agentgate/agentgate/runner/relay"}
	if !slices.Equal(got, want) {
		t.Errorf("go list -deps ./cmd/agentgate-relay outside the standard library: %q, want %q", got, want)
	}
}
