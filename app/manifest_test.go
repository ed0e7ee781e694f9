package app

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestManifestMatchesHandlers keeps app.yml honest: the events it asks for
// are the ones intake turns into runs, and no permission beyond what the
// worker's token scopes use.
func TestManifestMatchesHandlers(t *testing.T) {
	b, err := os.ReadFile("../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		DefaultEvents      []string          `yaml:"default_events"`
		DefaultPermissions map[string]string `yaml:"default_permissions"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// The events are checked against intake by TestManifestEventsMatchIntake.
	// Every permission a token scope requests must be granted by the
	// manifest, and the manifest must grant nothing no scope uses.
	used := map[string]string{"metadata": "read"}
	for _, s := range []Scope{apiScope(1), cloneScope(1), pushScope(1), teamsScope(1)} {
		o := s.options().Permissions
		for name, v := range map[string]*string{"issues": o.Issues, "pull_requests": o.PullRequests, "checks": o.Checks, "contents": o.Contents, "members": o.Members} {
			if v == nil {
				continue
			}
			if used[name] != "write" {
				used[name] = *v
			}
		}
	}
	for name, level := range used {
		if got := m.DefaultPermissions[name]; got != level {
			t.Errorf("manifest grants %s: %q, scopes use %q", name, got, level)
		}
	}
	for name := range m.DefaultPermissions {
		if _, ok := used[name]; !ok {
			t.Errorf("manifest grants %s, which no token scope uses", name)
		}
	}
}
