package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"

	"github.com/agentgate/agentgate/app/tasktext"
	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// cloneBranch is where the run starts: the default branch, or for a
// follow-up the head of agentgate's branch as it is now (a human commit or
// a force-push on it is respected). Configuration and instructions are
// always read from the default branch.
func (r *run) cloneBranch() string {
	if f := r.args.FollowUp; f != nil {
		return f.Branch
	}
	return r.args.DefaultBranch
}

// pushBranch is the branch the run pushes.
func (r *run) pushBranch() string {
	if f := r.args.FollowUp; f != nil {
		return f.Branch
	}
	return gitops.BranchName(r.args.IssueNumber, r.args.IssueTitle)
}

// forcePush: a first run owns its fresh branch; a follow-up only
// fast-forwards from the head it started on, never over a human's commit.
func (r *run) forcePush() bool { return r.args.FollowUp == nil }

// sourceIssue is the issue the change fixes.
func (r *run) sourceIssue() int {
	if f := r.args.FollowUp; f != nil && f.Issue != 0 {
		return f.Issue
	}
	return r.args.IssueNumber
}

// branchMoved reports a push refused because the branch moved under the
// run (someone pushed meanwhile): reported, not retried.
func branchMoved(err error) bool {
	return errors.Is(err, git.ErrNonFastForwardUpdate) || strings.Contains(err.Error(), "non-fast-forward")
}

// feedbackText is the follow-up part of task.md.
func feedbackText(f *webhook.FollowUp, hidden *tasktext.Report) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Follow-up %d on pull request #%d\n\nThe work tree is the pull request's branch `%s` as it is now. Address this feedback:\n", f.Iteration, f.PR, f.Branch)
	for _, it := range f.Feedback {
		where := ""
		if it.Path != "" {
			path := strings.ReplaceAll(gitops.OneLine(it.Path, 300), "`", "'")
			where = " on `" + path + "`"
			if it.Line > 0 {
				where = fmt.Sprintf(" on `%s` line %d", path, it.Line)
			}
		}
		body, rep := tasktext.Sanitize(strings.TrimSpace(it.Body))
		hidden.Add(rep)
		fmt.Fprintf(&b, "\n### From @%s%s\n\n%s\n", gitops.OneLine(it.Author, 64), where, strings.TrimSpace(body))
	}
	return b.String()
}

// recheckPermission reads again, right before the push, the permission of
// the person the run acts for (the requester, or the maintainer who
// approved it). Someone removed mid-run gets no push: the reason is
// returned and recorded.
func (r *run) recheckPermission(ctx context.Context) (string, error) {
	login := r.args.RequesterLogin
	if r.approvedBy != "" {
		login = r.approvedBy
	}
	role, err := r.permissionOf(ctx, login)
	if err != nil {
		return "", err
	}
	min := r.minPermission
	if min == "" {
		min = r.w.Config.MinPermission
	}
	if policy.Allows(role, min) {
		return "", nil
	}
	reason := fmt.Sprintf("%s's permission changed to %s while the agent worked (%s is required); nothing was pushed", login, role, min)
	if err := r.auditEvent(ctx, telemetry.KindPermissionRevoked, "agentgate", map[string]any{"login": login, "permission": role, "required": min}); err != nil {
		return "", err
	}
	return reason, nil
}
