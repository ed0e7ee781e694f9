package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/jobs"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// maxDiff bounds the diff kept on a run.
const maxDiff = 1 << 20

// Check run action button texts: GitHub allows 20 characters for a
// label and 40 for a description.
const (
	approveLabel = "Approve changes"
	approveDesc  = "Maintainer: approve the protected paths"
	ciLabel      = "Run CI"
	ciDesc       = "Maintainer: run CI on this commit"
)

// pushedCommit is what a later approval needs of the pushed commit.
type pushedCommit struct {
	SHA    string `json:"sha"`
	Branch string `json:"branch"`
	Tree   string `json:"tree"`
	Parent string `json:"parent"`
	// Message is the commit message without the CI skip marker: an
	// approval recreates the commit with it.
	Message string `json:"message"`
	Held    bool   `json:"held"`   // the pushed message carries the marker
	Method  string `json:"method"` // "api" or "git"
}

// effective is the configuration in force (the defaults before it is read).
func (r *run) effective() policy.EffectiveConfig {
	if r.cfg == nil {
		return policy.Defaults()
	}
	return r.cfg.Effective
}

// protectedFiles reads the protected paths recorded at push.
func (r *run) protectedFiles(ctx context.Context) []string {
	v, ok, err := r.w.DB.Effect(ctx, r.args.RunID, journal.Protected)
	if err != nil || !ok {
		return nil
	}
	var out []string
	_ = json.Unmarshal([]byte(v), &out)
	return out
}

// checkRunOptions is the `agentgate` check run for a pushed change:
// action_required with an "Approve changes" button when it touches
// protected paths; success otherwise, with a "Run CI" button while the
// commit holds the repository's CI.
func (r *run) checkRunOptions(ctx context.Context, sha, summary string) github.CreateCheckRunOptions {
	opts := github.CreateCheckRunOptions{
		Name:        "agentgate",
		HeadSHA:     sha,
		ExternalID:  github.String(r.args.RunID),
		Status:      github.String("completed"),
		Conclusion:  github.String("success"),
		CompletedAt: &github.Timestamp{Time: time.Now().UTC()},
		Output: &github.CheckRunOutput{
			Title:   github.String("agentgate run " + r.args.RunID),
			Summary: github.String(telemetry.CutMarkdown(summary, telemetry.MaxMarkdown)),
		},
	}
	if prot := r.protectedFiles(ctx); len(prot) > 0 {
		opts.Conclusion = github.String("action_required")
		opts.Output.Title = github.String("Protected paths changed: a maintainer's approval is needed")
		opts.Output.Summary = github.String(telemetry.CutMarkdown(protectedNote(prot, r.args.RequesterLogin)+"\n\n"+summary, telemetry.MaxMarkdown))
		opts.Actions = []*github.CheckRunAction{{Label: approveLabel, Description: approveDesc, Identifier: jobs.ActionApprove}}
		return opts
	}
	if pc, ok := r.pushedCommit(ctx); ok && pc.Held {
		opts.Output.Summary = github.String(telemetry.CutMarkdown(heldNote()+"\n\n"+summary, telemetry.MaxMarkdown))
		opts.Actions = []*github.CheckRunAction{{Label: ciLabel, Description: ciDesc, Identifier: jobs.ActionCI}}
	}
	return opts
}

// pushedCommit reads the record of the pushed commit.
func (r *run) pushedCommit(ctx context.Context) (pushedCommit, bool) {
	return readPushedCommit(ctx, r.w, r.args.RunID)
}

func readPushedCommit(ctx context.Context, w *Worker, runID string) (pushedCommit, bool) {
	v, ok, err := w.DB.Effect(ctx, runID, journal.Commit)
	if err != nil || !ok {
		return pushedCommit{}, false
	}
	var pc pushedCommit
	if json.Unmarshal([]byte(v), &pc) != nil {
		return pushedCommit{}, false
	}
	return pc, true
}

// protectedNote explains the action_required check.
func protectedNote(paths []string, requester string) string {
	return fmt.Sprintf("This pull request changes protected paths that no approval covers yet: %s.\n\nA user with **maintain** or **admin** permission other than @%s, whom the repository's policy would let start a run, must press **%s** on this check. The approval covers these paths as they are in this commit, under the repository's current policy: a new push or a changed policy voids it.",
		sandbox.CodeList(paths), requester, approveLabel)
}

// heldNote explains the Run CI button.
func heldNote() string {
	return "The commit carries `[skip ci]`, so the repository's CI (and its secrets) does not run on code the agent wrote until a maintainer presses **" + ciLabel + "**, which pushes the same tree without the marker."
}

// protectNote is the progress comment's line about what the pull request still needs.
func (r *run) protectNote(ctx context.Context) string {
	if prot := r.protectedFiles(ctx); len(prot) > 0 {
		return fmt.Sprintf("\n\nThe pull request changes protected paths no approval covers yet (%s): the `agentgate` check needs a maintainer's approval.", sandbox.CodeList(prot))
	}
	if pc, ok := r.pushedCommit(ctx); ok && pc.Held {
		return "\n\nCI is held on this commit (`[skip ci]`) until a maintainer presses **" + ciLabel + "** on the `agentgate` check."
	}
	return ""
}

// ciSkipMarker keeps GitHub Actions (and most CI services) from running
// on a commit: GitHub skips push and pull_request workflows for it.
const ciSkipMarker = "[skip ci]"

// holdMessage inserts the CI skip marker as its own paragraph after the
// subject, leaving the trailers last.
func holdMessage(msg string) string {
	subject, rest, found := strings.Cut(msg, "\n\n")
	if !found {
		return strings.TrimRight(msg, "\n") + "\n\n" + ciSkipMarker + "\n"
	}
	return subject + "\n\n" + ciSkipMarker + "\n\n" + rest
}
