package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// prKey names a pull request's feedback.
func prKey(repoID int64, number int) string { return fmt.Sprintf("%d#%d", repoID, number) }

// feedback keeps a comment, review or inline review comment on agentgate's
// pull request for the next follow-up; feedback that asks for one
// schedules it a little later, unique per pull request, so a review's
// comments arriving together become one run.
func (ev *event) feedback(ctx context.Context) error {
	a := ev.a
	head := a.HeadRef
	if head == "" {
		gh, err := ev.client()
		if err != nil {
			return err
		}
		pr, _, err := gh.PullRequests.Get(ctx, a.Owner, a.Repo, a.Number)
		if err != nil {
			return fmt.Errorf("read pull request #%d: %w", a.Number, err)
		}
		if pr.GetHead().GetRepo() != nil && pr.GetHead().GetRepo().GetID() != a.RepoID {
			return nil // a fork's branch is never agentgate's
		}
		head, ev.a.HeadRef, ev.a.HeadSHA = pr.GetHead().GetRef(), pr.GetHead().GetRef(), pr.GetHead().GetSHA()
	}
	if !strings.HasPrefix(head, webhook.BranchPrefix) {
		ev.log.Info("feedback on a pull request that is not agentgate's: ignored", "head", head)
		return nil
	}
	if _, err := ev.w.DB.RunForPR(ctx, a.RepoID, a.Number); errors.Is(err, store.ErrNotFound) {
		ev.log.Info("feedback on a pull request agentgate did not open: ignored", "head", head)
		return nil
	} else if err != nil {
		return err
	}
	key := a.Event + ":" + strconv.FormatInt(a.CommentID, 10)
	if a.Event == "pull_request_review" {
		key = "review:" + strconv.FormatInt(a.ReviewID, 10)
	}
	if err := ev.w.DB.AddFeedback(ctx, prKey(a.RepoID, a.Number), store.FeedbackItem{
		Key: key, Author: a.ActorLogin, Body: a.Text, Path: a.Path, Line: a.Line,
	}); err != nil {
		return err
	}
	if a.Command != webhook.EvFeedback {
		return nil
	}
	next := ev.a
	next.Command, next.RunID = webhook.EvFollowUp, ""
	if err := enqueue(ctx, next, &river.InsertOpts{
		ScheduledAt: time.Now().Add(ev.w.Config.Controls.FollowUpDelay),
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}); err != nil {
		return err
	}
	return ev.react(ctx, "eyes")
}

// followUp starts the coalesced follow-up run: every feedback item
// gathered for the pull request, on its branch, within the cap.
func (ev *event) followUp(ctx context.Context) error {
	a := ev.a
	orig, err := ev.w.DB.RunForPR(ctx, a.RepoID, a.Number)
	if err != nil {
		return err
	}
	origArgs, ok, err := ev.w.loadArgs(ctx, orig.ID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("run %s: job not recorded", orig.ID)
	}
	runID := uuid.NewSHA1(uuid.NameSpaceOID, []byte("agentgate-follow-up:"+strconv.FormatInt(ev.jobID, 10))).String()
	runs, err := ev.w.DB.RunsOnIssue(ctx, a.RepoID, a.Number)
	if err != nil {
		return err
	}
	n := 0
	for _, r := range runs {
		if r.ID != runID && r.State != stateDenied && r.State != stateBusy && r.State != stateIgnored {
			n++
		}
	}
	if max := ev.w.Config.Controls.MaxFollowUps; n >= max {
		first, err := ev.w.DB.ClaimReply(ctx, "follow-up-cap:"+prKey(a.RepoID, a.Number))
		if err != nil || !first {
			return err
		}
		return ev.reply(ctx, fmt.Sprintf("This pull request has had %d follow-up runs, the most agentgate makes on one pull request. Further feedback is for a human, or for a new issue.", n))
	}
	items, err := ev.w.DB.ClaimFeedback(ctx, prKey(a.RepoID, a.Number), runID)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	fb := make([]webhook.Feedback, len(items))
	for i, it := range items {
		fb[i] = webhook.Feedback{Author: it.Author, Body: it.Body, Path: it.Path, Line: it.Line}
	}
	args := webhook.RunJobArgs{
		RunID: runID, DeliveryID: a.DeliveryID, Event: a.Event, Trigger: "follow-up",
		InstallationID: a.InstallationID, RepoID: a.RepoID, Owner: a.Owner, Repo: a.Repo,
		CloneURL: origArgs.CloneURL, DefaultBranch: origArgs.DefaultBranch,
		IssueNumber: a.Number, IssueTitle: origArgs.IssueTitle, IssueBody: origArgs.IssueBody, IsPullRequest: true,
		RequesterLogin: a.ActorLogin, RequesterID: a.ActorID, RequesterType: a.ActorType, AuthorAssociation: a.AuthorAssociation,
		FollowUp: &webhook.FollowUp{PR: a.Number, Issue: origArgs.IssueNumber, Branch: a.HeadRef, HeadSHA: a.HeadSHA, Feedback: fb, Iteration: n + 1},
	}
	if a.Event == "issue_comment" {
		args.CommentID = a.CommentID
	}
	if err := enqueue(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return err
	}
	return ev.auditOnce(ctx, orig.ID, telemetry.KindFollowUpQueued, a.ActorLogin, map[string]any{
		"new_run": runID, "pull_request": a.Number, "items": len(items), "iteration": n + 1,
	})
}
