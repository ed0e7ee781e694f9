package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/webhook"
)

// eventTimeout bounds an event job: a few API calls and database writes.
const eventTimeout = 2 * time.Minute

// handler is one event family's handler in the worker (palantir's
// go-githubapp EventHandler, with a durable queue between intake and
// worker): the deliveries intake turns into its job, and what the worker
// does with one. Its job's arguments are its own type in package jobs.
type handler interface {
	// Handles lists the deliveries ("event.action") intake routes to the
	// handler's job.
	Handles() []string
	// Kind is the job kind the handler works.
	Kind() string
	// register adds the handler's River worker.
	register(workers *river.Workers, w *Worker) error
	// Handle works a job of the handler's kind.
	Handle(ctx context.Context, w *Worker, jobID int64, job jobs.Job) error
}

// family is the handler of event family A.
type family[A jobs.Job] struct {
	// anyRepo: the job is not about one repository the app must still
	// have (installation changes, check run buttons), so it is handled
	// whatever the repository's access.
	anyRepo bool
	// pushes: the job may push a commit, so it has a run's timeout
	// (the client's), not eventTimeout.
	pushes bool
	// do is what the family does with one job.
	do func(ev *eventJob, ctx context.Context, a A) error
}

// Handles implements handler: A's deliveries.
func (f *family[A]) Handles() []string {
	var a A
	return a.Handles()
}

// Kind implements handler.
func (f *family[A]) Kind() string {
	var a A
	return a.Kind()
}

func (f *family[A]) register(workers *river.Workers, w *Worker) error {
	return river.AddWorkerSafely(workers, &familyWorker[A]{w: w, f: f})
}

// Handle implements handler.
func (f *family[A]) Handle(ctx context.Context, w *Worker, jobID int64, job jobs.Job) error {
	a, ok := job.(A)
	if !ok {
		return fmt.Errorf("%s handler given a %T job", f.Kind(), job)
	}
	e := a.Common()
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("delivery", e.DeliveryID, "event", e.GitHubEvent, "job", a.Kind(), "repo", e.Owner+"/"+e.Repo, "number", e.Number)
	ev := &eventJob{issue: eventIssue(w, e, log), a: e, jobID: jobID}
	if !f.anyRepo {
		// The job concerns one repository the app must still have:
		// otherwise nothing is done, and no API call made.
		if state, err := w.DB.RepoAccess(ctx, e.InstallationID, e.RepoID); err != nil {
			return err
		} else if state != "" {
			log.Info("event for a repository the app no longer has: ignored", "access", state)
			return nil
		}
	}
	err := f.do(ev, ctx, a)
	if err != nil {
		log.Error("event failed", "err", err)
	}
	return err
}

// familyWorker is the River worker of family A's jobs.
type familyWorker[A jobs.Job] struct {
	river.WorkerDefaults[A]
	w *Worker
	f *family[A]
}

// Timeout implements river.Worker.
func (fw *familyWorker[A]) Timeout(*river.Job[A]) time.Duration {
	if fw.f.pushes {
		return 0 // the client's JobTimeout
	}
	return eventTimeout
}

// Work implements river.Worker.
func (fw *familyWorker[A]) Work(ctx context.Context, job *river.Job[A]) error {
	return fw.f.Handle(ctx, fw.w, job.ID, job.Args)
}

// handlers is the registry: one handler per event family, the family's
// deliveries declared by its job type (jobs.Job's Handles). Intake's
// routes (webhook.RoutedActions) are the union of their Handles and the
// run triggers' (TestHandlersCoverIntake), and every job intake writes is
// of a family that handles its delivery (webhook's TestRoute).
func handlers() []handler {
	return []handler{
		&family[jobs.Command]{do: (*eventJob).command},
		&family[jobs.Feedback]{do: (*eventJob).feedback},
		&family[jobs.FeedbackChange]{do: (*eventJob).feedbackChanged},
		&family[jobs.FollowUp]{do: (*eventJob).followUp}, // scheduled by Feedback, never by intake
		&family[jobs.CommentDeleted]{do: (*eventJob).commentDeleted},
		&family[jobs.IssueEnded]{do: (*eventJob).issueEnded},
		&family[jobs.PRClosed]{do: (*eventJob).prClosed},
		&family[jobs.Rerun]{do: (*eventJob).rerun},
		&family[jobs.SuiteRerun]{do: (*eventJob).suiteRerun},
		&family[jobs.CheckAction]{anyRepo: true, pushes: true, do: (*eventJob).checkAction},
		&family[jobs.Installation]{anyRepo: true, do: (*eventJob).installation},
	}
}

// runTriggers are the deliveries intake turns into runs (RunJobArgs,
// worked by Worker) rather than event jobs.
var runTriggers = []string{"issues.labeled", "issues.opened", "issue_comment.created", "issue_comment.edited"}

// registerHandlers adds every event family's worker, and the worker of
// the legacy event job (jobs.Legacy) earlier versions wrote.
func registerHandlers(workers *river.Workers, w *Worker) error {
	byKind := map[string]handler{}
	for _, h := range handlers() {
		if err := h.register(workers, w); err != nil {
			return fmt.Errorf("register %s worker: %w", h.Kind(), err)
		}
		byKind[h.Kind()] = h
	}
	if err := river.AddWorkerSafely(workers, &legacyWorker{w: w, byKind: byKind}); err != nil {
		return fmt.Errorf("register legacy event worker: %w", err)
	}
	return nil
}

// legacyWorker works the single "agentgate.event" jobs earlier versions
// wrote for every event family (still queued, or scheduled follow-ups,
// across an upgrade): each is turned into its family's job and handled
// by that family's handler.
type legacyWorker struct {
	river.WorkerDefaults[jobs.Legacy]
	w      *Worker
	byKind map[string]handler
}

// Timeout implements river.Worker.
func (lw *legacyWorker) Timeout(*river.Job[jobs.Legacy]) time.Duration { return eventTimeout }

// Work implements river.Worker.
func (lw *legacyWorker) Work(ctx context.Context, job *river.Job[jobs.Legacy]) error {
	j, err := job.Args.Job(webhook.Commands())
	if err != nil {
		log := lw.w.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Warn("legacy event job of an unknown command: ignored", "job_id", job.ID, "command", job.Args.Command)
		return nil
	}
	h, ok := lw.byKind[j.Kind()]
	if !ok {
		return fmt.Errorf("legacy event job: no handler for %s", j.Kind())
	}
	return h.Handle(ctx, lw.w, job.ID, j)
}

// handledActions is what the registry and the run triggers handle, as
// webhook.RoutedActions lists intake's routes.
func handledActions() map[string][]string {
	out := map[string][]string{}
	add := func(k string) {
		event, action, ok := strings.Cut(k, ".")
		if !ok {
			out[event] = nil
			return
		}
		if !slices.Contains(out[event], action) {
			out[event] = append(out[event], action)
		}
	}
	for _, h := range handlers() {
		for _, k := range h.Handles() {
			add(k)
		}
	}
	for _, k := range runTriggers {
		add(k)
	}
	for _, actions := range out {
		slices.Sort(actions)
	}
	return out
}
