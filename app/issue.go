package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/webhook"
)

// issue is the context of every job that acts on one issue or pull
// request of a repository: a run, an event job (a command, feedback, a
// lifecycle event) and a check run button. It holds the installation
// client and the effects journal the job records under, and has the
// helpers they all share: once, audit, comment, react, permission and the
// repository's configuration.
type issue struct {
	w *Worker

	installationID int64
	repoID         int64
	owner, repo    string
	defaultBranch  string
	// number is the issue or pull request; commentID the comment the job
	// answers (reactions go on it), 0 for the issue itself.
	number    int
	commentID int64

	// journalID is the id the job's effects are recorded under: a run's
	// id, or for an event job's own answers "event:<delivery>".
	journalID string
	// holder names the attempt holding journalID's lease (runlease.go);
	// "" for a job no lease guards.
	holder string

	gh  *github.Client // nil until client is called (or a run sets it)
	log *slog.Logger
}

// runIssue is the issue a run's job args are about, its journal the run's.
func runIssue(w *Worker, a webhook.RunJobArgs, log *slog.Logger) *issue {
	return &issue{
		w: w, installationID: a.InstallationID, repoID: a.RepoID, owner: a.Owner, repo: a.Repo,
		defaultBranch: a.DefaultBranch, number: a.IssueNumber, commentID: a.CommentID,
		journalID: a.RunID, log: log,
	}
}

// newRun is the run of job args a, not yet executing (no trace, no
// lease held).
func newRun(w *Worker, a webhook.RunJobArgs, log *slog.Logger) *run {
	return &run{issue: runIssue(w, a, log), args: a}
}

// client is the installation client for the issue's repository.
func (i *issue) client() (*github.Client, error) {
	if i.gh == nil {
		gh, err := i.w.Clients.Installation(i.installationID, apiScope(i.repoID))
		if err != nil {
			return nil, err
		}
		i.gh = gh
	}
	return i.gh, nil
}

// once runs fn unless effect key is recorded in the journal, then records
// fn's value. A guarded job checks it still holds its lease first.
func (i *issue) once(ctx context.Context, key journal.Key, fn func() (string, error)) (string, error) {
	if v, ok, err := i.w.DB.Effect(ctx, i.journalID, key); err != nil {
		return "", fmt.Errorf("effect %s: %w", key, err)
	} else if ok {
		return v, nil
	}
	if err := i.requireLease(ctx); err != nil {
		return "", err
	}
	crashPoint("before:" + string(key))
	v, err := fn()
	if err != nil {
		return "", err
	}
	if err := i.w.DB.RecordEffect(ctx, i.journalID, key, v); err != nil {
		return "", fmt.Errorf("record effect %s: %w", key, err)
	}
	crashPoint("after:" + string(key))
	return v, nil
}

// audit appends an event to runID's audit trail.
func (i *issue) audit(ctx context.Context, runID, kind, actor string, attrs map[string]any) error {
	return i.w.audit(ctx, runID, kind, actor, attrs)
}

// comment posts a comment on the issue and returns its id.
func (i *issue) comment(ctx context.Context, body string) (string, error) {
	gh, err := i.client()
	if err != nil {
		return "", err
	}
	c, _, err := gh.Issues.CreateComment(ctx, i.owner, i.repo, i.number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return "", fmt.Errorf("comment: %w", err)
	}
	return strconv.FormatInt(c.GetID(), 10), nil
}

// reactWith reacts with content on the job's comment, or on the issue
// when it answers none.
func (i *issue) reactWith(ctx context.Context, content string) error {
	gh, err := i.client()
	if err != nil {
		return err
	}
	if i.commentID != 0 {
		_, _, err = gh.Reactions.CreateIssueCommentReaction(ctx, i.owner, i.repo, i.commentID, content)
	} else {
		_, _, err = gh.Reactions.CreateIssueReaction(ctx, i.owner, i.repo, i.number, content)
	}
	if err != nil {
		return fmt.Errorf("reaction: %w", err)
	}
	return nil
}

// permissionOf reads login's role on the repository ("none" when not a
// collaborator).
func (i *issue) permissionOf(ctx context.Context, login string) (string, error) {
	gh, err := i.client()
	if err != nil {
		return "", err
	}
	return permissionOf(ctx, gh, i.owner, i.repo, login)
}

// tenant is the installation and repository the issue belongs to.
func (i *issue) tenant() Tenant { return Tenant{i.installationID, i.repoID} }
