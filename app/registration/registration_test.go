package registration

import (
	"strings"
	"testing"

	agentgate "github.com/agentgate/agentgate"
)

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest(agentgate.AppManifest)
	if err != nil {
		t.Fatalf("app.yml: %v", err)
	}
	if m.Name != "agentgate" || !m.HookAttributes.Active || len(m.DefaultEvents) == 0 || m.DefaultPermissions["metadata"] != "read" {
		t.Errorf("app.yml read as %+v", m)
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"misspelt key", "name: a\nurl: https://x\ndefault_event: [issues]\n", "default_event"},
		{"no url", "name: a\n", "url are required"},
		{"not yaml", "name: [\n", "manifest"},
	} {
		if _, err := ParseManifest([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:80"} {
		_, err := Start(Options{WebhookURL: "https://x/webhook", Out: t.TempDir() + "/c.yml", Listen: listen})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("listen %s: %v", listen, err)
		}
	}
}
