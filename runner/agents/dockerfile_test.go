package agents

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDockerfilesPinVersions checks deploy/images/<preset>/Dockerfile:
// it installs exactly the version the preset was checked against (no
// "latest", no open range), fails the build unless the CLI reports it,
// labels the image with it, and its ENTRYPOINT (for manual use) is the
// preset's command without the run-specific gateway settings.
func TestDockerfilesPinVersions(t *testing.T) {
	cases := []struct {
		preset, dir, arg, install string
	}{
		{NameCodex, "codex", "CODEX_VERSION", "@openai/codex@${CODEX_VERSION}"},
		{NameClaudeCode, "claude-code", "CLAUDE_CODE_VERSION", "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}"},
		{NameAider, "aider", "AIDER_VERSION", `"aider-chat==${AIDER_VERSION}"`},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "images", tc.dir, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			df := string(b)
			p, err := Lookup(tc.preset, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Version == "" {
				t.Fatal("the preset records no version")
			}
			if !strings.Contains(df, "ARG "+tc.arg+"="+p.Version+"\n") {
				t.Errorf("Dockerfile does not default %s to %s", tc.arg, p.Version)
			}
			if !strings.Contains(df, tc.install) || strings.Contains(df, "latest") {
				t.Errorf("Dockerfile does not install exactly ${%s} (%s)", tc.arg, tc.install)
			}
			if !regexp.MustCompile(`--version \| tee /dev/stderr \| grep -qw -- "\$\{` + tc.arg + `\}"`).MatchString(df) {
				t.Errorf("Dockerfile does not check the installed CLI's --version")
			}
			if !regexp.MustCompile(`LABEL ` + regexp.QuoteMeta(VersionLabel) + `="[^"]*\$\{` + tc.arg + `\}[^"]*"`).MatchString(df) {
				t.Errorf("Dockerfile does not label the image with %s", VersionLabel)
			}
			m := regexp.MustCompile(`(?m)^ENTRYPOINT (\[.*\])$`).FindStringSubmatch(df)
			if m == nil {
				t.Fatal("no ENTRYPOINT")
			}
			var entry []string
			if err := json.Unmarshal([]byte(m[1]), &entry); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(entry, p.Cmd) {
				t.Errorf("ENTRYPOINT %q\nis not the preset's command %q", entry, p.Cmd)
			}
			for _, kv := range p.Env {
				k, v, _ := strings.Cut(kv, "=")
				if !strings.Contains(df, k+"="+v) && !strings.Contains(df, k+`="`+v+`"`) {
					t.Errorf("Dockerfile ENV lacks %s", kv)
				}
			}
		})
	}
}
