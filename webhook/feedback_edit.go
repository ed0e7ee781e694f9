package webhook

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/jobs"
)

// ReasonNotFeedback: an edited or deleted comment that is not on a pull
// request.
const ReasonNotFeedback = "comment is not on a pull request"

// Why an edited comment on an issue starts nothing.
const (
	ReasonEditNoMention = "edit does not add the mention"
	ReasonEditLate      = "edit is later than the edit trigger window"
	// ReasonEditByOther: a comment edited by someone other than its author
	// (anyone with write access may edit any comment) speaks for neither:
	// it starts nothing, and feedback it gave is dropped.
	ReasonEditByOther = "comment edited by someone other than its author"
)

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
		User              *struct {
			ID int64 `json:"id"`
		} `json:"user"`
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

// routeCommentChange routes issue_comment.edited and .deleted. On a pull
// request the feedback the comment gave is updated or dropped; nothing is
// started. On an issue, an edit that adds the mention soon after the
// comment was written is a trigger (routeCommentEdit), and a deletion
// drops a pending run the comment asked for.
func routeCommentChange(payload []byte, cfg Config) (Routed, string, error) {
	var ev commentChangePayload
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload: %w", err)
	}
	if ev.Issue == nil || ev.Comment == nil || ev.Repository == nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload lacks issue, comment or repository")
	}
	if len(ev.Issue.PullRequest) == 0 || string(ev.Issue.PullRequest) == "null" {
		if ev.Action == "edited" {
			return routeCommentEdit(payload, cfg)
		}
		e, _, reason := ev.job("issue_comment")
		if e == nil {
			return Routed{}, reason, nil
		}
		e.Number, e.IsPullRequest = ev.Issue.Number, false
		return Routed{Job: &jobs.CommentDeleted{Event: *e}, Key: ev.replayKey("issue_comment")}, "", nil
	}
	e, dropped, reason := ev.job("issue_comment")
	if e == nil {
		return Routed{}, reason, nil
	}
	e.Number = ev.Issue.Number
	// Feedback by comment is a mention with text that is no command.
	cmd, ok := ParseCommand(ev.Comment.Body, cfg.Mention)
	if !ok || cmd.Name != "" {
		dropped = true
	}
	return Routed{Job: &jobs.FeedbackChange{Event: *e, Dropped: dropped, Text: cmd.Text}, Key: ev.replayKey("issue_comment")}, "", nil
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
	e, dropped, reason := ev.job("pull_request_review_comment")
	if e == nil {
		return Routed{}, reason, nil
	}
	e.Number = ev.PullRequest.Number
	fc := &jobs.FeedbackChange{Event: *e, Dropped: dropped, Text: ev.Comment.Body, Path: ev.Comment.Path, Line: ev.Comment.Line}
	if text, ok := ParseMention(ev.Comment.Body, cfg.Mention); ok {
		fc.Text = text
	}
	return Routed{Job: fc, Key: ev.replayKey("pull_request_review_comment")}, "", nil
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

// job is the common part of an edit's or a deletion's event job (nil and
// the reason when there is none), and whether it drops the feedback: a
// deletion, or an edit by a bot.
func (ev *commentChangePayload) job(event string) (*jobs.Event, bool, string) {
	if ev.Installation == nil || ev.Installation.ID == 0 {
		return nil, false, ReasonInstallation
	}
	dropped := ev.Action != "edited"
	var login, typ string
	var id int64
	if s := ev.Sender; s != nil {
		login, typ, id = s.Login, s.Type, s.ID
	}
	if ev.Sender == nil || strings.EqualFold(typ, "Bot") || strings.HasSuffix(strings.ToLower(login), "[bot]") {
		dropped = true
	}
	// The comment's author_association is its author's, not the
	// editor's: an edit by anyone else (ReasonEditByOther) drops the
	// feedback rather than lend the editor the author's standing.
	if ev.Comment.User == nil || ev.Comment.User.ID != id {
		dropped = true
	}
	r := ev.Repository
	return &jobs.Event{
		GitHubEvent: event, Action: ev.Action, InstallationID: ev.Installation.ID,
		RepoID: r.ID, Owner: r.Owner.Login, Repo: r.Name, CloneURL: r.CloneURL, DefaultBranch: r.DefaultBranch,
		IsPullRequest: true, CommentID: ev.Comment.ID, AuthorAssociation: ev.Comment.AuthorAssociation,
		ActorLogin: login, ActorID: id, ActorType: typ,
	}, dropped, ""
}

// commentEditEvent is an issue_comment.edited delivery read as a possible
// trigger: the comment event and the body before the edit.
type commentEditEvent struct {
	commentEvent
	Changes *struct {
		Body *struct {
			From string `json:"from"`
		} `json:"body"`
	} `json:"changes"`
}

// routeCommentEdit: a comment on an issue edited to add the mention, by a
// person, within cfg.EditWindow of the comment's creation (both times
// from the signed payload), acts as the comment would have had it been
// written so: a run or a command. It shares the comment's replay key
// (commentKey), so a comment acts at most once, whether when written or
// on one edit: removing the mention and adding it again does nothing.
func routeCommentEdit(payload []byte, cfg Config) (Routed, string, error) {
	var ev commentEditEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload: %w", err)
	}
	if ev.Issue == nil || ev.Comment == nil || ev.Repo == nil {
		return Routed{}, "", fmt.Errorf("webhook: issue_comment payload lacks issue, comment or repository")
	}
	c := ev.Comment
	if isBot(ev.Sender) || isBot(c.User) {
		return Routed{}, ReasonBot, nil
	}
	if ev.Changes == nil || ev.Changes.Body == nil {
		return Routed{}, ReasonEditNoMention, nil
	}
	if _, before := ParseMention(ev.Changes.Body.From, cfg.Mention); before {
		return Routed{}, ReasonEditNoMention, nil
	}
	instructions, ok := ParseMention(c.Body, cfg.Mention)
	if !ok {
		return Routed{}, ReasonEditNoMention, nil
	}
	if cfg.EditWindow <= 0 || c.CreatedAt.IsZero() || c.UpdatedAt.IsZero() || c.UpdatedAt.Sub(c.CreatedAt.Time) > cfg.EditWindow {
		return Routed{}, ReasonEditLate, nil
	}
	if ev.Installation.id() == 0 {
		return Routed{}, ReasonInstallation, nil
	}
	// Only the comment's author may turn it into a request by editing: the
	// payload's author_association is the author's, and it decides
	// whether the requester must wait for a maintainer.
	if c.User.id() == 0 || c.User.id() != ev.Sender.id() {
		return Routed{}, ReasonEditByOther, nil
	}
	// The editor asks: who changed the text answers for it.
	args := baseArgs("issue_comment", TriggerMention, ev.Installation, ev.Repo, ev.Issue, ev.Sender)
	args.CommentID = c.ID
	args.Instructions = instructions
	args.Source = sourceOf(ev.Issue, c)
	args.AuthorAssociation = c.AuthorAssociation
	return commentRouted(args, commentKey("issue_comment", c.ID), c.Body, "edited", cfg), "", nil
}
