package jobs

// RepoRef names a repository in an installation event.
type RepoRef struct {
	ID       int64  `json:"id"`
	FullName string `json:"full_name"`
}

// Command is a comment command: "@agentgate help", status, cancel,
// retry, approve or revert, on an issue or pull request.
type Command struct {
	Event
	// Name is the command word (webhook.CmdHelp …).
	Name string `json:"command"`
	// RunID is the run the command names, if any.
	RunID string `json:"run_id,omitempty"`
}

// Kind implements river.JobArgs.
func (Command) Kind() string { return "agentgate.command" }

// Handles lists the deliveries intake turns into the job.
func (Command) Handles() []string {
	return []string{"issue_comment.created", "issue_comment.edited", "pull_request_review_comment.created"}
}

// Rerun is "Re-run" on agentgate's check run (check_run.rerequested):
// the run it names is started again as a new run.
type Rerun struct {
	Event
	// RunID is the check run's external id: agentgate's run.
	RunID   string `json:"run_id"`
	HeadSHA string `json:"head_sha,omitempty"`
}

// Kind implements river.JobArgs.
func (Rerun) Kind() string { return "agentgate.rerun" }

// Handles lists the deliveries intake turns into the job.
func (Rerun) Handles() []string { return []string{"check_run.rerequested"} }

// SuiteRerun is "Re-run all checks" on a suite of agentgate's branch
// (check_suite.rerequested): the same as Rerun for the run that pushed
// the suite's head commit (the worker finds it, and checks the suite is
// its app's).
type SuiteRerun struct {
	Event
	HeadRef string `json:"head_ref,omitempty"`
	HeadSHA string `json:"head_sha,omitempty"`
	// AppID is the app the check suite belongs to.
	AppID int64 `json:"app_id,omitempty"`
}

// Kind implements river.JobArgs.
func (SuiteRerun) Kind() string { return "agentgate.suite_rerun" }

// Handles lists the deliveries intake turns into the job.
func (SuiteRerun) Handles() []string { return []string{"check_suite.rerequested"} }

// Feedback is a comment, a review or an inline review comment on
// agentgate's pull request: kept for the next follow-up, and, when it
// asks for one (FollowUp), the follow-up scheduled.
type Feedback struct {
	Event
	// AsksFollowUp is true for "@agentgate <feedback>" or a review that
	// requests changes mentioning the app; an inline review comment that
	// does not address agentgate is only kept.
	AsksFollowUp bool `json:"asks_follow_up,omitempty"`
	// Text is the feedback.
	Text     string `json:"text,omitempty"`
	ReviewID int64  `json:"review_id,omitempty"`
	// Path and Line place an inline review comment.
	Path string `json:"path,omitempty"`
	Line int    `json:"line,omitempty"`
	// HeadRef and HeadSHA are the pull request's head, when the payload
	// has it.
	HeadRef string `json:"head_ref,omitempty"`
	HeadSHA string `json:"head_sha,omitempty"`
}

// Kind implements river.JobArgs.
func (Feedback) Kind() string { return "agentgate.feedback" }

// Handles lists the deliveries intake turns into the job.
func (Feedback) Handles() []string {
	return []string{"issue_comment.created", "issue_comment.edited", "pull_request_review.submitted", "pull_request_review_comment.created"}
}

// FeedbackChange is an edited or deleted comment on agentgate's pull
// request: the feedback it gave, while no follow-up has claimed it, takes
// the new text or is dropped.
type FeedbackChange struct {
	Event
	// Dropped is true when the feedback goes: the comment was deleted,
	// or edited into no feedback, or by someone other than its author.
	Dropped bool `json:"dropped,omitempty"`
	// Text is the feedback as edited.
	Text string `json:"text,omitempty"`
	Path string `json:"path,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Kind implements river.JobArgs.
func (FeedbackChange) Kind() string { return "agentgate.feedback_change" }

// Handles lists the deliveries intake turns into the job.
func (FeedbackChange) Handles() []string {
	return []string{"issue_comment.edited", "issue_comment.deleted", "pull_request_review_comment.edited", "pull_request_review_comment.deleted"}
}

// FollowUp is the coalesced follow-up the worker schedules itself after
// feedback that asks for one (never created at intake): unique by
// repository and pull request, so a review's comments become one run.
type FollowUp struct {
	Event
	HeadRef string `json:"head_ref,omitempty"`
	HeadSHA string `json:"head_sha,omitempty"`
}

// Kind implements river.JobArgs.
func (FollowUp) Kind() string { return "agentgate.followup" }

// Handles is empty: the worker schedules the job itself, intake never
// writes it.
func (FollowUp) Handles() []string { return nil }

// PRClosed is pull_request.closed on agentgate's branch: how the
// pull request ended is recorded on its run.
type PRClosed struct {
	Event
	Merged   bool   `json:"merged,omitempty"`
	MergedBy string `json:"merged_by,omitempty"`
	HeadRef  string `json:"head_ref,omitempty"`
	HeadSHA  string `json:"head_sha,omitempty"`
}

// Kind implements river.JobArgs.
func (PRClosed) Kind() string { return "agentgate.pr_closed" }

// Handles lists the deliveries intake turns into the job.
func (PRClosed) Handles() []string { return []string{"pull_request.closed"} }

// IssueEnded is issues.closed, issues.deleted or issues.transferred
// (Action says which): the issue's active or pending run is cancelled.
type IssueEnded struct {
	Event
}

// Kind implements river.JobArgs.
func (IssueEnded) Kind() string { return "agentgate.issue_ended" }

// Handles lists the deliveries intake turns into the job.
func (IssueEnded) Handles() []string {
	return []string{"issues.closed", "issues.deleted", "issues.transferred"}
}

// CommentDeleted is issue_comment.deleted on an issue: a pending run that
// comment asked for is dropped.
type CommentDeleted struct {
	Event
}

// Kind implements river.JobArgs.
func (CommentDeleted) Kind() string { return "agentgate.comment_deleted" }

// Handles lists the deliveries intake turns into the job.
func (CommentDeleted) Handles() []string { return []string{"issue_comment.deleted"} }

// Installation is installation.* and installation_repositories.*: the
// app's access to repositories is recorded.
type Installation struct {
	Event
	// Account is the installation's account login.
	Account      string    `json:"installation_account,omitempty"`
	ReposAdded   []RepoRef `json:"repos_added,omitempty"`
	ReposRemoved []RepoRef `json:"repos_removed,omitempty"`
}

// Kind implements river.JobArgs.
func (Installation) Kind() string { return "agentgate.installation" }

// Handles lists the deliveries intake turns into the job.
func (Installation) Handles() []string { return []string{"installation", "installation_repositories"} }
