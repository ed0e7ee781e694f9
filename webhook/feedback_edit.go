package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
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

// commentChangePayload is what an edited or deleted comment's delivery
// is read for: only these fields, so nothing else in it can make the
// delivery malformed.
type commentChangePayload struct {
	Action string `json:"action"`
	Issue  *struct {
		Number      int             `json:"number"`
		PullRequest json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	PullRequest *struct {
		Number int `json:"number"`
	} `json:"pull_request"`
	Comment *struct {
		ID                int64  `json:"id"`
		Body              string `json:"body"`
		Path              string `json:"path"`
		Line              int    `json:"line"`
		AuthorAssociation string `json:"author_association"`
		// UpdatedAt is kept raw: it only makes the replay key.
		UpdatedAt json.RawMessage `json:"updated_at"`
	} `json:"comment"`
	Repository *struct {
		ID            int64  `json:"id"`
		Name          string `json:"name"`
		CloneURL      string `json:"clone_url"`
		DefaultBranch string `json:"default_branch"`
		Owner         struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Sender *struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
		Type  string `json:"type"`
	} `json:"sender"`
}

// routeCommentChange routes issue_comment.edited and .deleted on a pull
// request: the feedback the comment gave is updated or dropped. Nothing
// is started.
func routeCommentChange(payload []byte, cfg Config) (Routed, string, error) {
	var ev commentChangePayload
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload: %w", err)
	}
	if ev.Issue == nil || ev.Comment == nil || ev.Repository == nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload lacks issue, comment or repository")
	}
	if len(ev.Issue.PullRequest) == 0 || string(ev.Issue.PullRequest) == "null" {
		return Routed{}, ReasonNotFeedback, nil
	}
	e, reason := ev.job()
	if e == nil {
		return Routed{}, reason, nil
	}
	e.Number = ev.Issue.Number
	// Feedback by comment is a mention with text that is no command.
	cmd, ok := ParseCommand(ev.Comment.Body, cfg.Mention)
	if e.Command == EvFeedbackEdited && (!ok || cmd.Name != "") {
		e.Command = EvFeedbackDeleted
	}
	e.Text = cmd.Text
	return Routed{Event: e, Key: ev.replayKey("issue_comment")}, "", nil
}

// routeReviewCommentChange routes pull_request_review_comment.edited and
// .deleted.
func routeReviewCommentChange(payload []byte, cfg Config) (Routed, string, error) {
	var ev commentChangePayload
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review_comment payload: %w", err)
	}
	if ev.Repository == nil || ev.PullRequest == nil || ev.Comment == nil {
		return Routed{}, "", fmt.Errorf("webhook: pull_request_review_comment payload lacks repository, pull_request or comment")
	}
	e, reason := ev.job()
	if e == nil {
		return Routed{}, reason, nil
	}
	e.Number = ev.PullRequest.Number
	e.Path, e.Line = ev.Comment.Path, ev.Comment.Line
	e.Text = ev.Comment.Body
	if text, ok := ParseMention(ev.Comment.Body, cfg.Mention); ok {
		e.Text = text
	}
	return Routed{Event: e, Key: ev.replayKey("pull_request_review_comment")}, "", nil
}

// replayKey is the replay key of an edit (the comment as of its
// updated_at: a signed edit delivered again under a new delivery id is a
// duplicate, a later edit is not) or of a deletion (once per comment).
func (ev *commentChangePayload) replayKey(event string) string {
	if ev.Action == "deleted" {
		return fmt.Sprintf("%s.deleted/%d", event, ev.Comment.ID)
	}
	return fmt.Sprintf("%s.%s/%d/%s", event, ev.Action, ev.Comment.ID, capped(string(ev.Comment.UpdatedAt)))
}

// job is the event job of an edit or deletion (nil and the reason when
// there is none). An edit by a bot drops the feedback.
func (ev *commentChangePayload) job() (*EventJobArgs, string) {
	if ev.Installation == nil || ev.Installation.ID == 0 {
		return nil, ReasonInstallation
	}
	cmd := EvFeedbackDeleted
	if ev.Action == "edited" {
		cmd = EvFeedbackEdited
	}
	var login, typ string
	var id int64
	if s := ev.Sender; s != nil {
		login, typ, id = s.Login, s.Type, s.ID
	}
	if ev.Sender == nil || strings.EqualFold(typ, "Bot") || strings.HasSuffix(strings.ToLower(login), "[bot]") {
		cmd = EvFeedbackDeleted
	}
	r := ev.Repository
	return &EventJobArgs{
		Action: ev.Action, Command: cmd, InstallationID: ev.Installation.ID,
		RepoID: r.ID, Owner: r.Owner.Login, Repo: r.Name, CloneURL: r.CloneURL, DefaultBranch: r.DefaultBranch,
		IsPullRequest: true, CommentID: ev.Comment.ID, AuthorAssociation: ev.Comment.AuthorAssociation,
		ActorLogin: login, ActorID: id, ActorType: typ,
	}, ""
}
