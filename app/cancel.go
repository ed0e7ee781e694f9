package app

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/telemetry"
)

// stateCancelled and statePending are run states of this file and
// approve_pending.go.
const (
	stateCancelled = "cancelled"
	statePending   = "pending"
)

// cancelPoll is how often a running job looks for a cancel request.
const cancelPoll = 500 * time.Millisecond

// errCancelled is the cause of a run context cancelled on request.
var errCancelled = errors.New("cancelled on request")

// watchCancel derives a context that is cancelled when a cancel request is
// recorded for the run; the sandbox then kills and removes the container.
// stop ends the watch.
func (r *run) watchCancel(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	var by atomic.Pointer[string]
	r.cancelledBy = func() string {
		if p := by.Load(); p != nil {
			return *p
		}
		return ""
	}
	go func() {
		t := time.NewTicker(cancelPoll)
		defer t.Stop()
		for {
			if v, ok, err := r.w.DB.Effect(ctx, r.args.RunID, journal.Cancel); err == nil && ok {
				by.Store(&v)
				cancel(errCancelled)
				return
			}
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}

// wasCancelled reports whether the run was stopped by a cancel request.
func (r *run) wasCancelled(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errCancelled)
}

// cancelled ends a run stopped on request: the progress comment says so,
// the lease is freed, and the job completes (no retry).
func (r *run) cancelled(ctx context.Context) error {
	by := ""
	if r.cancelledBy != nil {
		by = r.cancelledBy()
	}
	if r.gh == nil {
		gh, err := r.w.Clients.Installation(r.args.InstallationID, apiScope(r.args.RepoID))
		if err != nil {
			return err
		}
		r.gh = gh
	}
	if _, ok, err := r.w.DB.Effect(ctx, r.args.RunID, journal.Progress); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if ok {
		why, _, _ := r.w.DB.Effect(ctx, r.args.RunID, journal.CancelReason)
		if err := r.progress(ctx, stateCancelled, cancelMessage(by, why)); err != nil {
			r.log.Warn("progress comment", "err", err)
		}
	}
	attrs := map[string]any{"outcome": stateCancelled, "by": by}
	if why, ok, _ := r.w.DB.Effect(ctx, r.args.RunID, journal.CancelReason); ok {
		attrs["reason"] = why
	}
	return r.finish(ctx, stateCancelled, telemetry.KindRunCancelled, attrs)
}

// requestCancel records a cancel request on runID (idempotent) and its
// audit event.
func (w *Worker) requestCancel(ctx context.Context, runID, by string) error {
	if _, ok, err := w.DB.Effect(ctx, runID, journal.Cancel); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if ok {
		return nil
	}
	if err := w.DB.RecordEffect(ctx, runID, journal.Cancel, by); err != nil {
		return fmt.Errorf("record cancel: %w", err)
	}
	return w.audit(ctx, runID, telemetry.KindRunCancelRequested, by, nil)
}

// acquireLease takes the lease. When another run holds it and the
// operator set on-busy: restart, that run is asked to cancel and the lease
// is taken once it is free (bounded wait).
func (r *run) acquireLease(ctx context.Context, ttl time.Duration) (string, bool, error) {
	holder, ok, err := r.w.DB.AcquireLease(ctx, r.leaseKey(), r.args.RunID, ttl)
	if err != nil || ok || r.w.Config.Controls.OnBusy != "restart" {
		return holder, ok, err
	}
	if err := r.w.requestCancel(ctx, holder, r.args.RequesterLogin); err != nil {
		return "", false, err
	}
	t := time.NewTicker(cancelPoll)
	defer t.Stop()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-deadline:
			return holder, false, nil
		case <-t.C:
		}
		holder, ok, err = r.w.DB.AcquireLease(ctx, r.leaseKey(), r.args.RunID, ttl)
		if err != nil || ok {
			return holder, ok, err
		}
	}
}
