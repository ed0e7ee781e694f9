package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/webhook"
)

// A run lease ("run:<run id>" in the leases table) names the one job
// attempt that may act for a run: "<worker id> job:<id> attempt:<n>". The
// attempt claims it first, and checks that it still holds it before every
// side effect (a comment, a reaction, the sandbox, a push, the pull
// request, the check run, an audit event), so that no two workers ever act
// for one run, even when one was presumed dead and its job rescued.

// errRunLeaseHeld means another live attempt holds the run: this one
// waits (the job is snoozed, not failed).
var errRunLeaseHeld = errors.New("another worker holds this run")

// errRunLeaseLost means this attempt's lease was taken over: it stops
// acting at once.
var errRunLeaseLost = errors.New("this attempt no longer holds the run's lease")

// runLeaseSnooze is how long a job waits when another attempt holds its run.
const runLeaseSnooze = 30 * time.Second

// runLeaseKey is the lease key of a run.
func runLeaseKey(runID string) string { return "run:" + runID }

// runHolder names one attempt of one job on one worker.
func runHolder(workerID string, job *river.Job[webhook.RunJobArgs]) string {
	return fmt.Sprintf("%s job:%d attempt:%d", workerID, job.ID, job.Attempt)
}

// runLeaseTTL outlives the attempt: the job's context ends at the job
// timeout, and River rescues a stuck job only later (RescueStuckJobsAfter
// is longer still), so a rescued job finds the lease expired.
func (w *Worker) runLeaseTTL() time.Duration { return w.Timeout(nil) + 2*time.Minute }

// claim takes the run's lease for this attempt. A lease held by an earlier
// life of this same worker (same worker id: that process is dead, this one
// replaced it) is taken over at once; one held by another live worker is
// left alone (errRunLeaseHeld).
func (r *run) claim(ctx context.Context) error {
	if r.holder == "" {
		return nil
	}
	key := runLeaseKey(r.args.RunID)
	db := r.w.DB
	h, live, err := db.LeaseHolder(ctx, key)
	if err != nil {
		return fmt.Errorf("run lease: %w", err)
	}
	if live && h != r.holder && strings.HasPrefix(h, r.w.Config.WorkerID+" job:") {
		r.log.Info("taking over the run from this worker's earlier life", "holder", h)
		if err := db.ReleaseLease(ctx, key, h); err != nil {
			return fmt.Errorf("run lease: %w", err)
		}
	}
	holder, ok, err := db.AcquireLease(ctx, key, r.holder, r.w.runLeaseTTL())
	if err != nil {
		return fmt.Errorf("run lease: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w (%s)", errRunLeaseHeld, holder)
	}
	return nil
}

// requireLease fails unless this attempt still holds the run's lease. Every side
// effect is preceded by it.
func (i *issue) requireLease(ctx context.Context) error {
	if i.holder == "" {
		return nil
	}
	ok, err := i.w.DB.HoldsLease(ctx, runLeaseKey(i.journalID), i.holder)
	if err != nil {
		return fmt.Errorf("run lease: %w", err)
	}
	if !ok {
		return errRunLeaseLost
	}
	return nil
}

// unclaim releases the run's lease when the attempt ends, so a retry (on
// any worker) can claim it at once.
func (r *run) unclaim(ctx context.Context) {
	if r.holder == "" {
		return
	}
	if err := r.w.DB.ReleaseLease(ctx, runLeaseKey(r.args.RunID), r.holder); err != nil {
		r.log.Warn("release run lease", "err", err)
	}
}

// phase opens a trace span for a pipeline phase (clone, sandbox, harvest)
// and marks the crash point "phase:<name>" for the crash tests.
func (r *run) phase(ctx context.Context, name string) (context.Context, func(error)) {
	crashPoint("phase:" + name)
	return r.rt.Phase(ctx, name)
}
