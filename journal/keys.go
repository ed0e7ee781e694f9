package journal

import "strings"

// Key is an effect key: what one entry of a run's effects journal
// records. The constants are every fixed key; the functions below make
// the keys that carry a name.
type Key string

// Keys of a run's progress, from its delivery to its pull request.
const (
	// Received: the webhook.received audit event is written.
	Received Key = "event.received"
	// Args is the run's job, JSON: approve, retry and re-run start from it.
	Args Key = "job.args"
	// Denied is the comment saying the requester is not allowed.
	Denied Key = "comment.denied"
	// ConfigComment is the comment naming an invalid configuration line.
	ConfigComment Key = "comment.config"
	// Refused is the comment saying a control (a kill switch, the
	// budget) refused the run.
	Refused Key = "comment.refused"
	// Busy is the comment saying another run holds the issue.
	Busy Key = "comment.busy"
	// Reaction is the 👀 reaction on the trigger.
	Reaction Key = "reaction.eyes"
	// Progress is the id of the run's progress comment.
	Progress Key = "comment.progress"
	// AgentSummary is the agent's own summary of its change.
	AgentSummary Key = "agent.summary"
	// Pushed is "<sha> <branch>" of the pushed change.
	Pushed Key = "git.pushed"
	// Commit is the pushed commit's record (JSON).
	Commit Key = "git.commit"
	// PR is the pull request's number.
	PR Key = "pr.number"
	// Reviewers: the configured reviewers were requested.
	Reviewers Key = "pr.reviewers"
	// Labels: the configured labels were added.
	Labels Key = "pr.labels"
	// PREnd is the audit kind of how the run's pull request ended.
	PREnd Key = "pr.end"
	// Check is the id of the run's `agentgate` check run.
	Check Key = "check.id"
	// Done is the run's final state; a run with it is not run again.
	Done Key = "run.done"
	// Provenance is the run's signed provenance (a DSSE envelope, JSON).
	Provenance Key = "provenance"
)

// Keys of the audit events a run writes once (Once makes more).
const (
	AuthorizedEvent = Key("event.authorized")
	PendingEvent    = Key("event.pending")
	PlannedEvent    = Key("event.planned")
	PREvent         = Key("event.pr")
	CheckEvent      = Key("event.check")
	AllowlistEvent  = Key("event.allowlist")
	ProvenanceEvent = Key("event.provenance")
	// FinalEvent is the run's last event (finished, failed, denied …).
	FinalEvent = Key("event.final")
)

// Keys of cancelling a run.
const (
	// Cancel is recorded when someone asks to cancel the run; its value
	// is who asked. The run polls it (every replica sees the database).
	Cancel Key = "run.cancel"
	// CancelReason is recorded on a run cancelled by something other than
	// a person's `@agentgate cancel` (the issue closed, the comment
	// deleted): the progress comment says why.
	CancelReason Key = "run.cancel.reason"
)

// Keys of approvals: of a pending run, of a plan, of protected changes.
const (
	// RunApproved is who approved a pending run; "" once voided.
	RunApproved Key = "approved.by"
	// PendingComment is the comment saying the run waits for approval.
	PendingComment Key = "comment.pending"
	// TextApproved is the hex SHA-256 of the task text that the approval
	// of a pending or planned run, or the retry that made this run, saw;
	// "" once an approval was voided.
	TextApproved Key = "text.approved"
	// TaskSource is the JSON task source a retried run reads its text
	// from (its own trigger comment is the retry command).
	TaskSource Key = "task.source"

	// Plan is the agent's plan, bounded.
	Plan Key = "plan.text"
	// PlanDigest is the hex SHA-256 of Plan.
	PlanDigest Key = "plan.sha256"
	// PlanPolicy is the policy hash the plan was made under.
	PlanPolicy Key = "plan.policy"
	// PlanComment is the comment posting the plan.
	PlanComment Key = "comment.plan"
	// PlanApproved is who approved the plan; "" once voided.
	PlanApproved Key = "plan.approved"

	// Diff holds the unified diff of a change agentgate did not push (it
	// touches .github/workflows/), for a human to apply: `agentgate audit
	// show RUN --diff` prints it.
	Diff Key = "change.diff"
	// Protected is the JSON list of protected paths the pull request
	// changes that no approval covers; a non-empty list makes the check
	// action_required.
	Protected Key = "protected.files"
	// ProtectedEntries is the JSON map path → "<mode> <hash>" of the
	// protected changes the run's push leaves unapproved in its pull
	// request: what an approval of the run covers.
	ProtectedEntries Key = "protected.entries"
	// PolicyHash is the hash of the policy in force when the change was
	// pushed: an approval under another policy is void.
	PolicyHash Key = "policy.hash"
	// Approved is "<login> <sha>" once an approval was carried out.
	Approved Key = "approval.done"
	// ApprovalCovers is the JSON coverage a granted approval gave.
	ApprovalCovers Key = "approval.covers"
	// Released is the unmarked head pushed when CI was released.
	Released Key = "ci.released"
	// ReleasedCheck is the `agentgate` check run created on the released head.
	ReleasedCheck Key = "check.released"
)

// Keys of the other checks and pull requests a run makes.
const (
	// ExfiltrationCheck is the check run of a run stopped for a secret.
	ExfiltrationCheck Key = "check.exfiltration"
	// CanarySeed is the run's canary seed (hex): kept so the run's verify
	// command, and the job's next attempt, know the canaries its agent
	// held. Never in the audit trail or on a page.
	CanarySeed Key = "canary.seed"
	// AllowlistPR is the number of the pull request proposing hosts.
	AllowlistPR Key = "pr.allowlist"
	// VerifyCheck is the verification's check run id.
	VerifyCheck Key = "verify.check"
	// VerifyDone is the verification's conclusion.
	VerifyDone Key = "verify.done"
	// Revert is the number of the pull request a revert run reverts.
	Revert Key = "revert.of"
	// RevertCommit is "<sha> <branch>" of the pushed revert.
	RevertCommit Key = "revert.commit"
)

// Keys of an event job's own effects, under the run (or the event's own
// id) they act on.
const (
	// Reply is the event's one answer to its comment.
	Reply Key = "reply"
)

// ReactionWith is the reaction content on the event's comment.
func ReactionWith(content string) Key { return Key("reaction." + content) }

// Retried records that a retry started run newRun from this run.
func Retried(newRun string) Key { return Key("retried:" + newRun) }

// TextChanged is the comment saying the text changed after the approval
// given by delivery.
func TextChanged(delivery string) Key { return Key("comment.text_changed." + delivery) }

// ApprovalReply is the one reply to login's refused check run button.
func ApprovalReply(login string) Key { return Key("approval.reply." + strings.ToLower(login)) }

// Once is the key of audit event kind written once for delivery.
func Once(kind, delivery string) Key { return Key("audit." + kind + ":" + delivery) }

// Entry is one effect to record: a key and its value.
type Entry struct {
	Key   Key
	Value string
}
