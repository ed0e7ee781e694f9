package app

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// testKey is a freshly generated app key in PEM.
var testKey = func() string {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}()

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "agentgate.yml")
	if err := os.WriteFile(file, []byte("app-id: 1\nlabel: from-file\nmention: \"@file\"\nagent_cmd: [run, --fast]\ntimeout: 10m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig("serve", []string{"--config", file, "--mention", "@flag", "--memory", "512MiB"},
		env(map[string]string{"AGENTGATE_APP_ID": "7", "AGENTGATE_MENTION": "@env", "AGENTGATE_WEBHOOK_SECRET": "s3cret"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AppID != 7 {
		t.Errorf("AppID = %d, want env's 7 over the file's 1", cfg.AppID)
	}
	if cfg.Mention != "@flag" {
		t.Errorf("Mention = %q, want the flag's", cfg.Mention)
	}
	if cfg.Label != "from-file" {
		t.Errorf("Label = %q, want the file's", cfg.Label)
	}
	if strings.Join(cfg.AgentCmd, " ") != "run --fast" {
		t.Errorf("AgentCmd = %q", cfg.AgentCmd)
	}
	if cfg.Limits.Timeout != 10*time.Minute || cfg.Limits.MemoryBytes != 512<<20 {
		t.Errorf("limits = %+v", cfg.Limits)
	}
	if string(cfg.WebhookSecret) != "s3cret" {
		t.Errorf("secret not read from the environment")
	}
}

func TestValidateServeNamesSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"nothing", nil, []string{"webhook-secret (AGENTGATE_WEBHOOK_SECRET)", "app-id (AGENTGATE_APP_ID)", "private-key (AGENTGATE_PRIVATE_KEY)"}},
		{"no secret", map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey}, []string{"webhook-secret", "never accepts unverified"}},
		{"bad key", map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": "nope", "AGENTGATE_WEBHOOK_SECRET": "x"}, []string{"private-key", "not a PEM"}},
		{"bad url", map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey, "AGENTGATE_WEBHOOK_SECRET": "x", "AGENTGATE_GITHUB_API_URL": "ftp://x"}, []string{"github-api-url"}},
		{"bad permission", map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey, "AGENTGATE_WEBHOOK_SECRET": "x", "AGENTGATE_MIN_PERMISSION": "root"}, []string{"min-permission"}},
		{"no image", map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey, "AGENTGATE_WEBHOOK_SECRET": "x", "AGENTGATE_AGENT_IMAGE": " "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := LoadConfig("serve", nil, env(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.ValidateServe()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			checkMentions(t, err, tt.want)
		})
	}
}

func TestLoadConfigBadValues(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--app-id", "abc"}, nil, "app-id (--app-id)"},
		{nil, map[string]string{"AGENTGATE_TIMEOUT": "soon"}, "timeout (AGENTGATE_TIMEOUT)"},
		{nil, map[string]string{"AGENTGATE_MEMORY": "lots"}, "memory (AGENTGATE_MEMORY)"},
	}
	for _, tt := range tests {
		_, _, err := LoadConfig("serve", tt.args, env(tt.env), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadConfig(%v, %v) error = %v, want mention of %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512", 512, true}, {"64KiB", 64 << 10, true}, {"10MiB", 10 << 20, true}, {"2GiB", 2 << 30, true},
		{"1g", 1 << 30, true}, {"3 MB", 3 << 20, true}, {"-1", 0, false}, {"lots", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func TestConfigFileUnknownKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(file, []byte("webhook-secert: oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadConfig("serve", []string{"--config", file}, env(nil), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown setting "webhook-secert"`) {
		t.Fatalf("error = %v", err)
	}
}

func TestNetworkSettings(t *testing.T) {
	cfg, _, err := LoadConfig("serve", []string{"--egress-allow", "proxy.golang.org, *.npmjs.org:443", "--llm-prices", "gpt-4o=2.5/10,claude=3/15"},
		env(map[string]string{"AGENTGATE_OPENAI_KEY": "sk-host-only", "AGENTGATE_NETWORK": "relay"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Network
	if strings.Join(n.Allow, "|") != "proxy.golang.org|*.npmjs.org:443" {
		t.Errorf("allow = %q", n.Allow)
	}
	if n.Prices["gpt-4o"] != [2]float64{2.5, 10} || n.Prices["claude"] != [2]float64{3, 15} {
		t.Errorf("prices = %v", n.Prices)
	}
	if !n.LLMConfigured() || n.OpenAIKey != "sk-host-only" {
		t.Errorf("openai not configured: %+v", n)
	}
	for _, bad := range []struct{ args []string }{
		{[]string{"--llm-prices", "gpt-4o=cheap"}},
		{[]string{"--llm-prices", "=1/2"}},
	} {
		if _, _, err := LoadConfig("serve", bad.args, env(nil), nil); err == nil || !strings.Contains(err.Error(), "llm-prices") {
			t.Errorf("%v: error %v", bad.args, err)
		}
	}
	cfg.Network.Mode = "open"
	if err := cfg.ValidateRun(); err == nil || !strings.Contains(err.Error(), `network (AGENTGATE_NETWORK): "open" is not relay or none`) {
		t.Errorf("bad mode: %v", err)
	}
}

// checkMentions fails unless err is an error whose message names every
// string of want.
func checkMentions(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}
