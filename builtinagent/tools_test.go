package builtinagent

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

func newToolbox(t *testing.T) (*toolbox, string) {
	t.Helper()
	dir := t.TempDir()
	ws, err := openWorkspace(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	cfg := Config{Workspace: dir, Events: io.Discard}.withDefaults()
	return &toolbox{cfg: cfg, ws: ws, ev: &emitter{w: io.Discard}}, dir
}

// TestRunTool: exit codes, the timeout kills the whole process group, and
// huge output is bounded.
func TestRunTool(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh on this machine")
	}
	tb, _ := newToolbox(t)
	tests := []struct {
		name, cmd string
		timeout   time.Duration
		want      []string
		maxLen    int
		maxTime   time.Duration
	}{
		{"exit code", "echo out; echo err >&2; exit 3", 10 * time.Second, []string{"exit code 3\n", "out\n", "err\n"}, 100, 5 * time.Second},
		{"pwd is workspace", "pwd", 10 * time.Second, []string{"exit code 0\n"}, 0, 5 * time.Second},
		{"timeout kills group", "sleep 30 & sleep 30; echo never", 500 * time.Millisecond, []string{"timed out", "exit code -1"}, 0, 10 * time.Second},
		{"huge output", "i=0; while [ $i -lt 5000 ]; do echo 0123456789012345678901234567890123456789; i=$((i+1)); done", 30 * time.Second, []string{"more bytes of output dropped"}, DefaultMaxToolOutput + 200, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out := tb.run(context.Background(), tt.cmd, tt.timeout)
			if d := time.Since(start); d > tt.maxTime {
				t.Errorf("took %v", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %q lacks %q", truncate(out, 300), w)
				}
			}
			if tt.maxLen > 0 && len(out) > tt.maxLen {
				t.Errorf("output is %d bytes, want at most %d", len(out), tt.maxLen)
			}
			if strings.Contains(out, "never") {
				t.Error("the command ran past its timeout")
			}
		})
	}
}

// TestApplyFragments: hunks apply at the stated line or, when the model
// got the numbers wrong, where their context matches.
func TestApplyFragments(t *testing.T) {
	src := "a\nb\nc\nd\ne\nf\n"
	tests := []struct {
		name, diff, want string
		wantErr          bool
	}{
		{"exact", "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n", "a\nb\nC\nd\ne\nf\n", false},
		{"wrong line numbers", "--- a/f\n+++ b/f\n@@ -40,3 +40,3 @@\n d\n-e\n+E\n f\n", "a\nb\nc\nd\nE\nf\n", false},
		{"two hunks", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n@@ -5,2 +5,3 @@\n e\n+e2\n f\n", "A\nb\nc\nd\ne\ne2\nf\n", false},
		{"pure addition", "--- a/f\n+++ b/f\n@@ -6,0 +7,1 @@\n+g\n", "a\nb\nc\nd\ne\nf\ng\n", false},
		{"mismatch", "--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n-x\n+y\n b\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, _, err := gitdiff.Parse(strings.NewReader(tt.diff))
			if err != nil || len(files) != 1 {
				t.Fatalf("parse: %v (%d files)", err, len(files))
			}
			got, err := applyFragments([]byte(src), files[0].TextFragments)
			if (err != nil) != tt.wantErr || (!tt.wantErr && string(got) != tt.want) {
				t.Fatalf("got %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestApplyPatchAllOrNothing: when one file of a patch fails, no file
// changes; new, deleted and git-style files work.
func TestApplyPatchAllOrNothing(t *testing.T) {
	tb, dir := newToolbox(t)
	for name, c := range map[string]string{"one.txt": "1\n", "two.txt": "2\n", "gone.txt": "x\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := "--- a/one.txt\n+++ b/one.txt\n@@ -1 +1 @@\n-1\n+one\n--- a/two.txt\n+++ b/two.txt\n@@ -1 +1 @@\n-nope\n+two\n"
	if _, err := tb.applyPatch(bad); err == nil {
		t.Fatal("a failing patch applied")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "one.txt")); string(b) != "1\n" {
		t.Fatalf("one.txt = %q after a failed patch", b)
	}
	good := "diff --git a/one.txt b/one.txt\n--- a/one.txt\n+++ b/one.txt\n@@ -1 +1 @@\n-1\n+one\n" +
		"diff --git a/new/n.txt b/new/n.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new/n.txt\n@@ -0,0 +1 @@\n+n\n" +
		"diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
	if out, err := tb.applyPatch(good); err != nil {
		t.Fatal(err)
	} else if out != "applied to one.txt, new/n.txt, gone.txt" {
		t.Errorf("result %q", out)
	}
	for name, want := range map[string]string{"one.txt": "one\n", "new/n.txt": "n\n", "two.txt": "2\n"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "gone.txt")); !os.IsNotExist(err) {
		t.Errorf("gone.txt still there: %v", err)
	}
}
