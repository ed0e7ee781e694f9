package agents

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/<preset>.json from the presets")

// goldenGateway is the fixed gateway environment the golden files use.
var goldenGateway = []string{
	"OPENAI_BASE_URL=http://gateway.invalid:8080/openai/v1",
	"OPENAI_API_KEY=agentgate-placeholder",
	"ANTHROPIC_BASE_URL=http://gateway.invalid:8080/anthropic",
	"ANTHROPIC_API_KEY=agentgate-placeholder",
}

// golden is what a golden file holds for one preset.
type golden struct {
	Image  string   `json:"image"`
	Cmd    []string `json:"cmd"`
	Env    []string `json:"env"`
	Allow  []string `json:"allow"`
	Events string   `json:"events"`
}

func TestPresetGolden(t *testing.T) {
	cases := []struct {
		file string
		name string
		opts Options
	}{
		{"builtin", NameBuiltin, Options{Model: "gpt-4.1-mini"}},
		{"codex", NameCodex, Options{Model: "gpt-5-codex"}},
		{"claude-code", NameClaudeCode, Options{Model: "claude-sonnet-4-5"}},
		{"aider", NameAider, Options{Model: "gpt-4.1"}},
		{"custom", NameCustom, Options{Image: "example/agent:1", Cmd: []string{"/bin/agent", "--unattended"}, Model: "m"}},
		{"codex-default-model", NameCodex, Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			tc.opts.GatewayEnv = goldenGateway
			p, err := Lookup(tc.name, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(golden{p.Image, p.Cmd, p.Env, p.Allow, p.Events}); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", tc.file+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("preset %s differs from %s (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", tc.name, path, got, want)
			}
		})
	}
}
