package app

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/sandbox"
)

func TestUpstreamCheck(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := down.Addr().String()
	down.Close() // nothing listens there any more
	c := newUpstreamCheck(sandbox.NetworkConfig{
		Mode:      "relay",
		OpenAIURL: "http://" + up.Addr().String(), OpenAIKey: "sk-test-key-123456",
		AnthropicURL: "https://api.anthropic.example", // no key: not a target
		Allow:        []string{downAddr, "*.wildcard.example"},
	})
	if got := strings.Join(c.targets, " "); got != strings.Join(sortedPair(up.Addr().String(), downAddr), " ") {
		t.Fatalf("targets = %q", got)
	}
	if r := c.report(); !strings.Contains(r, "not checked yet") {
		t.Errorf("report before the first probe: %q", r)
	}
	c.probe(context.Background())
	r := c.report()
	if !strings.Contains(r, "upstream "+up.Addr().String()+" reachable") || !strings.Contains(r, "upstream "+downAddr+" unreachable") {
		t.Errorf("report:\n%s", r)
	}
}

func sortedPair(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}
