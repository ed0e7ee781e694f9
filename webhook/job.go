package webhook

import "github.com/agentgate/agentgate/jobs"

// RunJobArgs is the durable job that intake commits for a trigger and the
// worker executes. Everything the run needs from the delivery is copied
// here, so the task is the issue text as it was at the trigger: later edits
// on GitHub do not change a run.
type RunJobArgs struct {
	// RunID is assigned at intake (a UUID) and keys every side effect.
	RunID          string `json:"run_id"`
	DeliveryID     string `json:"delivery_id" river:"unique"`
	Event          string `json:"event"`   // "issue_comment" or "issues"
	Trigger        string `json:"trigger"` // "mention" or "label"
	InstallationID int64  `json:"installation_id"`

	RepoID        int64  `json:"repo_id"`
	Owner         string `json:"owner"`
	Repo          string `json:"repo"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`

	IssueNumber int    `json:"issue_number"`
	IssueTitle  string `json:"issue_title"`
	IssueBody   string `json:"issue_body"`
	// IsPullRequest is true when the comment was made on a pull request.
	IsPullRequest bool `json:"is_pull_request,omitempty"`

	// CommentID is the triggering comment (0 for a label trigger).
	CommentID int64 `json:"comment_id,omitempty"`
	// Instructions is the comment text after the mention, if any.
	Instructions string `json:"instructions,omitempty"`

	RequesterLogin string `json:"requester_login"`
	RequesterID    int64  `json:"requester_id"`
	RequesterType  string `json:"requester_type"` // "User", "Bot", …

	// Source says where the issue text and instructions came from.
	Source *Source `json:"source,omitempty"`
	// AuthorAssociation is the comment's author_association (e.g.
	// "OUTSIDE_COLLABORATOR"), when the trigger was a comment.
	AuthorAssociation string `json:"author_association,omitempty"`

	// FollowUp is set for a run on agentgate's own pull request.
	FollowUp *FollowUp `json:"follow_up,omitempty"`
	// ApprovalDelivery is the delivery of the `@agentgate approve` that
	// released a pending run; with DeliveryID it makes the job unique.
	ApprovalDelivery string `json:"approval_delivery,omitempty" river:"unique"`
	// RetryOf is the run a retry or re-run repeats.
	RetryOf string `json:"retry_of,omitempty"`
	// Version is the arguments' version (jobs.Version when written by
	// this binary; see jobs.ArgsVersion).
	Version jobs.ArgsVersion `json:"v"`
}

// Kind implements river.JobArgs.
func (RunJobArgs) Kind() string { return "agentgate.run" }
