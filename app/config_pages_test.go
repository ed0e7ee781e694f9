package app

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunPageSettings(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey, "AGENTGATE_WEBHOOK_SECRET": "x"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; none = valid
		warn string   // substring of a start-up warning
	}{
		{"no sign-in", with(nil), nil, ""},
		{"client id without secret", with(map[string]string{"AGENTGATE_OAUTH_CLIENT_ID": "Iv1.x", "AGENTGATE_ADMIN_LISTEN": "127.0.0.1:9090"}), []string{"oauth-client-secret"}, ""},
		// What agentgate setup writes: accepted, sign-in unused (a warning).
		{"client id without the operator listener", with(map[string]string{"AGENTGATE_OAUTH_CLIENT_ID": "Iv1.x", "AGENTGATE_OAUTH_CLIENT_SECRET": "s"}), nil, "admin-listen"},
		{"secret from a file", with(map[string]string{"AGENTGATE_OAUTH_CLIENT_ID": "Iv1.x", "AGENTGATE_OAUTH_CLIENT_SECRET_FILE": secretFile, "AGENTGATE_ADMIN_LISTEN": "127.0.0.1:9090"}), nil, ""},
		{"bad public url", with(map[string]string{"AGENTGATE_PUBLIC_URL": "ftp://x"}), []string{"public-url"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := LoadConfig("serve", nil, env(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.ValidateServe()
			if warned := strings.Join(cfg.StartupWarnings(), "\n"); tt.warn != "" && !strings.Contains(warned, tt.warn) {
				t.Errorf("start-up warnings %q lack %q", warned, tt.warn)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.env["AGENTGATE_OAUTH_CLIENT_SECRET_FILE"] != "" && cfg.OAuthClientSecret != "s3cret-from-file" {
					t.Fatalf("client secret %q", cfg.OAuthClientSecret)
				}
				return
			}
			checkMentions(t, err, tt.want)
		})
	}
}

func TestRunURLAndDefaultPublicURL(t *testing.T) {
	c := Config{PublicURL: "https://gate.example.com/"}
	if got := c.RunURL("r/1"); got != "https://gate.example.com/runs/r%2F1" {
		t.Errorf("RunURL = %q", got)
	}
	if got := (Config{}).RunURL("r1"); got != "" {
		t.Errorf("RunURL without a public URL = %q", got)
	}
	for _, tt := range []struct {
		configured string
		addr       net.Addr
		want       string
	}{
		{"https://x", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}, "https://x"},
		{"", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}, "http://127.0.0.1:9090"},
		{"", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 9090}, ""}, // reachable from elsewhere: the operator must say how
		{"", &net.TCPAddr{IP: net.IPv6zero, Port: 9090}, ""},
	} {
		if got := defaultPublicURL(tt.configured, tt.addr); got != tt.want {
			t.Errorf("defaultPublicURL(%q, %v) = %q, want %q", tt.configured, tt.addr, got, tt.want)
		}
	}
}
