package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/runner/agents"
)

// TestEndToEndMissingLLMKeyWarns starts agentgate (role all) with the
// built-in agent and no model API key, as the shipped compose and
// Kubernetes files did: it starts, and /readyz says which setting is
// missing (every run would fail). With the key configured, no warning.
func TestEndToEndMissingLLMKeyWarns(t *testing.T) {
	for _, key := range []string{"", "sk-test-0123456789"} {
		env := startEnv(t, func(c *app.Config) {
			c.AgentImage = agents.ImageBuiltin
			c.Network.OpenAIKey = key
		})
		resp, err := http.Get("http://" + env.App.Addr() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		warned := strings.Contains(string(body), "warning: setting openai-key")
		if resp.StatusCode != http.StatusOK || warned != (key == "") {
			t.Errorf("key %q: /readyz %d %q: warning shown %v, want %v", key, resp.StatusCode, body, warned, key == "")
		}
	}
}
