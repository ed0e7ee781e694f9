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

func TestRunLease(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "agentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := DefaultConfig()
	cfg.Limits.Timeout = time.Minute
	attempt := func(workerID, holder string) *run {
		c := cfg
		c.WorkerID = workerID
		r := newRun(&Worker{Config: c, DB: db}, webhook.RunJobArgs{RunID: "run-1"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		r.holder = holder
		return r
	}
	first := attempt("w1", "w1 job:7 attempt:1")
	if err := first.claim(ctx); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if err := first.requireLease(ctx); err != nil {
		t.Fatalf("first guard: %v", err)
	}
	// Another worker finds the run held by a live attempt: it waits.
	other := attempt("w2", "w2 job:7 attempt:2")
	if err := other.claim(ctx); !errors.Is(err, errRunLeaseHeld) {
		t.Fatalf("other worker's claim = %v, want errRunLeaseHeld", err)
	}
	// The same worker, restarted, takes its own run over at once.
	restarted := attempt("w1", "w1 job:7 attempt:3")
	if err := restarted.claim(ctx); err != nil {
		t.Fatalf("restarted worker's claim: %v", err)
	}
	// The old attempt (were it still alive) may no longer act.
	if err := first.requireLease(ctx); !errors.Is(err, errRunLeaseLost) {
		t.Fatalf("old attempt's guard = %v, want errRunLeaseLost", err)
	}
	acted := false
	if _, err := first.once(ctx, "comment.test", func() (string, error) { acted = true; return "1", nil }); !errors.Is(err, errRunLeaseLost) || acted {
		t.Fatalf("old attempt's once = %v (acted %v), want errRunLeaseLost without acting", err, acted)
	}
	// A worker id that merely starts alike is not the same worker.
	lookalike := attempt("w", "w job:7 attempt:4")
	if err := lookalike.claim(ctx); !errors.Is(err, errRunLeaseHeld) {
		t.Fatalf("look-alike worker's claim = %v, want errRunLeaseHeld", err)
	}
	// Released at the attempt's end: the next attempt, anywhere, claims it.
	restarted.unclaim(ctx)
	if err := other.claim(ctx); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	if _, err := other.once(ctx, "comment.test", func() (string, error) { return "1", nil }); err != nil {
		t.Fatalf("holder's once: %v", err)
	}
}
