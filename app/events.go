package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/webhook"
)

// EventWorker executes EventJobArgs: comment commands, feedback on
// agentgate's pull requests, check re-runs, closed pull requests and
// installation changes. It shares the run worker's configuration, store
// and clients; new runs it starts are RunJobArgs jobs.
type EventWorker struct {
	river.WorkerDefaults[webhook.EventJobArgs]
	Runs *Worker
}

// Timeout bounds an event job: a few API calls and database writes.
func (e *EventWorker) Timeout(*river.Job[webhook.EventJobArgs]) time.Duration {
	return 2 * time.Minute
}

// event is one event job while it executes.
type event struct {
	w     *Worker
	a     webhook.EventJobArgs
	jobID int64
	gh    *github.Client
	log   *slog.Logger
}

// Work implements river.Worker.
func (e *EventWorker) Work(ctx context.Context, job *river.Job[webhook.EventJobArgs]) error {
	a := job.Args
	log := e.Runs.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("delivery", a.DeliveryID, "event", a.Event, "command", a.Command, "repo", a.Owner+"/"+a.Repo, "number", a.Number)
	ev := &event{w: e.Runs, a: a, jobID: job.ID, log: log}
	if a.Command == webhook.EvInstallation {
		return ev.installation(ctx)
	}
	// Everything else concerns one repository the app must still have:
	// otherwise nothing is done, and no API call made.
	if state, err := ev.w.DB.RepoAccess(ctx, a.InstallationID, a.RepoID); err != nil {
		return err
	} else if state != "" {
		log.Info("event for a repository the app no longer has: ignored", "access", state)
		return nil
	}
	var err error
	switch a.Command {
	case webhook.CmdHelp:
		err = ev.help(ctx)
	case webhook.CmdStatus:
		err = ev.status(ctx)
	case webhook.CmdCancel:
		err = ev.cancel(ctx)
	case webhook.CmdRetry, webhook.EvRerun:
		err = ev.retry(ctx)
	case webhook.CmdApprove:
		err = ev.approve(ctx)
	case webhook.CmdRevert:
		err = ev.revert(ctx)
	case webhook.EvPRClosed:
		err = ev.prClosed(ctx)
	case webhook.EvFeedback, webhook.EvReviewComment:
		err = ev.feedback(ctx)
	case webhook.EvFollowUp:
		err = ev.followUp(ctx)
	case webhook.EvFeedbackEdited, webhook.EvFeedbackDeleted:
		err = ev.feedbackChanged(ctx)
	case webhook.EvIssueEnded:
		err = ev.issueEnded(ctx) // issue_end.go
	case webhook.EvCommentDeleted:
		err = ev.commentDeleted(ctx)
	case webhook.EvSuiteRerun:
		err = ev.suiteRerun(ctx)
	default:
		log.Warn("unknown event command: ignored")
	}
	if err != nil {
		log.Error("event failed", "err", err)
	}
	return err
}

// client is the installation client for the event's repository.
func (ev *event) client() (*github.Client, error) {
	if ev.gh == nil {
		gh, err := ev.w.Clients.Installation(ev.a.InstallationID, apiScope(ev.a.RepoID))
		if err != nil {
			return nil, err
		}
		ev.gh = gh
	}
	return ev.gh, nil
}

// asRun is a run value for args, to reuse the run's comment, reaction,
// permission and finishing helpers.
func (ev *event) asRun(args webhook.RunJobArgs) (*run, error) {
	gh, err := ev.client()
	if err != nil {
		return nil, err
	}
	return &run{w: ev.w, args: args, gh: gh, log: ev.log.With("run_id", args.RunID), retry: true}, nil
}

// self is a run value standing for the event itself (its issue, its
// actor, its comment). An inline review comment is not an issue comment:
// reactions to it go on the pull request.
func (ev *event) self() (*run, error) {
	a := ev.a
	commentID := a.CommentID
	if a.Event == "pull_request_review_comment" {
		commentID = 0
	}
	return ev.asRun(webhook.RunJobArgs{
		RunID: "event:" + a.DeliveryID, InstallationID: a.InstallationID, RepoID: a.RepoID,
		Owner: a.Owner, Repo: a.Repo, DefaultBranch: a.DefaultBranch, CloneURL: a.CloneURL,
		IssueNumber: a.Number, IsPullRequest: a.IsPullRequest, CommentID: commentID,
		RequesterLogin: a.ActorLogin, RequesterID: a.ActorID, RequesterType: a.ActorType,
		AuthorAssociation: a.AuthorAssociation,
	})
}

// reply answers the event's comment once (a retried job does not repeat it).
func (ev *event) reply(ctx context.Context, body string) error {
	r, err := ev.self()
	if err != nil {
		return err
	}
	_, err = r.once(ctx, journal.Reply, func() (string, error) { return r.comment(ctx, body) })
	return err
}

// react reacts on the event's comment once (an inline review comment's
// reaction goes on its pull request).
func (ev *event) react(ctx context.Context, content string) error {
	if ev.a.CommentID == 0 {
		return nil
	}
	r, err := ev.self()
	if err != nil {
		return err
	}
	_, err = r.once(ctx, journal.ReactionWith(content), func() (string, error) { return content, r.reactWith(ctx, content) })
	return err
}

// authorize reports whether the actor has the trigger permission on the
// repository (the operator's, or the repository configuration's when it
// is stricter). A refused actor gets a reaction and at most one reply per
// issue.
func (ev *event) authorize(ctx context.Context, what string) (bool, string, error) {
	r, err := ev.self()
	if err != nil {
		return false, "", err
	}
	role, err := r.permissionOf(ctx, ev.a.ActorLogin)
	if err != nil {
		return false, "", err
	}
	min := ev.w.Config.MinPermission
	if policy.Allows(role, min) {
		if rc, err := r.loadConfig(ctx); err == nil && policy.Allows(rc.Effective.MinPermission, min) {
			min = rc.Effective.MinPermission
		}
	}
	if policy.Allows(role, min) {
		return true, role, nil
	}
	return false, role, ev.refuse(ctx, fmt.Sprintf("Sorry @%s, `%s %s` needs **%s** permission or more on this repository.", ev.a.ActorLogin, ev.w.Config.Mention, what, min))
}

// refuse reacts on the command and replies at most once per person and
// issue, so nobody can make agentgate post a stream of comments.
func (ev *event) refuse(ctx context.Context, msg string) error {
	if err := ev.react(ctx, "confused"); err != nil {
		return err
	}
	first, err := ev.w.DB.ClaimReply(ctx, fmt.Sprintf("refused:%d#%d:%s", ev.a.RepoID, ev.a.Number, strings.ToLower(ev.a.ActorLogin)))
	if err != nil || !first {
		return err
	}
	return ev.reply(ctx, msg)
}

// audit appends an event to a run's chain.
func (ev *event) audit(ctx context.Context, runID, kind, actor string, attrs map[string]any) error {
	return ev.w.audit(ctx, runID, kind, actor, attrs)
}

// auditOnce appends an event once per event job (keyed on the run).
func (ev *event) auditOnce(ctx context.Context, runID, kind, actor string, attrs map[string]any) error {
	key := journal.Once(kind, ev.a.DeliveryID)
	if _, ok, err := ev.w.DB.Effect(ctx, runID, key); err != nil || ok {
		return err
	}
	if err := ev.audit(ctx, runID, kind, actor, attrs); err != nil {
		return err
	}
	return ev.w.DB.RecordEffect(ctx, runID, key, "1")
}

// enqueue inserts a job from inside this job.
func enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	// The worker's client is River's database/sql one on SQLite and its
	// pgx one on Postgres.
	var err error
	if c, cerr := river.ClientFromContextSafely[*sql.Tx](ctx); cerr == nil {
		_, err = c.Insert(ctx, args, opts)
	} else if c, perr := river.ClientFromContextSafely[pgx.Tx](ctx); perr == nil {
		_, err = c.Insert(ctx, args, opts)
	} else {
		return fmt.Errorf("queue client: %w", errors.Join(cerr, perr))
	}
	if err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return nil
}
