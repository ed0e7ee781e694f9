package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/webhook"
)

// maxAttempts is how often a run's job is tried (set at insert).
const maxAttempts = 5

// eventWorkers is how many event jobs (jobs.QueueEvents) a worker works
// at once, beside its runs.
const eventWorkers = 4

// rescueMargin is how long after the job timeout River's rescuer waits
// before it takes a running job from a worker presumed dead. It is longer
// than the run lease's margin (runLeaseTTL), so a rescued job finds the
// run free.
const rescueMargin = 10 * time.Minute

// riverService is what the server needs of a working River client,
// whichever its driver.
type riverService interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Stopped() <-chan struct{}
}

// queue is this process's River clients: an inserter for intake (on
// database/sql, inside intake's transaction) and, for workers, a client
// that works jobs. SQLite uses one riversqlite client for both; Postgres
// works jobs with riverpgxv5 on the pgx pool (it listens for new jobs
// instead of polling) and inserts with riverdatabasesql on the same pool.
type queue struct {
	inserter webhook.Inserter // nil for a worker-only process
	worker   riverService     // nil for an intake-only process
}

// newQueue builds the clients the role needs. worker is nil for intake.
func newQueue(ctx context.Context, db *store.DB, cfg Config, worker *Worker, log *slog.Logger) (*queue, error) {
	q := &queue{}
	rlog := log.With("component", "river")
	var workCfg *river.Config
	if worker != nil {
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, worker); err != nil {
			return nil, fmt.Errorf("register worker: %w", err)
		}
		if err := registerHandlers(workers, worker); err != nil {
			return nil, err
		}
		if err := river.AddWorkerSafely(workers, &RedeliverWorker{Config: cfg, Logger: log.With("component", "redeliver")}); err != nil {
			return nil, fmt.Errorf("register redelivery worker: %w", err)
		}
		jobTimeout := worker.Timeout(nil)
		workCfg = &river.Config{
			ID: cfg.WorkerID,
			Queues: map[string]river.QueueConfig{
				river.QueueDefault: {MaxWorkers: maxWorkers(cfg)},
				// Commands, feedback and clicks: never behind runs.
				jobs.QueueEvents: {MaxWorkers: eventWorkers},
			},
			Workers: workers,
			// A kind this binary has no worker for (a new kind from an
			// upgraded intake) stays in the queue, attempts untouched,
			// for a worker that knows it; see jobversion.go for newer
			// arguments of a known kind.
			FetchOnlyKnownKinds:  true,
			Middleware:           []rivertype.Middleware{&jobVersionMiddleware{log: rlog}},
			JobTimeout:           jobTimeout,
			RescueStuckJobsAfter: jobTimeout + rescueMargin,
			MaxAttempts:          maxAttempts,
			FetchPollInterval:    200 * time.Millisecond,
			FetchCooldown:        50 * time.Millisecond,
			Logger:               rlog,
		}
		if pj := redeliverPeriodic(cfg); pj != nil {
			workCfg.PeriodicJobs = append(workCfg.PeriodicJobs, pj)
		}
	}
	insertCfg := &river.Config{MaxAttempts: maxAttempts, Logger: rlog}

	if db.Driver != store.DriverPostgres {
		c, err := river.NewClient(db.RiverDriver(), orDefault(workCfg, insertCfg))
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		q.inserter = c
		if worker != nil {
			if err := reclaimOwnJobs(ctx, c, cfg.WorkerID, log); err != nil {
				return nil, err
			}
			q.worker = c
		}
		return q, nil
	}
	ins, err := river.NewClient(db.RiverDriver(), insertCfg)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.inserter = ins
	if worker != nil {
		c, err := river.NewClient(riverpgxv5.New(db.Pool()), workCfg)
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		if err := reclaimOwnJobs(ctx, c, cfg.WorkerID, log); err != nil {
			return nil, err
		}
		q.worker = c
	}
	return q, nil
}

func orDefault(c, def *river.Config) *river.Config {
	if c != nil {
		return c
	}
	return def
}

// Compile-time checks: both drivers' clients serve as riverService.
var (
	_ riverService = (*river.Client[*sql.Tx])(nil)
	_ riverService = (*river.Client[pgx.Tx])(nil)
)

// reclaimOwnJobs makes the jobs this worker was running when it died
// (state running, last attempted by this worker id) available again at
// once, before the client starts: River's rescuer would otherwise wait for
// RescueStuckJobsAfter. It uses River's own rescue operation; the worker id
// must be stable across restarts (setting worker-id, default the host
// name) and unique among live workers.
func reclaimOwnJobs[TTx any](ctx context.Context, c *river.Client[TTx], workerID string, log *slog.Logger) error {
	if workerID == "" {
		return nil
	}
	res, err := c.JobList(ctx, river.NewJobListParams().
		States(rivertype.JobStateRunning).First(10_000))
	if err != nil {
		return fmt.Errorf("reclaim jobs: list: %w", err)
	}
	now := time.Now().UTC()
	params := &riverdriver.JobRescueManyParams{StuckHorizon: now}
	for _, job := range res.Jobs {
		if n := len(job.AttemptedBy); n == 0 || job.AttemptedBy[n-1] != workerID {
			continue
		}
		msg, err := json.Marshal(rivertype.AttemptError{
			At: now, Attempt: job.Attempt, Error: "worker " + workerID + " restarted: job reclaimed at start-up",
		})
		if err != nil {
			return fmt.Errorf("reclaim jobs: %w", err)
		}
		params.ID = append(params.ID, job.ID)
		params.Error = append(params.Error, msg)
		params.FinalizedAt = append(params.FinalizedAt, nil)
		params.ScheduledAt = append(params.ScheduledAt, now)
		params.State = append(params.State, string(rivertype.JobStateAvailable))
	}
	if len(params.ID) == 0 {
		return nil
	}
	if _, err := c.Driver().GetExecutor().JobRescueMany(ctx, params); err != nil {
		return fmt.Errorf("reclaim jobs: %w", err)
	}
	log.Info("reclaimed this worker's unfinished jobs", "jobs", params.ID)
	return nil
}
