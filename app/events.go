package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/webhook"
)

// eventJob is one event job while it executes: its issue (the repository
// and the issue or pull request the event is about; its own answers are
// journaled under "event:<delivery>") and its job args.
type eventJob struct {
	*issue
	// a is what every event job carries; each handler has its family's
	// own arguments too.
	a     jobs.Event
	jobID int64
}

// eventIssue is the issue an event job is about. An inline review comment
// is not an issue comment: reactions to it go on the pull request.
func eventIssue(w *Worker, a jobs.Event, log *slog.Logger) *issue {
	commentID := a.CommentID
	if a.GitHubEvent == "pull_request_review_comment" {
		commentID = 0
	}
	return &issue{
		w: w, installationID: a.InstallationID, repoID: a.RepoID, owner: a.Owner, repo: a.Repo,
		defaultBranch: a.DefaultBranch, number: a.Number, commentID: commentID,
		journalID: "event:" + a.DeliveryID, log: log,
	}
}

// runOf is the run recorded with args (a pending run to cancel, a revert
// this event makes), to act on it from this event job. It may have run
// before: every side effect is looked up before it is made.
func (ev *eventJob) runOf(args webhook.RunJobArgs) (*run, error) {
	gh, err := ev.client()
	if err != nil {
		return nil, err
	}
	r := newRun(ev.w, args, ev.log.With("run_id", args.RunID))
	r.gh, r.retry = gh, true
	return r, nil
}

// reply answers the event's comment once (a retried job does not repeat it).
func (ev *eventJob) reply(ctx context.Context, body string) error {
	_, err := ev.once(ctx, journal.Reply, func() (string, error) { return ev.comment(ctx, body) })
	return err
}

// react reacts on the event's comment once (an inline review comment's
// reaction goes on its pull request).
func (ev *eventJob) react(ctx context.Context, content string) error {
	if ev.a.CommentID == 0 {
		return nil
	}
	_, err := ev.once(ctx, journal.ReactionWith(content), func() (string, error) { return content, ev.reactWith(ctx, content) })
	return err
}

// authorize reports whether the actor has the trigger permission on the
// repository (the operator's, or the repository configuration's when it
// is stricter). A refused actor gets a reaction and at most one reply per
// issue.
func (ev *eventJob) authorize(ctx context.Context, what string) (bool, string, error) {
	role, err := ev.permissionOf(ctx, ev.a.ActorLogin)
	if err != nil {
		return false, "", err
	}
	min := ev.w.Config.MinPermission
	if policy.Allows(role, min) {
		if rc, err := ev.loadConfig(ctx); err == nil && policy.Allows(rc.Effective.MinPermission, min) {
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
func (ev *eventJob) refuse(ctx context.Context, msg string) error {
	if err := ev.react(ctx, "confused"); err != nil {
		return err
	}
	first, err := ev.w.DB.ClaimReply(ctx, fmt.Sprintf("refused:%d#%d:%s", ev.a.RepoID, ev.a.Number, strings.ToLower(ev.a.ActorLogin)))
	if err != nil || !first {
		return err
	}
	return ev.reply(ctx, msg)
}

// auditOnce appends an event once per event job (keyed on the run).
func (ev *eventJob) auditOnce(ctx context.Context, runID, kind, actor string, attrs map[string]any) error {
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
