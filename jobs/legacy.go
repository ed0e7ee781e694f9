package jobs

import (
	"fmt"
)

// Commands of Legacy jobs besides the comment commands (whose Command is
// the command word).
const (
	legacyFeedback        = "feedback"
	legacyReviewComment   = "review_comment"
	legacyRerun           = "rerun"
	legacyPRClosed        = "pr_closed"
	legacyInstallation    = "installation"
	legacyFollowUp        = "followup"
	legacyIssueEnded      = "issue_ended"
	legacyCommentDeleted  = "comment_deleted"
	legacySuiteRerun      = "suite_rerun"
	legacyFeedbackEdited  = "feedback_edited"
	legacyFeedbackDeleted = "feedback_deleted"
)

// Legacy is the single "agentgate.event" job that agentgate wrote for
// every event family before each had its own kind (job version 1). A
// worker still reads it: Job turns it into its family's job, which the
// family's handler works. Nothing writes it any more.
type Legacy struct {
	Event
	// Command said which family: a comment command's word, or one of
	// the legacy* constants.
	Command string `json:"command"`
	RunID   string `json:"run_id,omitempty"`

	InstallationAccount string `json:"installation_account,omitempty"`

	Text     string `json:"text,omitempty"`
	ReviewID int64  `json:"review_id,omitempty"`
	Path     string `json:"path,omitempty"`
	Line     int    `json:"line,omitempty"`

	HeadRef  string `json:"head_ref,omitempty"`
	HeadSHA  string `json:"head_sha,omitempty"`
	Merged   bool   `json:"merged,omitempty"`
	MergedBy string `json:"merged_by,omitempty"`

	ReposAdded   []RepoRef `json:"repos_added,omitempty"`
	ReposRemoved []RepoRef `json:"repos_removed,omitempty"`

	AppID int64 `json:"app_id,omitempty"`
}

// Kind implements river.JobArgs.
func (Legacy) Kind() string { return "agentgate.event" }

// Job is the family job the legacy job stands for. commands lists the
// comment command words; any other unknown command is an error.
func (l Legacy) Job(commands []string) (Job, error) {
	e := l.Event
	switch l.Command {
	case legacyFeedback, legacyReviewComment:
		return Feedback{Event: e, AsksFollowUp: l.Command == legacyFeedback, Text: l.Text, ReviewID: l.ReviewID,
			Path: l.Path, Line: l.Line, HeadRef: l.HeadRef, HeadSHA: l.HeadSHA}, nil
	case legacyFeedbackEdited, legacyFeedbackDeleted:
		return FeedbackChange{Event: e, Dropped: l.Command == legacyFeedbackDeleted, Text: l.Text, Path: l.Path, Line: l.Line}, nil
	case legacyRerun:
		return Rerun{Event: e, RunID: l.RunID, HeadSHA: l.HeadSHA}, nil
	case legacySuiteRerun:
		return SuiteRerun{Event: e, HeadRef: l.HeadRef, HeadSHA: l.HeadSHA, AppID: l.AppID}, nil
	case legacyFollowUp:
		return FollowUp{Event: e, HeadRef: l.HeadRef, HeadSHA: l.HeadSHA}, nil
	case legacyPRClosed:
		return PRClosed{Event: e, Merged: l.Merged, MergedBy: l.MergedBy, HeadRef: l.HeadRef, HeadSHA: l.HeadSHA}, nil
	case legacyIssueEnded:
		return IssueEnded{Event: e}, nil
	case legacyCommentDeleted:
		return CommentDeleted{Event: e}, nil
	case legacyInstallation:
		return Installation{Event: e, Account: l.InstallationAccount, ReposAdded: l.ReposAdded, ReposRemoved: l.ReposRemoved}, nil
	}
	for _, c := range commands {
		if l.Command == c {
			return Command{Event: e, Name: l.Command, RunID: l.RunID}, nil
		}
	}
	return nil, fmt.Errorf("jobs: legacy event job: unknown command %q", l.Command)
}
