package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// VerifyCheckName is the check run of the verification.
const VerifyCheckName = "agentgate/verify"

// verify runs the configured verification on the pushed commit and
// reports it as the check run agentgate/verify: in progress, then its
// conclusion with the output's tail.
func (r *run) verify(ctx context.Context, sha, branch string) error {
	v := r.effective().Verify
	if len(v.Command) == 0 {
		return nil
	}
	if _, done, err := r.w.DB.Effect(ctx, r.args.RunID, journal.VerifyDone); err != nil || done {
		return err
	}
	a := r.args
	idStr, err := r.once(ctx, journal.VerifyCheck, func() (string, error) {
		cr, _, err := r.gh.Checks.CreateCheckRun(ctx, a.Owner, a.Repo, github.CreateCheckRunOptions{
			Name: VerifyCheckName, HeadSHA: sha, ExternalID: github.String(a.RunID),
			Status: github.String("in_progress"), StartedAt: &github.Timestamp{Time: time.Now().UTC()},
			Output: &github.CheckRunOutput{
				Title:   github.String("Running " + gitops.OneLine(strings.Join(v.Command, " "), 100)),
				Summary: github.String("agentgate runs the repository's verify command on this commit in a fresh sandbox, with no agent and no model access."),
			},
		})
		if err != nil {
			return "", fmt.Errorf("create verify check run: %w", err)
		}
		return strconv.FormatInt(cr.GetID(), 10), nil
	})
	if err != nil {
		return err
	}
	checkID, _ := strconv.ParseInt(idStr, 10, 64)
	tok, err := r.w.Clients.Token(ctx, a.InstallationID, cloneScope(a.RepoID))
	if err != nil {
		return err
	}
	lim := r.w.Config.Limits
	if r.policy != nil {
		lim = r.policy.Limits
	}
	seed, err := r.canarySeed(ctx)
	if err != nil {
		return err
	}
	res, err := r.w.Sandbox.Verify(ctx, sandbox.VerifyTask{
		RunID: a.RunID, CloneURL: a.CloneURL, Branch: branch, Commit: sha, Token: tok,
		Verify: v, Limits: lim, Network: sandbox.VerifyNetwork(r.w.Config.networkFor(Tenant{a.InstallationID, a.RepoID}), r.policy),
		CanarySeed: seed,
	})
	if err != nil {
		return err
	}
	title := map[string]string{
		"action_required": "Verification stopped: a request carried a secret",
		"success":         "Verification passed", "failure": fmt.Sprintf("Verification failed (exit code %d)", res.ExitCode),
		"timed_out": "Verification timed out after " + v.Timeout.String(), "neutral": "Not verified: the branch moved",
	}[res.Conclusion]
	summary := verifySummary(v.Command, sha, res.Duration, res.Output)
	if res.Stopped != "" {
		summary = res.Stopped + ".\n\nThe run's audit trail has an `egress.exfiltration` event naming where the value was found (never the value)."
	}
	upd := github.UpdateCheckRunOptions{
		Name: VerifyCheckName, Status: github.String("completed"), Conclusion: github.String(res.Conclusion),
		CompletedAt: &github.Timestamp{Time: time.Now().UTC()},
		Output:      &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary)},
	}
	if u := r.w.Config.RunURL(a.RunID); u != "" && res.Stopped != "" {
		upd.DetailsURL = github.String(u) // action_required: the details are the run's page
	}
	if _, _, err := r.gh.Checks.UpdateCheckRun(ctx, a.Owner, a.Repo, checkID, upd); err != nil {
		return fmt.Errorf("complete verify check run: %w", err)
	}
	return r.w.DB.RecordEffect(ctx, a.RunID, journal.VerifyDone, res.Conclusion)
}

// verifySummary is the verify check run's summary: the command, the
// commit, the time, then the output's tail, which the agent's code wrote,
// as inert text (telemetry.UntrustedBlock).
func verifySummary(command []string, sha string, took time.Duration, output string) string {
	return fmt.Sprintf("`%s` on `%s`, %s, in a fresh sandbox with no agent and no model access.\n",
		strings.ReplaceAll(strings.Join(command, " "), "`", "'"), sha, took.Round(time.Millisecond)) +
		telemetry.UntrustedBlock(sandbox.Tail(output, 3000), 8<<10)
}
