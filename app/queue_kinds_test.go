package app

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/agentgate/agentgate/store"
)

// futureArgs is a job kind a newer agentgate might insert.
type futureArgs struct {
	X int `json:"x"`
}

func (futureArgs) Kind() string { return "agentgate.from_the_future" }

// TestWorkerLeavesUnknownKinds: a job of a kind this binary has no worker
// for (inserted by an upgraded intake) is never fetched, so it keeps all
// its attempts for an upgraded worker instead of failing with
// UnknownJobKindError.
func TestWorkerLeavesUnknownKinds(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "agentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cfg := DefaultConfig()
	cfg.WorkerID = "old-worker"
	q, err := newQueue(ctx, db, cfg, &Worker{Config: cfg, DB: db}, NewLogger(Config{}, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	// The newer intake's client knows the kind.
	newer, err := river.NewClient(db.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := newer.Insert(ctx, futureArgs{X: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // several fetch intervals (200ms)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := q.worker.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	job, err := newer.JobGet(ctx, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != rivertype.JobStateAvailable || job.Attempt != 0 || len(job.Errors) != 0 {
		t.Errorf("unknown kind: state %s, attempt %d, errors %v; want available, untouched", job.State, job.Attempt, job.Errors)
	}
}
