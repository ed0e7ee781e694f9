package gitops

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeSparse turns p into the largest sparse file the file system takes
// (8 EiB on tmpfs, 16 TiB on ext4), as `truncate -s 8E` does, and returns
// its size. Nothing is written: it is all one hole.
func makeSparse(t *testing.T, p string) int64 {
	t.Helper()
	for _, size := range []int64{1<<63 - 1, 1 << 60, 1 << 50, 1<<44 - 1<<12, 1 << 43, 1 << 40} {
		if err := os.Truncate(p, size); err == nil {
			return size
		}
	}
	t.Skip("no file system here takes a sparse file of 1 TiB")
	return 0
}

// within runs f and fails the test when it has not returned after d: a
// hostile file must not hold a worker.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %s: hostile content holds the worker", d)
	}
}

// TestHarvestSparseFileDoesNotHang: a file the agent (or setup) turns into
// a huge sparse file is never read byte by byte, by Baseline or by
// Harvest; the harvest fails at once with ErrLimit naming it. Positive
// control: the same work tree without the sparse file is harvested.
func TestHarvestSparseFileDoesNotHang(t *testing.T) {
	const limit = 1 << 10
	tests := []struct {
		name string
		// setup runs before the Baseline (nil: no Baseline), agent after.
		setup, agent func(t *testing.T, wt string)
		sparse       bool   // whether a sparse file is left
		path         string // the file the refusal names
	}{
		{
			name:   "agent truncates a large file setup left",
			setup:  func(t *testing.T, wt string) { write(t, wt, "big.bin", strings.Repeat("x", 2*limit), 0o644) },
			agent:  func(t *testing.T, wt string) { makeSparse(t, filepath.Join(wt, "big.bin")) },
			sparse: true, path: "big.bin",
		},
		{
			name: "setup leaves a sparse file",
			setup: func(t *testing.T, wt string) {
				write(t, wt, "big.bin", "", 0o644)
				makeSparse(t, filepath.Join(wt, "big.bin"))
			},
			agent:  func(t *testing.T, wt string) {},
			sparse: true, path: "big.bin",
		},
		{
			name:   "agent truncates a tracked file, no baseline",
			agent:  func(t *testing.T, wt string) { makeSparse(t, filepath.Join(wt, "README.md")) },
			sparse: true, path: "README.md",
		},
		{
			name:  "control: a large dense file setup left, unchanged",
			setup: func(t *testing.T, wt string) { write(t, wt, "big.bin", strings.Repeat("x", 2*limit), 0o644) },
			agent: func(t *testing.T, wt string) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ws := cloneWS(t, newServer(t))
			wt := ws.WorkTree
			var b *Baseline
			if tt.setup != nil {
				tt.setup(t, wt)
				within(t, 10*time.Second, func() {
					var err error
					b, err = ws.Baseline(ctx)
					must(t, err)
				})
			}
			tt.agent(t, wt)
			write(t, wt, "dir/a.txt", "a\nchanged by the agent\n", 0o644)
			var ch *Change
			var err error
			within(t, 10*time.Second, func() {
				ch, err = ws.Harvest(ctx, HarvestOptions{Baseline: b, MaxFileBytes: limit})
			})
			if tt.sparse {
				if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.path) {
					t.Fatalf("harvest: err = %v, want ErrLimit naming %s", err, tt.path)
				}
				return
			}
			must(t, err)
			if len(ch.Files) != 1 || ch.Files[0].Path != "dir/a.txt" {
				t.Fatalf("change = %+v, want only dir/a.txt", ch.Files)
			}
		})
	}
}
