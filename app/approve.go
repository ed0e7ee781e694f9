package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// approverRole is the least role that may approve protected changes or
// release CI.
const approverRole = "maintain"

// checkAction handles a click on a button of the `agentgate` check run.
// "approve" approves a change to protected paths: only a user with
// maintain or admin permission who is not the requester, and only for the
// commit and policy the change was pushed under. "ci" releases the
// repository's CI: a user with maintain or admin. Either pushes the same
// tree without the CI skip marker when the commit holds it.
func (ev *eventJob) checkAction(ctx context.Context, a jobs.CheckAction) error {
	w := ev.w
	log := ev.log.With("run_id", a.RunID, "check_run", a.CheckRunID, "action", a.Identifier, "sender", a.SenderLogin)
	run, err := w.DB.GetRun(ctx, a.RunID)
	if errors.Is(err, store.ErrNotFound) {
		log.Info("check run action for an unknown run")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read run: %w", err)
	}
	// The check run must be this run's, in this repository: external_id
	// is only a claim of the payload.
	checkID, ok, err := w.DB.Effect(ctx, a.RunID, journal.Check)
	if err != nil {
		return fmt.Errorf("effect: %w", err)
	}
	if !ok || checkID != strconv.FormatInt(a.CheckRunID, 10) || !strings.EqualFold(run.Repo, a.Owner+"/"+a.Repo) ||
		(a.AppID != 0 && w.Config.AppID != 0 && a.AppID != w.Config.AppID) {
		log.Info("check run action for a check run that is not this run's")
		return nil
	}
	// One decision at a time per run: two maintainers clicking at once
	// must not release CI twice. A busy run is retried by the queue.
	holder, got, err := w.DB.AcquireLease(ctx, "approval:"+a.RunID, a.DeliveryID, 5*time.Minute)
	if err != nil {
		return fmt.Errorf("approval lease: %w", err)
	}
	if !got {
		return fmt.Errorf("approval of run %s is being decided (%s)", a.RunID, holder)
	}
	defer func() {
		if err := w.DB.ReleaseLease(context.WithoutCancel(ctx), "approval:"+a.RunID, a.DeliveryID); err != nil {
			log.Warn("release approval lease", "err", err)
		}
	}()
	gh, err := w.Clients.Installation(a.InstallationID, Scope{RepoID: a.RepoID, Contents: "write", Checks: "write", Issues: "write"})
	if err != nil {
		return err
	}
	requester := person{Login: run.Requester}
	if args, ok, err := w.loadArgs(ctx, a.RunID); err != nil {
		return err
	} else if ok {
		requester = person{Login: args.RequesterLogin, ID: args.RequesterID}
	}
	d := &decision{issue: &issue{
		w: w, installationID: a.InstallationID, repoID: a.RepoID, owner: a.Owner, repo: a.Repo,
		defaultBranch: a.DefaultBranch, journalID: a.RunID, gh: gh, log: log,
	}, a: a, requester: requester}
	return d.run(ctx)
}

// decision is one click being judged and carried out: its issue (the
// run's repository, the run's journal, a client that may push) and its
// job args.
type decision struct {
	*issue
	a         jobs.CheckAction
	requester person
}

// auditEvent appends an event by the clicking user to the run's trail.
func (d *decision) auditEvent(ctx context.Context, kind string, attrs map[string]any) error {
	return d.w.audit(ctx, d.a.RunID, kind, d.a.SenderLogin, attrs)
}

func (d *decision) run(ctx context.Context) error {
	a := d.a
	pc, ok := readPushedCommit(ctx, d.w, a.RunID)
	if !ok {
		return d.refuse(ctx, "this run pushed no change agentgate can approve")
	}
	if v, done, err := d.w.DB.Effect(ctx, a.RunID, journal.Approved); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if done {
		who, _, _ := strings.Cut(v, " ")
		return d.refuse(ctx, "this change was already approved by @"+who)
	}
	var prot []string
	if v, ok, err := d.w.DB.Effect(ctx, a.RunID, journal.Protected); err != nil {
		return fmt.Errorf("effect: %w", err)
	} else if ok {
		if err := json.Unmarshal([]byte(v), &prot); err != nil {
			return fmt.Errorf("protected paths of the run: %w", err)
		}
	}
	switch a.Identifier {
	case jobs.ActionApprove:
		if len(prot) == 0 {
			return d.refuse(ctx, "this change touches no protected path; there is nothing to approve")
		}
	case jobs.ActionCI:
		if !pc.Held {
			return d.refuse(ctx, "CI is not held on this change")
		}
		if len(prot) > 0 {
			return d.refuse(ctx, "this change touches protected paths: it needs **"+approveLabel+"**, which also releases CI")
		}
	default:
		return d.refuse(ctx, "unknown action")
	}

	// Who: maintain or admin, and someone the policy would let start the
	// run (allowed_users / allowed_teams); for protected changes, not the
	// requester, compared by user id.
	role, _, reason, err := d.standing(ctx, person{Login: a.SenderLogin, ID: a.SenderID}, approverRole)
	if err != nil {
		return err
	}
	if !policy.Allows(role, approverRole) {
		return d.refuse(ctx, fmt.Sprintf("@%s has %s permission; approving needs maintain or admin", a.SenderLogin, role))
	}
	if reason != "" {
		return d.refuse(ctx, reason)
	}
	if a.Identifier == jobs.ActionApprove && sameUser(person{Login: a.SenderLogin, ID: a.SenderID}, d.requester) {
		return d.refuse(ctx, fmt.Sprintf("@%s asked for this run and cannot approve its protected change; another maintainer must", a.SenderLogin))
	}

	// What: the commit the change was pushed as, still the branch head,
	// under the policy it was pushed under.
	if a.HeadSHA != pc.SHA {
		return d.refuse(ctx, fmt.Sprintf("this check is on %s but the change was pushed as %s: the approval is void", short(a.HeadSHA), short(pc.SHA)))
	}
	head, err := branchHead(ctx, d.gh, a.Owner, a.Repo, pc.Branch)
	if err != nil {
		return err
	}
	// A retry after this very approval moved the branch to the released
	// head finds it there.
	released, _, err := d.w.DB.Effect(ctx, a.RunID, journal.Released)
	if err != nil {
		return fmt.Errorf("effect: %w", err)
	}
	if head != pc.SHA && (released == "" || head != released) {
		return d.refuse(ctx, fmt.Sprintf("the branch `%s` moved to %s after the change was pushed as %s: the approval is void; a new run or push needs its own review", pc.Branch, short(head), short(pc.SHA)))
	}
	pushedHash, _, err := d.w.DB.Effect(ctx, a.RunID, journal.PolicyHash)
	if err != nil {
		return fmt.Errorf("effect: %w", err)
	}
	rc, err := d.loadConfig(ctx)
	var cerr *policy.ConfigError
	if errors.As(err, &cerr) {
		return d.refuse(ctx, "the repository's configuration is no longer valid: the approval is void")
	}
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if nowHash := rc.Effective.Hash(); nowHash != pushedHash {
		return d.refuse(ctx, fmt.Sprintf("the policy changed since the change was pushed (%s, now %s): the approval is void", short(pushedHash), short(nowHash)))
	}
	return d.grant(ctx, pc, pushedHash, prot)
}

// grant records the approval, releases CI when it is held and completes
// the check run.
func (d *decision) grant(ctx context.Context, pc pushedCommit, hash string, prot []string) error {
	a := d.a
	if err := d.auditEvent(ctx, telemetry.KindApprovalGranted, map[string]any{
		"approver": a.SenderLogin, "action": a.Identifier, "commit": pc.SHA, "branch": pc.Branch,
		"policy_hash": hash, "requester": d.requester.Login, "protected": strings.Join(prot, " "),
	}); err != nil {
		return err
	}
	what := "Protected paths approved"
	if a.Identifier == jobs.ActionCI {
		what = "CI released"
	}
	summary := fmt.Sprintf("%s by @%s for commit `%s` under policy `%s`.", what, a.SenderLogin, pc.SHA, short(hash))
	released := ""
	if pc.Held {
		var err error
		released, err = d.release(ctx, pc)
		if err != nil {
			return err
		}
		summary += fmt.Sprintf("\n\nThe same tree was pushed without `[skip ci]` as `%s`, so the repository's CI runs on it.", released)
	}
	if _, _, err := d.gh.Checks.UpdateCheckRun(ctx, a.Owner, a.Repo, a.CheckRunID, github.UpdateCheckRunOptions{
		Name: "agentgate", Status: github.String("completed"), Conclusion: github.String("success"),
		CompletedAt: &github.Timestamp{Time: time.Now().UTC()},
		Output:      &github.CheckRunOutput{Title: github.String(what + " by @" + a.SenderLogin), Summary: github.String(summary)},
		Actions:     []*github.CheckRunAction{},
	}); err != nil {
		return fmt.Errorf("complete check run: %w", err)
	}
	if released != "" {
		if _, ok, err := d.w.DB.Effect(ctx, a.RunID, journal.ReleasedCheck); err != nil {
			return fmt.Errorf("effect: %w", err)
		} else if !ok {
			cr, _, err := d.gh.Checks.CreateCheckRun(ctx, a.Owner, a.Repo, github.CreateCheckRunOptions{
				Name: "agentgate", HeadSHA: released, ExternalID: github.String(a.RunID),
				Status: github.String("completed"), Conclusion: github.String("success"),
				CompletedAt: &github.Timestamp{Time: time.Now().UTC()},
				Output:      &github.CheckRunOutput{Title: github.String(what + " by @" + a.SenderLogin), Summary: github.String(summary)},
			})
			if err != nil {
				return fmt.Errorf("check run on the released head: %w", err)
			}
			if err := d.w.DB.RecordEffect(ctx, a.RunID, journal.ReleasedCheck, strconv.FormatInt(cr.GetID(), 10)); err != nil {
				return fmt.Errorf("record check: %w", err)
			}
		}
	}
	if a.Identifier == jobs.ActionApprove {
		// What the approval covers on the pull request: exactly the
		// protected changes it saw (protect_pr.go).
		if err := recordCoverage(ctx, d.w, a.RunID, a.RepoID, hash); err != nil {
			return err
		}
	}
	return d.w.DB.RecordEffect(ctx, a.RunID, journal.Approved, a.SenderLogin+" "+pc.SHA)
}

// release pushes pc's tree and parent again with the message without the
// CI skip marker, through the Git Data API (the tree is on GitHub
// already), once.
func (d *decision) release(ctx context.Context, pc pushedCommit) (string, error) {
	a := d.a
	if v, ok, err := d.w.DB.Effect(ctx, a.RunID, journal.Released); err != nil {
		return "", fmt.Errorf("effect: %w", err)
	} else if ok {
		return v, nil
	}
	sha, err := apiCommitTree(ctx, d.gh, a.Owner, a.Repo, pc.Tree, pc.Parent, pc.Message, pc.Branch)
	if err != nil {
		return "", fmt.Errorf("release CI: %w", err)
	}
	if err := d.w.DB.RecordEffect(ctx, a.RunID, journal.Released, sha); err != nil {
		return "", fmt.Errorf("record release: %w", err)
	}
	if err := d.auditEvent(ctx, telemetry.KindCIReleased, map[string]any{"commit": sha, "held_commit": pc.SHA, "approver": a.SenderLogin, "branch": pc.Branch}); err != nil {
		return "", err
	}
	return sha, nil
}

// refuse records a refused click and answers the person once per run; the
// check run stays as it is.
func (d *decision) refuse(ctx context.Context, reason string) error {
	a := d.a
	d.log.Info("check run action refused", "reason", reason)
	if err := d.auditEvent(ctx, telemetry.KindApprovalRefused, map[string]any{
		"login": a.SenderLogin, "action": a.Identifier, "reason": reason, "commit": a.HeadSHA,
	}); err != nil {
		return err
	}
	key := journal.ApprovalReply(a.SenderLogin)
	if _, ok, err := d.w.DB.Effect(ctx, a.RunID, key); err != nil || ok {
		return err
	}
	pr, ok, err := d.w.DB.Effect(ctx, a.RunID, journal.PR)
	if err != nil || !ok {
		return err
	}
	n, err := strconv.Atoi(pr)
	if err != nil {
		return fmt.Errorf("pull request number %q: %w", pr, err)
	}
	c, _, err := d.gh.Issues.CreateComment(ctx, a.Owner, a.Repo, n, &github.IssueComment{
		Body: github.String(fmt.Sprintf("@%s, agentgate did not accept **%s**: %s. The `agentgate` check is unchanged.", a.SenderLogin, buttonLabel(a.Identifier), reason)),
	})
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	return d.w.DB.RecordEffect(ctx, a.RunID, key, strconv.FormatInt(c.GetID(), 10))
}

func buttonLabel(id string) string {
	if id == jobs.ActionCI {
		return ciLabel
	}
	return approveLabel
}

// permissionOf reads login's role on the repository ("none" for a non-collaborator).
func permissionOf(ctx context.Context, gh *github.Client, owner, repo, login string) (string, error) {
	req, err := gh.NewRequest("GET", fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", owner, repo, login), nil)
	if err != nil {
		return "", fmt.Errorf("permission request: %w", err)
	}
	var body struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	if _, err := gh.Do(ctx, req, &body); err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == 404 {
			return "none", nil
		}
		return "", fmt.Errorf("read permission of %s: %w", login, err)
	}
	return policy.Effective(body.Permission, body.RoleName), nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
