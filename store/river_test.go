package store

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
)

// pingArgs is a tiny job for the end-to-end River test.
type pingArgs struct {
	Msg string `json:"msg"`
}

func (pingArgs) Kind() string { return "store_test.ping" }

// pingWorker records that it ran in the same database.
type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	db *DB
}

func (w *pingWorker) Work(ctx context.Context, job *river.Job[pingArgs]) error {
	return w.db.RecordEffect(ctx, "river-test", "ping", job.Args.Msg)
}

func TestRiverEndToEnd(t *testing.T) {
	eachDialect(t, func(t *testing.T) {
		db, _ := openTemp(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()

		workers := river.NewWorkers()
		river.AddWorker(workers, &pingWorker{db: db})
		client, err := river.NewClient(db.RiverDriver(), &river.Config{
			Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
			Workers:           workers,
			FetchPollInterval: 50 * time.Millisecond,
			FetchCooldown:     10 * time.Millisecond,
			TestOnly:          true,
		})
		if err != nil {
			t.Fatal(err)
		}
		done, stop := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer stop()
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			_ = client.Stop(stopCtx)
		}()

		// Insert inside a transaction, as intake does.
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := InsertDelivery(ctx, tx, "d-river", "issue_comment"); err != nil {
			t.Fatal(err)
		}
		res, err := client.InsertTx(ctx, tx, pingArgs{Msg: "hello"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-done:
			if ev.Kind != river.EventKindJobCompleted || ev.Job.ID != res.Job.ID {
				t.Fatalf("event %s for job %d, want completed %d (err: %v)", ev.Kind, ev.Job.ID, res.Job.ID, ev.Job.Errors)
			}
		case <-ctx.Done():
			t.Fatal("job did not complete")
		}
		got, ok, err := db.Effect(ctx, "river-test", "ping")
		if err != nil || !ok || got != "hello" {
			t.Fatalf("worker effect = %q %v %v", got, ok, err)
		}
		var state string
		if err := db.SQL.QueryRowContext(ctx, "SELECT state FROM river_job WHERE id = ?", res.Job.ID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "completed" {
			t.Errorf("river_job state = %q, want completed", state)
		}
	})
}
