package telemetry

// Event kinds of commands, approvals, risk controls and the pull request's
// end.
const (
	KindRunPending         = "run.pending"          // attrs: reason, permission, required
	KindRunApproved        = "run.approved"         // actor: the approver; attrs: requester
	KindRunCancelRequested = "run.cancel_requested" // actor: who asked
	KindRunCancelled       = "run.cancelled"        // attrs: by
	KindRunRefused         = "run.refused"          // attrs: reason (kill switch, budget, rate limit, uninstalled)
	KindPermissionRevoked  = "run.permission_revoked"
	KindRunRetried         = "run.retried"      // on the old run; attrs: new_run, by
	KindFollowUpQueued     = "run.follow_up"    // on the run that opened the PR; attrs: new_run, items
	KindPRMerged           = "pr.merged"        // actor: who merged; attrs: number, commit
	KindPRClosed           = "pr.closed"        // actor: who closed; attrs: number
	KindInstallation       = "app.installation" // attrs: action, account, repos
)

// Kinds of `@agentgate revert` (app/revert.go).
const (
	// KindRevertComputed is on the revert run: the revert agentgate made
	// itself; attrs: reverted_pull_request, reverted_run, merge_commit,
	// parent, base, base_commit, tree, paths.
	KindRevertComputed = "revert.computed"
	// KindRunReverted is on the reverted run; actor: who asked; attrs:
	// revert_run, pull_request (the revert's), reverted_pull_request,
	// merge_commit.
	KindRunReverted = "run.reverted"
)
