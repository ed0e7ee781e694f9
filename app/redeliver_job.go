package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/agentgate/agentgate/app/redeliver"
	"github.com/agentgate/agentgate/jobs"
)

// Bounds of one scheduled redelivery pass.
const (
	redeliverLimit   = 50 // redeliveries asked per pass; the rest wait for the next
	redeliverRetries = 3  // an event redelivered this often and still refused is given up
	redeliverPause   = time.Second
)

// RedeliverArgs is one scheduled pass of redelivering the webhook
// deliveries that failed (GitHub does not retry them). The leader among
// the workers inserts it every redeliver-interval; any worker works it.
type RedeliverArgs struct{}

// Kind implements river.JobArgs.
func (RedeliverArgs) Kind() string { return "agentgate.redeliver" }

// RedeliverWorker works RedeliverArgs: it reads the app's delivery log for
// the last redeliver-window and asks GitHub to redeliver each event whose
// deliveries all failed. It is idempotent (intake dedupes on the delivery
// id a redelivery keeps; an event that got through is not picked again)
// and bounded (redeliverLimit per pass, redeliverRetries per event).
type RedeliverWorker struct {
	river.WorkerDefaults[RedeliverArgs]
	Config Config
	Logger *slog.Logger
	// Transport carries the GitHub requests (default http.DefaultTransport).
	Transport http.RoundTripper
}

// Timeout bounds a pass: listing plus a paced request per redelivery.
func (r *RedeliverWorker) Timeout(*river.Job[RedeliverArgs]) time.Duration {
	return 5*time.Minute + redeliverLimit*redeliverPause
}

// Work implements river.Worker.
func (r *RedeliverWorker) Work(ctx context.Context, _ *river.Job[RedeliverArgs]) error {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	asked, failed := 0, 0
	_, err := redeliver.Run(ctx, redeliver.Options{
		AppID: r.Config.AppID, PrivateKey: r.Config.PrivateKey, APIURL: r.Config.GitHubAPIURL,
		Since: r.Config.Deploy.RedeliverWindow, Interval: redeliverPause,
		MaxRedeliveries: redeliverRetries, Limit: redeliverLimit, Transport: r.Transport,
	}, func(o redeliver.Outcome) {
		attrs := []any{"delivery", o.GUID, "hook_delivery_id", o.ID, "event", o.Event, "was", o.StatusCode}
		switch {
		case o.GaveUp:
			log.Warn("redelivery: given up on a delivery agentgate keeps refusing", attrs...)
		case o.Err != nil:
			failed++
			log.Warn("redelivery: GitHub refused", append(attrs, "err", o.Err)...)
		default:
			asked++
			log.Info("redelivery: asked GitHub to deliver again", attrs...)
		}
	})
	if err != nil {
		// The next pass tries again: no River retries on top.
		log.Warn("redelivery pass failed", "err", err, "asked", asked, "failed", failed)
		return river.JobCancel(fmt.Errorf("redelivery pass: %w", err))
	}
	return nil
}

// redeliverPeriodic is the schedule of redelivery passes, or nil when
// redeliver-interval is 0. Only the elected leader inserts them, and a
// pass is not inserted while another is queued or running: passes never
// overlap (two would pick the same failed deliveries).
func redeliverPeriodic(cfg Config) *river.PeriodicJob {
	every := cfg.Deploy.RedeliverInterval
	if every <= 0 {
		return nil
	}
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return RedeliverArgs{}, &river.InsertOpts{
			Queue: jobs.QueueEvents, MaxAttempts: 1,
			UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
			}},
		}
	}, &river.PeriodicJobOpts{ID: "agentgate.redeliver"})
}
