package webhook

import (
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v62/github"
)

// Commands for edited and deleted comments on agentgate's pull requests:
// feedback kept for the next follow-up follows its comment.
const (
	// EvFeedbackEdited is issue_comment.edited or
	// pull_request_review_comment.edited: the kept feedback takes the new
	// text (Text), if its editor may still give feedback.
	EvFeedbackEdited = "feedback_edited"
	// EvFeedbackDeleted is issue_comment.deleted or
	// pull_request_review_comment.deleted, or an edit that leaves a
	// comment no longer feedback: the kept feedback is dropped.
	EvFeedbackDeleted = "feedback_deleted"
)

// ReasonNotFeedback: an edited or deleted comment that is not on a pull
// request.
const ReasonNotFeedback = "comment is not on a pull request"

// routeCommentChange routes issue_comment.edited and .deleted on a pull
// request: the feedback the comment gave is updated or dropped. Nothing
// is started.
func routeCommentChange(payload []byte, cfg Config) (Routed, string, error) {
	var ev github.IssueCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload: %w", err)
	}
	if ev.Issue == nil || ev.Comment == nil || ev.Repo == nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload lacks issue, comment or repository")
	}
	if !ev.Issue.IsPullRequest() {
		return Routed{}, ReasonNotFeedback, nil
	}
	if ev.GetInstallation().GetID() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	e := commentChange(ev.GetAction(), ev.Installation, ev.Repo, ev.GetSender())
	e.Number, e.IsPullRequest, e.CommentID = ev.Issue.GetNumber(), true, ev.Comment.GetID()
	e.AuthorAssociation = ev.Comment.GetAuthorAssociation()
	// Feedback by comment is a mention with text that is no command.
	cmd, ok := ParseCommand(ev.Comment.GetBody(), cfg.Mention)
	if e.Command == EvFeedbackEdited && (!ok || cmd.Name != "" || isBot(ev.GetSender())) {
		e.Command = EvFeedbackDeleted
	}
	e.Text = cmd.Text
	return Routed{Event: e}, "", nil
}

// routeReviewCommentChange routes pull_request_review_comment.edited and
// .deleted.
func routeReviewCommentChange(payload []byte, cfg Config) (Routed, string, error) {
	var ev github.PullRequestReviewCommentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review_comment payload: %w", err)
	}
	if ev.Repo == nil || ev.PullRequest == nil || ev.Comment == nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review_comment payload lacks repository, pull_request or comment")
	}
	if ev.GetInstallation().GetID() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	e := commentChange(ev.GetAction(), ev.Installation, ev.Repo, ev.GetSender())
	c := ev.Comment
	e.Number, e.IsPullRequest, e.CommentID = ev.PullRequest.GetNumber(), true, c.GetID()
	e.Path, e.Line, e.AuthorAssociation = c.GetPath(), c.GetLine(), c.GetAuthorAssociation()
	e.Text = c.GetBody()
	if text, ok := ParseMention(c.GetBody(), cfg.Mention); ok {
		e.Text = text
	}
	if e.Command == EvFeedbackEdited && isBot(ev.GetSender()) {
		e.Command = EvFeedbackDeleted
	}
	return Routed{Event: e}, "", nil
}

// commentChange is the event job of an edit or deletion.
func commentChange(action string, inst *github.Installation, repo *github.Repository, sender *github.User) *EventJobArgs {
	cmd := EvFeedbackDeleted
	if action == "edited" {
		cmd = EvFeedbackEdited
	}
	return &EventJobArgs{
		Action: action, Command: cmd, InstallationID: inst.GetID(),
		RepoID: repo.GetID(), Owner: repo.GetOwner().GetLogin(), Repo: repo.GetName(),
		CloneURL: repo.GetCloneURL(), DefaultBranch: repo.GetDefaultBranch(),
		ActorLogin: sender.GetLogin(), ActorID: sender.GetID(), ActorType: sender.GetType(),
	}
}
