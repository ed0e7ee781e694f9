package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSanitise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"# Fix the `flaky` test", "Fix the flaky test"},
		{"<script>alert(1)</script>", "scriptalert(1)/script"},
		{"   ", "(untitled task)"},
		{strings.Repeat("a", 100), strings.Repeat("a", 80)},
		{"naïve café", "naïve café"},
	}
	for _, tt := range tests {
		if got := sanitise(tt.in); got != tt.want {
			t.Errorf("sanitise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		task     string
		wantCode int
		wantOut  []string
		files    map[string]string
	}{
		{name: "default edit", task: "\n# Fix login\nbody", wantCode: 0,
			wantOut: []string{`{"type":"command","command":"default-edit","exit_code":0}`},
			files:   map[string]string{"AGENTGATE_TEST.md": "Touched by agentgate test agent for: Fix login\n", "out/summary.md": "The agentgate test agent appended a line to `AGENTGATE_TEST.md` for: Fix login\n"}},
		{name: "directives in order, stop at exit", task: "agentgate-test: write a/b hi\nagentgate-test: append a/b \\tthere\nagentgate-test: exit 4\nagentgate-test: write c x",
			wantCode: 4,
			wantOut:  []string{`"command":"write a/b hi","exit_code":0`, `"command":"exit 4","exit_code":4`},
			files:    map[string]string{"a/b": "hi\tthere"}},
		{name: "failed directive", task: "agentgate-test: delete x\nagentgate-test: symlink t x\nagentgate-test: symlink t x\n", wantCode: 1,
			wantOut: []string{`"command":"symlink t x","exit_code":1`, "file exists"}},
		{name: "malformed directive", task: "agentgate-test: launch rockets", wantCode: 2, wantOut: []string{`unknown verb`}},
		{name: "json verbatim", task: `agentgate-test: json {"type":"message","text":"hi"}`, wantCode: 0,
			wantOut: []string{"{\"type\":\"message\",\"text\":\"hi\"}\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			must(t, os.Mkdir("out", 0o755))
			must(t, os.WriteFile("task.md", []byte(tt.task), 0o644))
			t.Setenv("AGENTGATE_TASK_FILE", filepath.Join(dir, "task.md"))
			t.Setenv("AGENTGATE_OUT_DIR", filepath.Join(dir, "out"))
			var out bytes.Buffer
			if code := run(&out, nil); code != tt.wantCode {
				t.Errorf("exit %d, want %d; output:\n%s", code, tt.wantCode, out.String())
			}
			if _, err := os.Lstat("c"); err == nil {
				t.Error("a directive after exit ran")
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for name, want := range tt.files {
				b, err := os.ReadFile(name)
				if err != nil || string(b) != want {
					t.Errorf("%s = %q, %v; want %q", name, b, err, want)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
