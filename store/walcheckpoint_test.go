package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Commits leave their pages in the write-ahead log (the store's own
// connection checkpoints only past walBackstopPages); the background
// connection copies them into the database file without a writer waiting.
func TestBackgroundCheckpoint(t *testing.T) {
	old := checkpointInterval
	checkpointInterval = 50 * time.Millisecond
	t.Cleanup(func() { checkpointInterval = old })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agentgate.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Let the checkpoint of the migrations land, then measure.
	waitRuns := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for db.ckpt.runs.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("background checkpoints: %d after 10 s, want %d", db.ckpt.runs.Load(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitRuns(db.ckpt.runs.Load() + 2)
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before, runs := size(path), db.ckpt.runs.Load()
	if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE bulk (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := db.SQL.ExecContext(ctx, "INSERT INTO bulk (v) VALUES (?)", fmt.Sprintf("%04d%01000d", i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// Unless a background checkpoint ran meanwhile, the file is as it was.
	if got := size(path); got != before && db.ckpt.runs.Load() == runs {
		t.Fatalf("the committing connection checkpointed: database file %d → %d bytes", before, got)
	}
	waitRuns(db.ckpt.runs.Load() + 2)
	if got := size(path); got <= before+100_000 {
		t.Fatalf("database file %d → %d bytes after background checkpoints; want the 200 KB of rows copied in", before, got)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM bulk").Scan(&n); err != nil || n != 200 {
		t.Fatalf("rows %d, %v", n, err)
	}
}
