package webhook

// Event commands: what an EventJobArgs asks the worker to do. Besides the
// comment commands (CmdHelp …), these.
const (
	// EvFeedback is "@agentgate <feedback>" on a pull request (an issue
	// comment or an inline review comment), or a review that requests
	// changes or comments and mentions the app: a follow-up run.
	EvFeedback = "feedback"
	// EvReviewComment is an inline review comment on agentgate's pull
	// request: kept for the next follow-up, starts nothing by itself.
	EvReviewComment = "review_comment"
	// EvRerun is check_run.rerequested on agentgate's check.
	EvRerun = "rerun"
	// EvPRClosed is pull_request.closed on agentgate's branch.
	EvPRClosed = "pr_closed"
	// EvInstallation is installation.* and installation_repositories.*.
	EvInstallation = "installation"
	// EvFollowUp is the coalesced follow-up the worker schedules itself
	// (never created at intake).
	EvFollowUp = "followup"
)

// BranchPrefix starts every branch agentgate pushes ("agentgate/<n>-…").
const BranchPrefix = "agentgate/"

// RepoRef names a repository in an installation event.
type RepoRef struct {
	ID       int64  `json:"id"`
	FullName string `json:"full_name"`
}

// EventJobArgs is the durable job for every delivery that is not a new
// run: comment commands, feedback on agentgate's pull requests, check run
// re-requests, closed pull requests and installation changes. Like
// RunJobArgs it is committed before intake answers 202 and carries what
// the worker needs from the payload.
type EventJobArgs struct {
	DeliveryID string `json:"delivery_id"`
	Event      string `json:"event"`  // X-GitHub-Event
	Action     string `json:"action"` // the payload's action
	// Command is one of the Cmd or Ev constants.
	Command string `json:"command" river:"unique"`
	// RunID is the run the event names (a command's argument, a check
	// run's external id), if any.
	RunID string `json:"run_id,omitempty"`

	InstallationID      int64  `json:"installation_id"`
	InstallationAccount string `json:"installation_account,omitempty"`

	RepoID        int64  `json:"repo_id,omitempty" river:"unique"`
	Owner         string `json:"owner,omitempty"`
	Repo          string `json:"repo,omitempty"`
	CloneURL      string `json:"clone_url,omitempty"`
	DefaultBranch string `json:"default_branch,omitempty"`

	// Number is the issue or pull request the event is about.
	Number        int    `json:"number,omitempty" river:"unique"`
	IsPullRequest bool   `json:"is_pull_request,omitempty"`
	Title         string `json:"title,omitempty"`
	Body          string `json:"body,omitempty"`
	CommentID     int64  `json:"comment_id,omitempty"`
	// Text is the feedback or review comment.
	Text     string `json:"text,omitempty"`
	ReviewID int64  `json:"review_id,omitempty"`
	Path     string `json:"path,omitempty"` // an inline review comment's file
	Line     int    `json:"line,omitempty"`

	HeadRef  string `json:"head_ref,omitempty"`
	HeadSHA  string `json:"head_sha,omitempty"`
	Merged   bool   `json:"merged,omitempty"`
	MergedBy string `json:"merged_by,omitempty"`

	ActorLogin        string `json:"actor_login"`
	ActorID           int64  `json:"actor_id"`
	ActorType         string `json:"actor_type"`
	AuthorAssociation string `json:"author_association,omitempty"`

	ReposAdded   []RepoRef `json:"repos_added,omitempty"`
	ReposRemoved []RepoRef `json:"repos_removed,omitempty"`

	// AppID is the app a check suite belongs to (EvSuiteRerun).
	AppID int64 `json:"app_id,omitempty"`
	// Version is the arguments' version (see version.go).
	Version int `json:"v,omitempty"`
}

// Kind implements river.JobArgs. Fields tagged unique (command,
// repository, number) key the coalesced follow-up the worker schedules;
// intake inserts without uniqueness.
func (EventJobArgs) Kind() string { return "agentgate.event" }

// FollowUp makes a run a follow-up on agentgate's own pull request: it
// starts from the head of Branch and pushes a fast-forward commit on it.
type FollowUp struct {
	PR     int    `json:"pr"`
	Issue  int    `json:"issue"` // the issue the pull request fixes
	Branch string `json:"branch"`
	// HeadSHA is the branch head the follow-up was asked on (informative:
	// the run starts from the head it finds when it clones).
	HeadSHA string `json:"head_sha,omitempty"`
	// Feedback is the comments and review comments, in order.
	Feedback []Feedback `json:"feedback"`
	// Iteration counts the follow-ups on this pull request, this one included.
	Iteration int `json:"iteration"`
}

// Feedback is one comment a follow-up answers.
type Feedback struct {
	Author string `json:"author"`
	Body   string `json:"body"`
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
}
