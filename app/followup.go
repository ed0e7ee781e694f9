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

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// feedbackKey names a feedback item among its pull request's: the
// comment (by event, so an issue comment and a review comment never
// collide) or the review.
func feedbackKey(e jobs.Event, reviewID int64) string {
	if e.GitHubEvent == "pull_request_review" {
		return "review:" + strconv.FormatInt(reviewID, 10)
	}
	return e.GitHubEvent + ":" + strconv.FormatInt(e.CommentID, 10)
}

// mayGiveFeedback judges the event's actor as the author of feedback:
// they must stand as a requester would (standing). A refused request
// (answer) gets a reaction and at most one reply per pull request.
func (ev *eventJob) mayGiveFeedback(ctx context.Context, answer bool) (bool, error) {
	role, min, reason, err := ev.standing(ctx, ev.actor(), "")
	if err != nil || reason == "" {
		return err == nil, err
	}
	ev.log.Info("feedback from someone who may not start a run: not kept", "reason", reason, "permission", role, "required", min)
	if !answer {
		return false, nil
	}
	return false, ev.refuse(ctx, fmt.Sprintf("Sorry @%s, agentgate takes feedback only from people this repository's policy lets start a run: %s.", ev.a.ActorLogin, reason))
}

// feedbackChanged follows an edited or deleted comment: the feedback it
// gave, while no follow-up has claimed it, takes the new text or is
// dropped. An edit by someone who may not give feedback drops it too.
// What a follow-up already claimed is in its task as it was.
func (ev *eventJob) feedbackChanged(ctx context.Context, a jobs.FeedbackChange) error {
	pr, key := prKey(a.RepoID, a.Number), feedbackKey(a.Event, 0)
	if !a.Dropped {
		ok, err := ev.mayGiveFeedback(ctx, false)
		if err != nil {
			return err
		}
		if ok {
			changed, err := ev.w.DB.UpdateFeedback(ctx, pr, key, a.Text)
			if err == nil && changed {
				ev.log.Info("feedback edited", "item", key)
			}
			return err
		}
	}
	dropped, err := ev.w.DB.DropFeedback(ctx, pr, key)
	if err == nil && dropped {
		ev.log.Info("feedback dropped", "item", key, "deleted", a.Action == "deleted")
	}
	return err
}

// prKey names a pull request's feedback.
func prKey(repoID int64, number int) string { return fmt.Sprintf("%d#%d", repoID, number) }

// feedback keeps a comment, review or inline review comment on agentgate's
// pull request for the next follow-up; feedback that asks for one
// schedules it a little later, unique per pull request, so a review's
// comments arriving together become one run.
func (ev *eventJob) feedback(ctx context.Context, a jobs.Feedback) error {
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
		head, a.HeadRef, a.HeadSHA = pr.GetHead().GetRef(), pr.GetHead().GetRef(), pr.GetHead().GetSHA()
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
	// Feedback becomes part of a run's task: only from someone the
	// policy would let start a run (trust.go). An explicit request is
	// answered; an inline comment is left alone.
	if ok, err := ev.mayGiveFeedback(ctx, a.AsksFollowUp); err != nil || !ok {
		return err
	}
	key := feedbackKey(a.Event, a.ReviewID)
	if err := ev.w.DB.AddFeedback(ctx, prKey(a.RepoID, a.Number), store.FeedbackItem{
		Key: key, Author: a.ActorLogin, Body: a.Text, Path: a.Path, Line: a.Line,
	}); err != nil {
		return err
	}
	if !a.AsksFollowUp {
		return nil
	}
	next := jobs.FollowUp{Event: a.Event, HeadRef: a.HeadRef, HeadSHA: a.HeadSHA}
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
func (ev *eventJob) followUp(ctx context.Context, a jobs.FollowUp) error {
	orig, err := ev.w.DB.RunForPR(ctx, a.RepoID, a.Number)
	if err != nil {
		return err
	}
	origArgs, ok, err := ev.w.loadArgs(ctx, orig.ID)
	if err != nil {
		return err
	}
	if !ok {
		if _, revert, err := ev.w.DB.Effect(ctx, orig.ID, journal.Revert); err != nil || revert {
			if err != nil {
				return err
			}
			return ev.reply(ctx, "This pull request is a revert agentgate made without an agent: it takes no follow-up runs. Push to it, or close it and start a run on the issue.")
		}
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
		RunID: runID, DeliveryID: a.DeliveryID, Event: a.GitHubEvent, Trigger: "follow-up",
		InstallationID: a.InstallationID, RepoID: a.RepoID, Owner: a.Owner, Repo: a.Repo,
		CloneURL: origArgs.CloneURL, DefaultBranch: origArgs.DefaultBranch,
		IssueNumber: a.Number, IssueTitle: origArgs.IssueTitle, IssueBody: origArgs.IssueBody, IsPullRequest: true,
		RequesterLogin: a.ActorLogin, RequesterID: a.ActorID, RequesterType: a.ActorType, AuthorAssociation: a.AuthorAssociation,
		FollowUp: &webhook.FollowUp{PR: a.Number, Issue: origArgs.IssueNumber, Branch: a.HeadRef, HeadSHA: a.HeadSHA, Feedback: fb, Iteration: n + 1},
	}
	if a.GitHubEvent == "issue_comment" {
		args.CommentID = a.CommentID
	}
	if err := enqueue(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return err
	}
	return ev.auditOnce(ctx, orig.ID, telemetry.KindFollowUpQueued, a.ActorLogin, map[string]any{
		"new_run": runID, "pull_request": a.Number, "items": len(items), "iteration": n + 1,
	})
}
