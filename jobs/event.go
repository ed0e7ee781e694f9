package jobs

import (
	"strconv"

	"github.com/riverqueue/river"
)

// Version is the version of the job arguments this binary writes and
// understands. Every job's arguments carry it ("v"); a job written before
// versions existed reads as 0 and is understood as version 1. Raise it
// when a change to a job's arguments means an older worker would do the
// wrong thing with the job; a worker that meets a newer version snoozes
// the job instead of working or failing it, so a rolling upgrade leaves
// it to an upgraded worker.
const Version = 1

// Newer reports whether a job's version v is newer than this binary knows.
func Newer(v int) bool { return v > Version }

// ArgsVersion is the version field ("v") of a job's arguments. A zero
// value (a job built by this binary) is written as Version, so every job
// written carries the version it was written in, whoever built it.
type ArgsVersion int

// MarshalJSON writes the version, Version when v is zero.
func (v ArgsVersion) MarshalJSON() ([]byte, error) {
	if v == 0 {
		v = Version
	}
	return strconv.AppendInt(nil, int64(v), 10), nil
}

// QueueEvents is the River queue of event and button-click jobs: comment
// commands (cancel, approve, status), feedback, closed pull requests and
// installation changes. They are short (a few API calls) and have their
// own worker slots, so they never wait behind runs that hold every run
// slot for an hour — a maintainer's cancel reaches a run at once.
const QueueEvents = "events"

// Event is what every event job carries: the delivery, the repository,
// the issue or pull request it is about, and who acted. The JSON names
// are those of the single event job earlier versions wrote (Legacy).
type Event struct {
	DeliveryID  string `json:"delivery_id"`
	GitHubEvent string `json:"event"`  // X-GitHub-Event
	Action      string `json:"action"` // the payload's action

	InstallationID int64 `json:"installation_id"`

	// RepoID and Number key a coalesced follow-up (FollowUp, inserted
	// unique by its arguments); intake inserts without uniqueness.
	RepoID        int64  `json:"repo_id,omitempty" river:"unique"`
	Owner         string `json:"owner,omitempty"`
	Repo          string `json:"repo,omitempty"`
	CloneURL      string `json:"clone_url,omitempty"`
	DefaultBranch string `json:"default_branch,omitempty"`

	// Number is the issue or pull request the event is about.
	Number        int   `json:"number,omitempty" river:"unique"`
	IsPullRequest bool  `json:"is_pull_request,omitempty"`
	CommentID     int64 `json:"comment_id,omitempty"`

	ActorLogin        string `json:"actor_login"`
	ActorID           int64  `json:"actor_id"`
	ActorType         string `json:"actor_type"`
	AuthorAssociation string `json:"author_association,omitempty"`

	// Version is the arguments' version.
	Version ArgsVersion `json:"v"`
}

// Common is the event's common part (every family's job has it).
func (e Event) Common() Event { return e }

// InsertOpts puts event jobs on QueueEvents.
func (Event) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueEvents} }

// Job is one event family's job arguments.
type Job interface {
	river.JobArgs
	// Common is what every event job carries.
	Common() Event
	// Handles lists the deliveries ("event.action", or "event" for
	// every action) intake turns into the family's job: the one place
	// that says which family a delivery belongs to.
	Handles() []string
}

// Base is the event's common part, for intake to fill in (the delivery
// id, the event's name).
func (e *Event) Base() *Event { return e }
