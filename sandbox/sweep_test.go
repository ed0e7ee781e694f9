package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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
	n, err := mine.SweepRunDirs()
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

// A worker that died mid-run leaves its run directory mounted: the work
// tree's overlay over a cached checkout, inside the bounded tmpfs (or not,
// for an unbounded worker). The sweep detaches them and removes the
// directory, and the cached checkout is untouched.
func TestSweepUnmountsLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the mounts need root; CI runs as root")
		}
		t.Skip("the mounts need root: skipped")
	}
	for _, bounded := range []bool{true, false} {
		t.Run(fmt.Sprintf("bounded=%v", bounded), func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			s := &Sandbox{DataDir: t.TempDir(), WorkerID: "w"}
			lower := t.TempDir()
			if err := os.WriteFile(filepath.Join(lower, "README.md"), []byte("cached\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			run := s.runDir("run-1")
			if err := os.MkdirAll(run, 0o700); err != nil {
				t.Fatal(err)
			}
			if bounded {
				if err := unix.Mount("tmpfs", run, "tmpfs", 0, "size=8m"); err != nil {
					t.Fatal(err)
				}
			}
			work := filepath.Join(run, "work")
			upper, scratch := filepath.Join(run, ".overlay", "upper"), filepath.Join(run, ".overlay", "work")
			for _, d := range []string{work, upper, scratch} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := unix.Mount("overlay", work, "overlay", 0, "lowerdir="+lower+",upperdir="+upper+",workdir="+scratch); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(work, "agent.txt"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			n, err := s.SweepRunDirs()
			if err != nil || n != 1 {
				t.Fatalf("sweep = %d, %v; want 1 removed", n, err)
			}
			if _, err := os.Stat(run); !os.IsNotExist(err) {
				t.Fatalf("run directory left behind: %v", err)
			}
			b, err := os.ReadFile("/proc/self/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), run) {
				t.Fatalf("still mounted under %s", run)
			}
			if got, err := os.ReadFile(filepath.Join(lower, "README.md")); err != nil || string(got) != "cached\n" {
				t.Fatalf("the cached checkout changed: %q, %v", got, err)
			}
			if _, err := os.Stat(filepath.Join(lower, "agent.txt")); !os.IsNotExist(err) {
				t.Fatalf("the run's file reached the cached checkout: %v", err)
			}
		})
	}
}
