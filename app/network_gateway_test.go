package app

import (
	"strings"
	"testing"
)

// TestGatewaySettings checks the gateway settings load and bad values are
// refused naming the setting.
func TestGatewaySettings(t *testing.T) {
	env := func(string) string { return "" }
	c, _, err := LoadConfig("serve", []string{
		"--gateway-allow-server-tools", "web_search, mcp", "--gateway-allow-betas", "files-api-2025-04-14",
		"--gateway-allow-provider-state", "true", "--gateway-allow-fields", "keep_alive", "--llm-output-reservation", "4096",
	}, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := c.Network.Gateway
	if strings.Join(g.AllowServerTools, " ") != "web_search mcp" || strings.Join(g.AllowBetas, " ") != "files-api-2025-04-14" ||
		!g.AllowProviderState || strings.Join(g.AllowFields, " ") != "keep_alive" || g.OutputReservation != 4096 {
		t.Errorf("gateway config = %+v", g)
	}
	for _, bad := range []struct{ key, value, want string }{
		{"gateway-allow-provider-state", "sometimes", "gateway-allow-provider-state"},
		{"llm-output-reservation", "-1", "llm-output-reservation"},
		{"gateway-allow-fields", "tools", "gateway-allow-fields"},
		{"gateway-allow-server-tools", "Web-Search!", "gateway-allow-server-tools"},
	} {
		_, _, err := LoadConfig("serve", []string{"--" + bad.key, bad.value}, env, nil)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("--%s %q: err = %v", bad.key, bad.value, err)
		}
	}
}
