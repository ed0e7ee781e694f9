package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/webhook"
)

// TestInstallationSlots: with installation-concurrency 2, installation 1's
// third run waits while installation 2's run is admitted at once; a freed
// slot admits the waiting run; a slot held by this worker's earlier life is
// taken over, one held by a run this process works is not.
func TestInstallationSlots(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "agentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := DefaultConfig()
	cfg.Limits.Timeout = time.Minute
	cfg.WorkerID = "w1"
	cfg.Controls.InstallationConcurrency = 2
	w1 := &Worker{Config: cfg, DB: db}
	cfg2 := cfg
	cfg2.WorkerID = "w2"
	w2 := &Worker{Config: cfg2, DB: db}
	attempt := func(w *Worker, inst int64, holder string) *run {
		w.live.add(holder)
		r := newRun(w, webhook.RunJobArgs{RunID: holder, InstallationID: inst}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		r.holder = holder
		return r
	}
	admit := func(r *run) (func(), error) { return r.admit(ctx, cfg.Limits) }

	a1, err := admit(attempt(w1, 1, "w1 job:1 attempt:1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admit(attempt(w2, 1, "w2 job:2 attempt:1")); err != nil {
		t.Fatal(err)
	}
	// The cap holds across workers: a third run of installation 1 waits,
	// also on the worker that holds one of its slots.
	for _, r := range []*run{attempt(w1, 1, "w1 job:3 attempt:1"), attempt(w2, 1, "w2 job:4 attempt:1")} {
		if _, err := admit(r); !errors.Is(err, errInstallationBusy) {
			t.Fatalf("%s: admit = %v, want errInstallationBusy", r.holder, err)
		}
	}
	// Another tenant is not held up (positive control).
	if _, err := admit(attempt(w1, 2, "w1 job:5 attempt:1")); err != nil {
		t.Fatalf("installation 2: %v", err)
	}
	// A slot given back admits the waiting run.
	a1()
	a1() // once
	if _, err := admit(attempt(w1, 1, "w1 job:3 attempt:1")); err != nil {
		t.Fatalf("after a release: %v", err)
	}

	// w2 dies holding "w2 job:2"; restarted, it takes its own slot back for
	// its next attempt, but never one of a run it is working now.
	w2b := &Worker{Config: cfg2, DB: db}
	if _, err := admit(attempt(w2b, 1, "w2 job:2 attempt:2")); err != nil {
		t.Fatalf("restarted worker: %v", err)
	}
	if _, err := admit(attempt(w2b, 1, "w2 job:6 attempt:1")); !errors.Is(err, errInstallationBusy) {
		t.Fatalf("a live run's slot was taken: %v", err)
	}

	// Without a cap nothing is counted.
	cfg.Controls.InstallationConcurrency = 0
	free := &Worker{Config: cfg, DB: db}
	for i := range 5 {
		if _, err := admit(attempt(free, 1, "w1 job:9 attempt:"+string(rune('1'+i)))); err != nil {
			t.Fatalf("no cap: %v", err)
		}
	}
}
