package telemetry

// Event kinds of approvals of protected changes and CI.
const (
	KindApprovalGranted = "approval.granted" // attrs: approver, action, commit, policy_hash
	KindApprovalRefused = "approval.refused" // attrs: login, action, reason
	KindCIReleased      = "ci.released"      // attrs: commit, held_commit, approver
	KindChangeHeld      = "change.held"      // attrs: files, reason, diff_bytes
	// KindTextChanged is the audit event of an approval or retry voided
	// because the task text changed after it was given.
	KindTextChanged = "approval.text_changed" // attrs: approved_sha256, now_sha256, reason
)

// Event kinds of the pull request's reviewers and labels.
const (
	KindReviewRequested = "pr.review_requested" // attrs: reviewers, team_reviewers
	KindLabeled         = "pr.labeled"          // attrs: labels
	KindReviewFailed    = "pr.review_request_failed"
)

// KindNetProposed records a learning-mode proposal of hosts for the
// repository's allowlist.
const KindNetProposed = "net.proposed"

// Audit kinds of a change kept for its push: the harvested, judged change
// is kept in the store before the push, so an attempt after a failed push
// (or a stopped worker) pushes it without running the agent again.
const (
	KindChangeKept  = "change.kept"  // attrs: sha256 of the kept record, files, bytes, base_commit
	KindPushResumed = "push.resumed" // attrs: sha256, files, base_commit: the agent did not run again
)
