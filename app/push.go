package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// commitAndPush commits the harvested change and pushes it to the run's
// branch, through the Git Data API or a go-git push. A change to
// .github/workflows/ is committed locally only: its diff is kept on the
// run and the run fails with the explanation. It returns the recorded
// push ("<sha> <branch>"), or an outcome and reason when nothing was pushed.
func (r *run) commitAndPush(ctx context.Context, att *sandbox.Attempt) (pushed string, outcome sandbox.Outcome, reason string, err error) {
	a := r.args
	w := r.w
	eff := r.effective()
	branch := r.pushBranch()
	free := gitops.CommitMessage(r.sourceIssue(), a.IssueTitle, a.RunID, gitops.Signature{
		Name:  a.RequesterLogin,
		Email: fmt.Sprintf("%d+%s@users.noreply.github.com", a.RequesterID, a.RequesterLogin),
	})
	msg := free
	if eff.CIHold {
		msg = holdMessage(free)
	}
	now := r.commitTime() // pushkeep.go: a resumed push makes the same commit
	sha, err := att.Workspace.Commit(ctx, att.Change, msg, gitops.Signature{
		Name: w.Config.BotLogin(), Email: w.Config.AppSlug + "[bot]@users.noreply.github.com", When: now,
	})
	if err != nil {
		return "", "", "", fmt.Errorf("commit: %w", err)
	}
	if err := r.auditEvent(ctx, telemetry.KindGitCommitted, "agentgate", map[string]any{"commit": sha, "files": len(att.Change.Files)}); err != nil {
		return "", "", "", err
	}
	if len(att.Workflows) > 0 {
		reason, err := r.holdWorkflows(ctx, att, sha)
		return "", sandbox.OutcomeRejected, reason, err
	}
	info, err := att.Workspace.Info(sha)
	if err != nil {
		return "", "", "", err
	}
	// Protected paths are judged on the pull request: its whole change
	// against the default branch, less what approvals on it covered.
	prot, protEntries, err := r.prProtected(ctx, att.Workspace, sha, info, eff.Hash())
	if err != nil {
		return "", "", "", err
	}
	if reason, err := r.recheckPermission(ctx); err != nil || reason != "" {
		return "", sandbox.OutcomeRejected, reason, err
	}
	method := commitMethod(eff.CommitMethod, att.Change)
	if err := r.requireLease(ctx); err != nil {
		return "", "", "", err
	}
	if !r.forcePush() {
		// A follow-up only fast-forwards its branch; the Git Data API path
		// moves the ref by force.
		method = methodGit
	}
	if method == methodAPI {
		gh, err := w.Clients.Installation(a.InstallationID, pushScope(a.RepoID))
		if err != nil {
			return "", "", "", err
		}
		local := sha
		if err := retryPush(ctx, r.log, func(ctx context.Context) error {
			var err error
			sha, err = apiCommit(ctx, gh, a.Owner, a.Repo, att.Workspace, att.Change, info, msg, branch)
			if err != nil {
				sha = local
			}
			return err
		}); err != nil {
			return "", "", "", err
		}
	} else {
		pushTok, err := w.Clients.Token(ctx, a.InstallationID, pushScope(a.RepoID))
		if err != nil {
			return "", "", "", err
		}
		if err := retryPush(ctx, r.log, func(ctx context.Context) error {
			return att.Workspace.Push(ctx, gitops.PushOptions{URL: a.CloneURL, Token: pushTok, Commit: sha, Branch: branch, Force: r.forcePush()})
		}); err != nil {
			if !r.forcePush() && branchMoved(err) {
				return "", sandbox.OutcomeFailed, "the branch " + branch + " moved while the agent worked (a push or force-push); the change was not pushed over it. Ask again to start from its new head", nil
			}
			return "", "", "", fmt.Errorf("push: %w", err)
		}
	}
	// What an approval needs later: the commit, the protected paths and
	// the policy it was pushed under. Recorded before the push itself is,
	// so a recorded push always has them.
	pc := pushedCommit{SHA: sha, Branch: branch, Tree: info.Tree, Parent: info.Parent, Message: free, Held: eff.CIHold, Method: method}
	pcJSON, _ := json.Marshal(pc)
	protJSON, _ := json.Marshal(prot)
	entriesJSON, _ := json.Marshal(protEntries)
	for _, e := range []journal.Entry{
		{Key: journal.Commit, Value: string(pcJSON)}, {Key: journal.Protected, Value: string(protJSON)},
		{Key: journal.ProtectedEntries, Value: string(entriesJSON)}, {Key: journal.PolicyHash, Value: eff.Hash()},
	} {
		if err := w.DB.RecordEffect(ctx, a.RunID, e.Key, e.Value); err != nil {
			return "", "", "", fmt.Errorf("record %s: %w", e.Key, err)
		}
	}
	pushed = sha + " " + branch
	if err := w.DB.RecordEffect(ctx, a.RunID, journal.Pushed, pushed); err != nil {
		return "", "", "", fmt.Errorf("record push: %w", err)
	}
	crashPoint("after:" + string(journal.Pushed))
	// The agent's summary must survive a crash between push and review.
	if err := w.DB.RecordEffect(ctx, a.RunID, journal.AgentSummary, att.AgentSummary); err != nil {
		return "", "", "", fmt.Errorf("record summary: %w", err)
	}
	attrs := map[string]any{"commit": sha, "branch": branch, "method": method, "ci_held": eff.CIHold}
	if len(prot) > 0 {
		attrs["protected"] = strings.Join(prot, " ")
	}
	if err := r.auditEvent(ctx, telemetry.KindGitPushed, "agentgate", attrs); err != nil {
		return "", "", "", err
	}
	return pushed, sandbox.OutcomeSucceeded, "", nil
}

// holdWorkflows keeps the diff of a change to .github/workflows/ on the
// run, records why it was not pushed, and returns the explanation.
func (r *run) holdWorkflows(ctx context.Context, att *sandbox.Attempt, sha string) (string, error) {
	patch, err := att.Workspace.Patch(ctx, sha)
	if err != nil {
		return "", err
	}
	truncated := false
	if len(patch) > maxDiff {
		patch, truncated = patch[:maxDiff], true
	}
	if err := r.w.DB.RecordEffect(ctx, r.args.RunID, journal.Diff, patch); err != nil {
		return "", fmt.Errorf("record diff: %w", err)
	}
	reason := fmt.Sprintf("the change touches %s. GitHub refuses a push that changes `%s` from an app without the `workflows` permission, which agentgate does not ask for, so the change was not pushed. "+
		"The diff is kept with the run: an operator prints it with `agentgate audit show %s --diff` for a maintainer to review and apply",
		sandbox.CodeList(att.Workflows), strings.TrimSuffix(sandbox.WorkflowsDir, "/"), r.args.RunID)
	if err := r.auditEvent(ctx, telemetry.KindChangeHeld, "agentgate", map[string]any{
		"files": strings.Join(att.Workflows, " "), "reason": "workflow files are never pushed", "diff_bytes": len(patch), "truncated": truncated, "commit": sha,
	}); err != nil {
		return "", err
	}
	return reason, nil
}
