package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-github/v62/github"
	"github.com/google/uuid"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// revertBranch is the branch a revert of pull request number is pushed to.
func revertBranch(number int) string { return fmt.Sprintf("%srevert-%d", gitops.BranchPrefix, number) }

// revert answers `@agentgate revert` on a merged pull request agentgate
// opened: agentgate itself (no agent, no sandbox) computes the revert of
// the merge commit on the base branch's head, commits it through the Git
// Data API on agentgate/revert-<n>, and opens a pull request with the
// `agentgate` check. The revert is a run of its own in the audit trail,
// and the original run records it. Only people with the trigger
// permission may ask; a path changed again since the merge is not
// reverted (the reply lists it) rather than merged.
func (ev *eventJob) revert(ctx context.Context) error {
	a := ev.a
	mention := "`" + ev.w.Config.Mention + " revert`"
	if !a.IsPullRequest {
		return ev.reply(ctx, mention+" reverts a merged pull request that agentgate opened: comment it on that pull request.")
	}
	ok, role, err := ev.authorize(ctx, webhook.CmdRevert)
	if err != nil || !ok {
		return err
	}
	orig, err := ev.w.DB.RunForPR(ctx, a.RepoID, a.Number)
	if errors.Is(err, store.ErrNotFound) {
		return ev.reply(ctx, fmt.Sprintf("Pull request #%d was not opened by agentgate: %s only reverts agentgate's own pull requests.", a.Number, mention))
	}
	if err != nil {
		return err
	}
	gh, err := ev.client()
	if err != nil {
		return err
	}
	pr, _, err := gh.PullRequests.Get(ctx, a.Owner, a.Repo, a.Number)
	if err != nil {
		return fmt.Errorf("revert: read pull request #%d: %w", a.Number, err)
	}
	if !strings.HasPrefix(pr.GetHead().GetRef(), gitops.BranchPrefix) {
		return ev.reply(ctx, fmt.Sprintf("Pull request #%d was not opened by agentgate: %s only reverts agentgate's own pull requests.", a.Number, mention))
	}
	if !pr.GetMerged() || pr.GetMergeCommitSHA() == "" {
		return ev.reply(ctx, fmt.Sprintf("Pull request #%d is not merged, so there is nothing to revert (close it instead).", a.Number))
	}
	base, merge := pr.GetBase().GetRef(), pr.GetMergeCommitSHA()

	runID := uuid.NewSHA1(uuid.NameSpaceOID, []byte("agentgate-revert:"+a.DeliveryID)).String()
	if _, err := ev.w.DB.EnsureRun(ctx, store.Run{
		ID: runID, DeliveryID: a.DeliveryID, Repo: a.Owner + "/" + a.Repo, RepoID: a.RepoID, InstallationID: a.InstallationID,
		Issue: a.Number, Requester: a.ActorLogin, State: stateRunning,
	}); err != nil {
		return err
	}
	r, err := ev.runOf(webhook.RunJobArgs{
		RunID: runID, DeliveryID: a.DeliveryID, Event: a.GitHubEvent, Trigger: "revert",
		InstallationID: a.InstallationID, RepoID: a.RepoID, Owner: a.Owner, Repo: a.Repo,
		CloneURL: a.CloneURL, DefaultBranch: base, IssueNumber: a.Number, IsPullRequest: true,
		IssueTitle: gitops.OneLine(`Revert "`+pr.GetTitle()+`"`, 120), CommentID: a.CommentID,
		RequesterLogin: a.ActorLogin, RequesterID: a.ActorID, RequesterType: a.ActorType,
		AuthorAssociation: a.AuthorAssociation,
	})
	if err != nil {
		return err
	}
	if _, err := r.once(ctx, journal.Revert, func() (string, error) {
		if err := r.auditEvent(ctx, telemetry.KindWebhookReceived, a.ActorLogin, map[string]any{
			"delivery_id": a.DeliveryID, "event": a.GitHubEvent, "trigger": "revert",
			"repo": a.Owner + "/" + a.Repo, "issue": a.Number, "comment_id": a.CommentID,
		}); err != nil {
			return "", err
		}
		if err := r.auditEvent(ctx, telemetry.KindRunAuthorized, "agentgate", map[string]any{
			"permission": role, "required": ev.w.Config.MinPermission, "approved_by": "",
		}); err != nil {
			return "", err
		}
		return fmt.Sprint(a.Number), nil
	}); err != nil {
		return err
	}

	shaBranch, err := r.once(ctx, journal.RevertCommit, func() (string, error) {
		return ev.pushRevert(ctx, r, pr, base, merge, orig.ID)
	})
	if errors.Is(err, errRevertRefused) {
		return nil // replied; the run is finished
	}
	if err != nil {
		return err
	}
	sha, branch, _ := strings.Cut(shaBranch, " ")

	events, sum, err := r.succeededSummary(ctx)
	if err != nil {
		return err
	}
	md := revertSummary(a.Number, merge, base, orig.ID, events)
	md += sum.MarkdownMax(maxRunMarkdown - len(md))
	body := fmt.Sprintf("Reverts #%d.\n\nRequested by @%s. agentgate made this commit itself from the merge commit `%s`: no agent ran. Merging it is the approval.\n\n## Run\n\n%s",
		a.Number, a.ActorLogin, merge, md)
	num, err := r.publish(ctx, branch, sha, md, func() string { return telemetry.CutMarkdown(body, telemetry.MaxPRBody) })
	if err != nil {
		return err
	}
	if err := ev.auditOnce(ctx, orig.ID, telemetry.KindRunReverted, a.ActorLogin, map[string]any{
		"revert_run": runID, "pull_request": num, "reverted_pull_request": a.Number, "merge_commit": merge,
	}); err != nil {
		return err
	}
	if err := r.auditEventOnce(ctx, journal.FinalEvent, telemetry.KindRunFinished, map[string]any{"outcome": string(sandbox.OutcomeSucceeded), "pull_request": num}); err != nil {
		return err
	}
	if err := ev.w.DB.SetRunState(ctx, runID, stateFinished); err != nil {
		return err
	}
	if err := ev.w.DB.RecordEffect(ctx, runID, journal.Done, stateFinished); err != nil {
		return err
	}
	if err := ev.react(ctx, "rocket"); err != nil {
		return err
	}
	return ev.reply(ctx, fmt.Sprintf("Pull request #%s reverts #%d (run `%s`). Merging it is the approval.", num, a.Number, runID))
}

// errRevertRefused ends a revert that cannot be made; the requester has
// been told why and the run is recorded as failed.
var errRevertRefused = errors.New("revert refused")

// pushRevert computes the revert and commits it on agentgate/revert-<n>
// through the Git Data API; it returns "sha branch".
func (ev *eventJob) pushRevert(ctx context.Context, r *run, pr *github.PullRequest, base, merge, origRun string) (string, error) {
	a := ev.a
	tok, err := ev.w.Clients.Token(ctx, a.InstallationID, cloneScope(a.RepoID))
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(ev.w.Config.DataDir, "revert-")
	if err != nil {
		return "", fmt.Errorf("revert: %w", err)
	}
	defer os.RemoveAll(dir)
	rv, err := gitops.ComputeRevert(ctx, gitops.RevertOptions{URL: a.CloneURL, Token: tok, Branch: base, Merge: merge, Dir: dir})
	refuse := func(why string) (string, error) {
		if err := ev.revertFailed(ctx, r, why); err != nil {
			return "", err
		}
		return "", errRevertRefused
	}
	switch {
	case errors.Is(err, gitops.ErrMergeNotFound):
		return refuse(fmt.Sprintf("The merge commit `%s` of #%d is not among the last %d commits of %s: revert it by hand.", merge, a.Number, gitops.DefaultRevertDepth, telemetry.CodeText(base)))
	case errors.Is(err, gitops.ErrNothingToRevert):
		return refuse(fmt.Sprintf("%s already has every file #%d changed as it was before the merge: there is nothing to revert.", telemetry.CodeText(base), a.Number))
	case err != nil:
		return "", err
	}
	if len(rv.Conflicts) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "These files changed on %s again after #%d was merged, so a revert would undo later work too; agentgate does not resolve that for you. Revert by hand:\n\n", telemetry.CodeText(base), a.Number)
		for i, p := range rv.Conflicts {
			if i == 20 {
				fmt.Fprintf(&b, "- … and %d more\n", len(rv.Conflicts)-20)
				break
			}
			fmt.Fprintf(&b, "- %s\n", telemetry.CodeText(p))
		}
		return refuse(b.String())
	}
	// A single-parent merge commit of a pull request with several commits
	// is a squash (GitHub's subject ends with "(#n)") or a rebase, whose
	// last commit alone is not the whole pull request.
	if rv.Parents == 1 && pr.GetCommits() > 1 && !strings.HasSuffix(rv.Subject, fmt.Sprintf("(#%d)", a.Number)) {
		return refuse(fmt.Sprintf("#%d was merged by rebasing %d commits; agentgate reverts merge commits and squash merges only: revert it by hand.", a.Number, pr.GetCommits()))
	}
	paths := make([]string, 0, len(rv.Files))
	for _, f := range rv.Files {
		paths = append(paths, f.Path)
	}
	if err := r.auditEvent(ctx, telemetry.KindRevertComputed, "agentgate", map[string]any{
		"reverted_pull_request": a.Number, "reverted_run": origRun, "merge_commit": merge,
		"parent": rv.Parent, "base": base, "base_commit": rv.Head, "tree": rv.Tree, "paths": paths,
	}); err != nil {
		return "", err
	}
	gh, err := ev.w.Clients.Installation(a.InstallationID, pushScope(a.RepoID))
	if err != nil {
		return "", err
	}
	entries := make([]*github.TreeEntry, 0, len(rv.Files))
	for _, f := range rv.Files {
		if f.Mode == "160000" { // a submodule: the commit it pointed at
			entries = append(entries, &github.TreeEntry{Path: github.String(f.Path), Mode: github.String(f.Mode), Type: github.String("commit"), SHA: github.String(f.Blob)})
			continue
		}
		if f.Delete {
			entries = append(entries, &github.TreeEntry{Path: github.String(f.Path), Mode: github.String("100644"), Type: github.String("blob")})
			continue
		}
		blob, _, err := gh.Git.CreateBlob(ctx, a.Owner, a.Repo, &github.Blob{
			Content: github.String(base64.StdEncoding.EncodeToString(f.Content)), Encoding: github.String("base64"),
		})
		if err != nil {
			return "", fmt.Errorf("revert: create blob for %s: %w", f.Path, err)
		}
		if blob.GetSHA() != f.Blob {
			return "", fmt.Errorf("revert: blob of %s is %s on GitHub, %s here", f.Path, blob.GetSHA(), f.Blob)
		}
		entries = append(entries, &github.TreeEntry{Path: github.String(f.Path), Mode: github.String(f.Mode), Type: github.String("blob"), SHA: blob.SHA})
	}
	tree, _, err := gh.Git.CreateTree(ctx, a.Owner, a.Repo, rv.HeadTree, entries)
	if err != nil {
		return "", fmt.Errorf("revert: create tree: %w", err)
	}
	if tree.GetSHA() != rv.Tree {
		return "", fmt.Errorf("revert: tree is %s on GitHub, %s here", tree.GetSHA(), rv.Tree)
	}
	branch := revertBranch(a.Number)
	msg := fmt.Sprintf("Revert %q\n\nThis reverts merge commit %s (pull request #%d, agentgate run %s),\nas asked by @%s (agentgate run %s).\n",
		gitops.OneLine(pr.GetTitle(), 100), merge, a.Number, origRun, a.ActorLogin, r.args.RunID)
	sha, err := apiCommitTree(ctx, gh, a.Owner, a.Repo, rv.Tree, rv.Head, msg, branch)
	if err != nil {
		return "", err
	}
	if err := r.auditEvent(ctx, telemetry.KindGitPushed, "agentgate", map[string]any{
		"branch": branch, "commit": sha, "method": methodAPI, "tree": rv.Tree, "parent": rv.Head,
	}); err != nil {
		return "", err
	}
	return sha + " " + branch, nil
}

// revertFailed tells the requester why no revert was made and finishes
// the revert run as failed.
func (ev *eventJob) revertFailed(ctx context.Context, r *run, why string) error {
	if err := ev.react(ctx, "confused"); err != nil {
		return err
	}
	if err := ev.reply(ctx, why); err != nil {
		return err
	}
	if err := r.auditEventOnce(ctx, journal.FinalEvent, telemetry.KindRunFailed, map[string]any{"outcome": string(sandbox.OutcomeNoChange), "reason": telemetry.Neutralize(why)}); err != nil {
		return err
	}
	if err := ev.w.DB.SetRunState(ctx, r.args.RunID, stateFinished); err != nil {
		return err
	}
	return ev.w.DB.RecordEffect(ctx, r.args.RunID, journal.Done, stateFinished)
}

// revertSummary heads the revert's check run and pull request: what was
// reverted, from which commit, and that no agent ran.
func revertSummary(number int, merge, base, origRun string, events []telemetry.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Revert of #%d**, made by agentgate from merge commit `%s` on %s; no agent and no sandbox ran. Reverted run: `%s`.\n\n", number, merge, telemetry.CodeText(base), origRun)
	for _, e := range events {
		if e.Kind != telemetry.KindRevertComputed {
			continue
		}
		if paths, ok := e.Attrs["paths"].([]any); ok {
			b.WriteString("| File | Change |\n| --- | --- |\n")
			for i, p := range paths {
				if i == 200 {
					fmt.Fprintf(&b, "\n… and %d more files\n", len(paths)-200)
					break
				}
				fmt.Fprintf(&b, "| %s | restored to before the merge |\n", strings.ReplaceAll(telemetry.CodeText(fmt.Sprint(p)), "|", `\|`))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
