package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/agentgate/agentgate/internal/pgtest"
)

// noopArgs is a job that does nothing: the benchmark measures the queue.
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "store_test.noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// BenchmarkQueue inserts b.N no-op jobs, one transaction each as intake
// does, while a client with 8 workers works them, and reports jobs/s from
// the first insert to the last completion. SQLite uses riversqlite on the
// store's single connection; Postgres inserts through riverdatabasesql and
// works with riverpgxv5, as agentgate does.
//
//	go test ./store/ -run '^$' -bench BenchmarkQueue -benchtime 2000x
func BenchmarkQueue(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := Open(context.Background(), filepath.Join(b.TempDir(), "q.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		worker, err := river.NewClient(db.RiverDriver(), queueBenchConfig())
		if err != nil {
			b.Fatal(err)
		}
		benchQueue(b, db, worker, worker)
	})
	b.Run("postgres", func(b *testing.B) {
		db, err := Open(context.Background(), pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		ins, err := river.NewClient(db.RiverDriver(), &river.Config{})
		if err != nil {
			b.Fatal(err)
		}
		worker, err := river.NewClient(riverpgxv5.New(db.Pool()), queueBenchConfig())
		if err != nil {
			b.Fatal(err)
		}
		benchQueue(b, db, ins, worker)
	})
}

func queueBenchConfig() *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, noopWorker{})
	return &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
		Workers:           workers,
		FetchPollInterval: 50 * time.Millisecond,
		FetchCooldown:     10 * time.Millisecond,
	}
}

// subscriber is the part of a River client the benchmark works with.
type subscriber interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

func benchQueue(b *testing.B, db *DB, ins *river.Client[*sql.Tx], worker subscriber) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	events, stop := worker.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer stop()
	if err := worker.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = worker.Stop(context.WithoutCancel(ctx)) }()
	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := range b.N {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := ins.InsertTx(ctx, tx, noopArgs{N: i}, nil); err != nil {
				_ = tx.Rollback()
				b.Error(err)
				return
			}
			if err := tx.Commit(); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	for done := 0; done < b.N; done++ {
		select {
		case ev := <-events:
			if ev.Kind != river.EventKindJobCompleted {
				b.Fatalf("job %d: %s", ev.Job.ID, ev.Kind)
			}
		case <-ctx.Done():
			b.Fatalf("%d of %d jobs completed", done, b.N)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
