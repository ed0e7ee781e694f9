package webhook

import (
	"slices"
	"testing"

	"github.com/agentgate/agentgate/jobs"
)

// What an event job of each family is, for TestRoute: a command's word,
// else its family and flavour.
const (
	evFeedback        = "feedback"
	evReviewComment   = "review_comment"
	evFeedbackEdited  = "feedback_edited"
	evFeedbackDeleted = "feedback_deleted"
	evRerun           = "rerun"
	evSuiteRerun      = "suite_rerun"
	evPRClosed        = "pr_closed"
	evIssueEnded      = "issue_ended"
	evCommentDeleted  = "comment_deleted"
	evInstallation    = "installation"
	evCheckAction     = "check_action"
)

// jobLabel names a routed job as the evX constants do.
func jobLabel(j jobs.Job) string {
	switch j := j.(type) {
	case *jobs.Command:
		return j.Name
	case *jobs.Feedback:
		if j.AsksFollowUp {
			return evFeedback
		}
		return evReviewComment
	case *jobs.FeedbackChange:
		if j.Dropped {
			return evFeedbackDeleted
		}
		return evFeedbackEdited
	case *jobs.Rerun:
		return evRerun
	case *jobs.SuiteRerun:
		return evSuiteRerun
	case *jobs.PRClosed:
		return evPRClosed
	case *jobs.IssueEnded:
		return evIssueEnded
	case *jobs.CommentDeleted:
		return evCommentDeleted
	case *jobs.Installation:
		return evInstallation
	case *jobs.CheckAction:
		return evCheckAction
	}
	return ""
}

// routedAs is the routed job as a *T, failing the test when it is not one.
func routedAs[T any](t *testing.T, r Routed) *T {
	t.Helper()
	j, ok := any(r.Job).(*T)
	if !ok {
		t.Fatalf("routed job = %T, want *%T", r.Job, *new(T))
	}
	return j
}

func TestRoute(t *testing.T) {
	const runID = "0d9c2f8e-5b1a-4c3e-9f70-1a2b3c4d5e6f"
	// edited is issue_comment.edited on the example issue: body was from,
	// edited at (the comment was written at 15:20:21).
	edited := func(body, from, at string, more ...any) []byte {
		return payload(t, "issue_comment.created.json", append([]any{"action", "edited", "comment.body", body,
			"comment.updated_at", at, "changes.body.from", from, "installation.id", 1}, more...)...)
	}
	branch := "agentgate/1-spelling-error"
	tests := []struct {
		name    string
		event   string
		payload []byte
		run     bool   // a run job
		command string // an event job with this label
		reason  string // otherwise: nothing, for this reason
		check   func(t *testing.T, r Routed)
	}{
		{name: "task on an issue is a run", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", "@agentgate fix it", "comment.author_association", "OUTSIDE_COLLABORATOR"), run: true,
			check: func(t *testing.T, r Routed) {
				if r.Run.AuthorAssociation != "OUTSIDE_COLLABORATOR" || r.Run.Instructions != "fix it" {
					t.Errorf("run = %+v", r.Run)
				}
			}},
		{name: "command on an issue", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", "@agentgate approve "+runID), command: CmdApprove,
			check: func(t *testing.T, r Routed) {
				e := routedAs[jobs.Command](t, r)
				if e.RunID != runID || e.Number != 1 || e.ActorLogin != "Codertocat" || e.Owner != "Codertocat" || e.CommentID == 0 || e.GitHubEvent != "issue_comment" {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "command on a pull request", event: "issue_comment",
			payload: payload(t, "issue_comment.created.pull_request.json", "comment.body", "@agentgate cancel", "installation.id", 7), command: CmdCancel},
		{name: "feedback on a pull request", event: "issue_comment",
			payload: payload(t, "issue_comment.created.pull_request.json", "comment.body", "@agentgate use a map", "installation.id", 7), command: evFeedback,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Feedback](t, r); e.Text != "use a map" || !e.IsPullRequest || e.Number != 3 {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "bot comment", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", "@agentgate help", "comment.user.type", "Bot", "sender.type", "Bot"), reason: ReasonBot},
		{name: "no mention", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "comment.body", "help"), reason: ReasonNoMention},
		{name: "label", event: "issues", payload: payload(t, "issues.labeled.json", "label.name", "agentgate", "installation.id", 42), run: true},
		{name: "merged agentgate pull request", event: "pull_request",
			payload: payload(t, "pull_request.closed.merged.json", "installation.id", 3, "pull_request.head.ref", branch, "pull_request.head.repo", nil), command: evPRClosed,
			check: func(t *testing.T, r Routed) {
				e := routedAs[jobs.PRClosed](t, r)
				if !e.Merged || e.MergedBy != "ailisp" || e.HeadRef != branch || e.Number == 0 {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "closed agentgate pull request", event: "pull_request",
			payload: payload(t, "pull_request.closed.json", "pull_request.head.ref", branch, "pull_request.head.repo", nil), command: evPRClosed,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.PRClosed](t, r); e.Merged {
					t.Errorf("closed unmerged is recorded as merged: %+v", e)
				}
			}},
		{name: "someone else's branch", event: "pull_request", payload: payload(t, "pull_request.closed.merged.json", "installation.id", 3), reason: ReasonNotOurs},
		{name: "agentgate branch name from a fork", event: "pull_request",
			payload: payload(t, "pull_request.closed.merged.json", "installation.id", 3, "pull_request.head.ref", branch, "pull_request.head.repo.id", 99), reason: ReasonNotOurs},
		{name: "opened is not routed", event: "pull_request", payload: payload(t, "pull_request.opened.json"), reason: ReasonAction},
		{name: "review requesting changes from the app", event: "pull_request_review",
			payload: payload(t, "pull_request_review.submitted.json", "review.state", "changes_requested", "review.body", "@agentgate please rename x",
				"pull_request.head.ref", branch, "pull_request.head.repo", nil), command: evFeedback,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Feedback](t, r); e.Text != "@agentgate please rename x" || e.ReviewID == 0 || e.HeadRef != branch {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "review without mention", event: "pull_request_review",
			payload: payload(t, "pull_request_review.submitted.json", "review.state", "changes_requested", "review.body", "please rename x",
				"pull_request.head.ref", branch, "pull_request.head.repo", nil), reason: ReasonNoFeedback},
		{name: "approving review", event: "pull_request_review",
			payload: payload(t, "pull_request_review.submitted.json", "review.state", "approved", "review.body", "@agentgate nice",
				"pull_request.head.ref", branch, "pull_request.head.repo", nil), reason: ReasonNoFeedback},
		{name: "inline review comment", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "pull_request.head.ref", branch, "pull_request.head.repo", nil), command: evReviewComment,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Feedback](t, r); e.Path == "" || e.Text == "" {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "inline review comment with the mention", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "comment.body", "@agentgate fix this line", "pull_request.head.ref", branch, "pull_request.head.repo", nil), command: evFeedback},
		{name: "edited feedback comment on a pull request", event: "issue_comment",
			payload: payload(t, "issue_comment.created.pull_request.json", "installation.id", 3, "action", "edited", "comment.body", "@agentgate rename y instead"), command: evFeedbackEdited,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.FeedbackChange](t, r); e.Text != "rename y instead" || e.CommentID == 0 || e.Number == 0 {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "comment edited into no feedback", event: "issue_comment",
			payload: payload(t, "issue_comment.created.pull_request.json", "installation.id", 3, "action", "edited", "comment.body", "never mind"), command: evFeedbackDeleted},
		{name: "deleted comment on a pull request", event: "issue_comment",
			payload: payload(t, "issue_comment.created.pull_request.json", "installation.id", 3, "action", "deleted"), command: evFeedbackDeleted},
		{name: "comment on an issue edited to add the mention", event: "issue_comment",
			payload: edited("Thanks!\n@agentgate fix it", "Thanks!", "2019-05-15T15:25:21Z"), run: true,
			check: func(t *testing.T, r Routed) {
				if r.Run.Instructions != "fix it" || r.Run.CommentID != 492700400 || r.Key != "issue_comment/492700400" || r.Run.Trigger != TriggerMention {
					t.Errorf("routed = %+v, run %+v", r, r.Run)
				}
			}},
		{name: "edit adds a command", event: "issue_comment",
			payload: edited("@agentgate status", "what is going on?", "2019-05-15T15:21:21Z"), command: CmdStatus,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Command](t, r); r.Key != "issue_comment/492700400" || e.Action != "edited" || e.CommentID != 492700400 {
					t.Errorf("routed = %+v, event %+v", r, e)
				}
			}},
		{name: "edit after the window", event: "issue_comment",
			payload: edited("@agentgate fix it", "fix it", "2019-05-15T15:30:22Z"), reason: ReasonEditLate},
		{name: "edit of a comment that already had the mention", event: "issue_comment",
			payload: edited("@agentgate fix it, and the docs", "@agentgate fix it", "2019-05-15T15:21:21Z"), reason: ReasonEditNoMention},
		{name: "edit that quotes the mention", event: "issue_comment",
			payload: edited("> @agentgate fix it\n\nthis is how", "this is how", "2019-05-15T15:21:21Z"), reason: ReasonEditNoMention},
		{name: "edit without changes", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "action", "edited", "comment.body", "@agentgate fix", "installation.id", 1), reason: ReasonEditNoMention},
		{name: "edit by a bot", event: "issue_comment",
			payload: edited("@agentgate fix it", "fix it", "2019-05-15T15:21:21Z", "sender.type", "Bot"), reason: ReasonBot},
		// Anyone with write access may edit a member's comment; the
		// payload's author_association stays the author's.
		{name: "edit by someone other than the author", event: "issue_comment",
			payload: edited("@agentgate fix it", "fix it", "2019-05-15T15:21:21Z", "sender.id", 4242, "sender.login", "outsider"), reason: ReasonEditByOther},
		{name: "deleted comment on an issue", event: "issue_comment",
			payload: payload(t, "issue_comment.created.json", "installation.id", 3, "action", "deleted"), command: evCommentDeleted,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.CommentDeleted](t, r); e.CommentID != 492700400 || e.Number != 1 || e.IsPullRequest || r.Key != "issue_comment.deleted/492700400" {
					t.Errorf("routed = %+v, event %+v", r, e)
				}
			}},
		{name: "issue closed", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 3, "action", "closed"), command: evIssueEnded,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.IssueEnded](t, r); e.Action != "closed" || e.Number != 1 || e.GitHubEvent != "issues" || r.Key == "" {
					t.Errorf("routed = %+v, event %+v", r, e)
				}
			}},
		{name: "issue closed by a bot", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 3, "action", "closed", "sender.type", "Bot"), command: evIssueEnded},
		{name: "issue deleted", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 3, "action", "deleted"), command: evIssueEnded},
		{name: "issue transferred", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 3, "action", "transferred"), command: evIssueEnded},
		{name: "issue reopened", event: "issues",
			payload: payload(t, "issues.opened.json", "installation.id", 3, "action", "reopened"), reason: ReasonAction},
		{name: "review that comments and mentions the app", event: "pull_request_review",
			payload: payload(t, "pull_request_review.submitted.json", "review.body", "Nice. @agentgate please also update the docs", "pull_request.head.ref", branch, "pull_request.head.repo", nil, "installation.id", 3), command: evFeedback},
		{name: "review that requests changes and mentions the app", event: "pull_request_review",
			payload: payload(t, "pull_request_review.submitted.json", "review.state", "changes_requested", "review.body", "@agentgate: use a map", "pull_request.head.ref", branch, "pull_request.head.repo", nil, "installation.id", 3), command: evFeedback},
		{name: "review that approves", event: "pull_request_review",
			payload: payload(t, "pull_request_review.submitted.json", "review.state", "approved", "review.body", "@agentgate great", "pull_request.head.ref", branch, "pull_request.head.repo", nil, "installation.id", 3), reason: ReasonNoFeedback},
		{name: "review quoting the mention", event: "pull_request_review",
			payload: payload(t, "pull_request_review.submitted.json", "review.body", "> @agentgate did this\n\nfine", "pull_request.head.ref", branch, "pull_request.head.repo", nil, "installation.id", 3), reason: ReasonNoFeedback},
		{name: "inline review comment addressing the app on a later line", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "comment.body", "Hmm.\n@agentgate, use a map here", "pull_request.head.ref", branch, "pull_request.head.repo", nil), command: evFeedback,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Feedback](t, r); e.Text != "use a map here" || e.ReviewID == 0 || e.Path == "" {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "command in an inline review comment", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "comment.body", "@agentgate cancel", "pull_request.head.ref", branch, "pull_request.head.repo", nil), command: CmdCancel},
		{name: "re-run of agentgate's check suite", event: "check_suite",
			payload: payload(t, "check_suite.requested.json", "action", "rerequested", "check_suite.head_branch", branch, "installation.id", 3), command: evSuiteRerun,
			check: func(t *testing.T, r Routed) {
				e := routedAs[jobs.SuiteRerun](t, r)
				if e.HeadSHA != "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" || e.HeadRef != branch || e.AppID != 29310 || e.GitHubEvent != "check_suite" || r.Key == "" {
					t.Errorf("routed = %+v, event %+v", r, e)
				}
			}},
		{name: "re-run of another branch's check suite", event: "check_suite",
			payload: payload(t, "check_suite.requested.json", "action", "rerequested", "installation.id", 3), reason: ReasonNotOurs},
		{name: "check suite requested is not routed", event: "check_suite",
			payload: payload(t, "check_suite.requested.json", "check_suite.head_branch", branch, "installation.id", 3), reason: ReasonAction},
		{name: "edited inline review comment", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "action", "edited", "comment.body", "use a map"), command: evFeedbackEdited,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.FeedbackChange](t, r); e.Text != "use a map" || e.CommentID == 0 || e.GitHubEvent != "pull_request_review_comment" {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "feedback comment edited by someone other than its author", event: "issue_comment",
			payload: payload(t, "issue_comment.created.pull_request.json", "installation.id", 3, "action", "edited", "comment.body", "@agentgate rename y instead", "sender.id", 4242), command: evFeedbackDeleted},
		{name: "inline review comment edited by someone other than its author", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "action", "edited", "comment.body", "use a map", "sender.id", 4242), command: evFeedbackDeleted},
		{name: "inline review comment edited by a bot", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "action", "edited", "sender.type", "Bot"), command: evFeedbackDeleted},
		{name: "deleted inline review comment", event: "pull_request_review_comment",
			payload: payload(t, "pull_request_review_comment.created.json", "action", "deleted"), command: evFeedbackDeleted},
		{name: "re-run of agentgate's check", event: "check_run",
			payload: payload(t, "check_run.rerequested.json", "check_run.name", "agentgate", "check_run.external_id", runID), command: evRerun,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Rerun](t, r); e.RunID != runID || e.InstallationID == 0 {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "re-run of another check", event: "check_run", payload: payload(t, "check_run.rerequested.json"), reason: ReasonNotOurs},
		{name: "requested_action on another button", event: "check_run", payload: payload(t, "check_run.requested_action.json"), reason: "not one of agentgate's buttons"},
		{name: "requested_action on agentgate's button", event: "check_run", payload: payload(t, "check_run.requested_action.json", "requested_action.identifier", "approve", "check_run.external_id", runID),
			command: evCheckAction,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.CheckAction](t, r); e.RunID != runID || e.Identifier != jobs.ActionApprove {
					t.Errorf("routed = %+v", e)
				}
			}},
		{name: "check_run.completed is not routed", event: "check_run", payload: payload(t, "check_run.rerequested.json", "action", "completed"), reason: ReasonAction},
		{name: "installation created", event: "installation", payload: payload(t, "installation.created.json"), command: evInstallation,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Installation](t, r); e.Action != "created" || e.Account != "Codertocat" || len(e.ReposAdded) == 0 {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "installation deleted", event: "installation", payload: payload(t, "installation.deleted.json"), command: evInstallation},
		{name: "repositories added", event: "installation_repositories", payload: payload(t, "installation_repositories.added.json"), command: evInstallation,
			check: func(t *testing.T, r Routed) {
				if e := routedAs[jobs.Installation](t, r); e.GitHubEvent != "installation_repositories" || len(e.ReposAdded) != 1 || e.ReposAdded[0].FullName != "Codertocat/Space" {
					t.Errorf("event = %+v", e)
				}
			}},
		{name: "push is not routed", event: "push", payload: []byte(`{"ref":"refs/heads/main"}`), reason: ReasonEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, reason, err := Route(tt.event, tt.payload, Config{EditWindow: DefaultEditWindow})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.run:
				if r.Run == nil || r.Job != nil {
					t.Fatalf("Route = %+v (%s), want a run", r, reason)
				}
			case tt.command != "":
				if r.Job == nil || r.Run != nil || jobLabel(r.Job) != tt.command {
					t.Fatalf("Route = %+v (%s), want event %s", r, reason, tt.command)
				}
			case tt.check != nil && tt.reason == "":
			default:
				if r.Run != nil || r.Job != nil || reason != tt.reason {
					t.Fatalf("Route = %+v, %q; want nothing, %q", r, reason, tt.reason)
				}
			}
			if r.Job != nil {
				var action string
				if b, ok := r.Job.(interface{ Base() *jobs.Event }); ok {
					action = b.Base().Action
				} else if a, ok := r.Job.(*jobs.CheckAction); ok {
					action = a.Common().Action
				}
				// The job's family declares the delivery it came from.
				if !slices.Contains(r.Job.Handles(), tt.event+"."+action) && !slices.Contains(r.Job.Handles(), tt.event) {
					t.Errorf("%s.%s routed to %s, whose Handles %q lack it", tt.event, action, r.Job.Kind(), r.Job.Handles())
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestRouteMalformed(t *testing.T) {
	for _, ev := range []string{"issue_comment", "issues", "pull_request", "pull_request_review", "check_run", "check_suite", "installation", "push"} {
		if _, _, err := Route(ev, []byte(`[1,2]`), Config{}); err == nil {
			t.Errorf("Route(%s, array) = nil error", ev)
		}
	}
}
