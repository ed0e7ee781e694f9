package jobs

import (
	"github.com/riverqueue/river"
)

// Identifiers of the buttons agentgate puts on its check run.
const (
	// ActionApprove approves a change to protected paths (and releases CI).
	ActionApprove = "approve"
	// ActionCI releases the repository's CI on agentgate's commit.
	ActionCI = "ci"
)

// CheckAction is a click on one of agentgate's check run buttons
// (check_run.requested_action). The worker checks everything: that the
// check run is agentgate's, who clicked, and whether the approval still
// applies. Its JSON is that of earlier versions' check action job.
type CheckAction struct {
	DeliveryID     string `json:"delivery_id"`
	InstallationID int64  `json:"installation_id"`
	RepoID         int64  `json:"repo_id"`
	Owner          string `json:"owner"`
	Repo           string `json:"repo"`
	DefaultBranch  string `json:"default_branch"`

	CheckRunID int64  `json:"check_run_id"`
	CheckName  string `json:"check_name"`
	HeadSHA    string `json:"head_sha"`
	HeadBranch string `json:"head_branch"`
	// RunID is the check run's external_id: agentgate's run.
	RunID      string `json:"run_id"`
	AppID      int64  `json:"app_id"`
	Identifier string `json:"identifier"`

	SenderLogin string `json:"sender_login"`
	SenderID    int64  `json:"sender_id"`
	SenderType  string `json:"sender_type"`
	// Version is the arguments' version.
	Version ArgsVersion `json:"v"`
}

// Kind implements river.JobArgs.
func (CheckAction) Kind() string { return "agentgate.check_action" }

// InsertOpts puts button clicks on QueueEvents.
func (CheckAction) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueEvents} }

// Common is the click as an event: the sender is its actor; it is about
// no issue (the run's pull request is found from the run).
func (a CheckAction) Common() Event {
	return Event{
		DeliveryID: a.DeliveryID, GitHubEvent: "check_run", Action: "requested_action", InstallationID: a.InstallationID,
		RepoID: a.RepoID, Owner: a.Owner, Repo: a.Repo, DefaultBranch: a.DefaultBranch,
		ActorLogin: a.SenderLogin, ActorID: a.SenderID, ActorType: a.SenderType, Version: a.Version,
	}
}

// Handles lists the deliveries intake turns into the job.
func (CheckAction) Handles() []string { return []string{"check_run.requested_action"} }
