package app

import (
	"os"
	"path/filepath"
	"testing"
)

// The start-up sweep removes this worker's run and socket directories and
// never another worker's, even one whose id starts the same.
func TestSweepRunDirsOnlyOwn(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	data := t.TempDir()
	mine := &Sandbox{DataDir: data, WorkerID: "w"}
	other := &Sandbox{DataDir: data, WorkerID: "w-2"}
	var keep, gone []string
	for _, s := range []*Sandbox{mine, other} {
		run := s.runDir("run-1")
		if err := os.MkdirAll(filepath.Join(run, "work"), 0o755); err != nil {
			t.Fatal(err)
		}
		sock, err := os.MkdirTemp("", sockDirPrefix(s.WorkerID))
		if err != nil {
			t.Fatal(err)
		}
		if s == mine {
			gone = append(gone, run, sock)
		} else {
			keep = append(keep, run, sock)
		}
	}
	n, err := sweepRunDirs(mine)
	if err != nil || n != 2 {
		t.Fatalf("sweep = %d, %v; want 2 removed", n, err)
	}
	for _, p := range gone {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind", p)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("another worker's %s removed: %v", p, err)
		}
	}
}
