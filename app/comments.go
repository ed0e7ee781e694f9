package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agentgate/agentgate/webhook"
)

// progressMarker lets a human (and agentgate) recognise its progress comment.
const progressMarker = "<!-- agentgate:progress -->"

// progressComment is the one comment agentgate edits as a run advances.
func progressComment(runID, state, detail string) string {
	var b strings.Builder
	b.WriteString(progressMarker + "\n")
	fmt.Fprintf(&b, "**agentgate** run `%s`: %s", runID, state)
	if detail != "" {
		b.WriteString("\n\n" + detail)
	}
	return b.String()
}

// deniedComment explains, once, who may start a run.
func deniedComment(login, min string) string {
	return fmt.Sprintf("Sorry @%s, agentgate runs can only be started by people with **%s** permission or more on this repository. Ask a maintainer to start it for you.", login, min)
}

// busyComment names the active run on the issue.
func busyComment(activeRunID string) string {
	return fmt.Sprintf("agentgate is already working on this issue (run `%s`). This request was not started; try again when that run has finished.", activeRunID)
}

// neutralizeMentions keeps untrusted text (the agent's summary) from
// pinging people or teams on GitHub.
func neutralizeMentions(s string) string {
	return strings.ReplaceAll(s, "@", "@\u200b")
}

// prBody is the pull request description.
func prBody(a webhook.RunJobArgs, agentSummary, runSummary string) string {
	var b strings.Builder
	issue := a.IssueNumber
	if a.FollowUp != nil && a.FollowUp.Issue != 0 {
		issue = a.FollowUp.Issue
	}
	fmt.Fprintf(&b, "Fixes #%d\n\nRequested by @%s. This change was made by an agent in an agentgate sandbox (run `%s`); merging it is the approval.\n", issue, a.RequesterLogin, a.RunID)
	if s := strings.TrimSpace(agentSummary); s != "" {
		b.WriteString("\n## Agent's summary\n\n" + neutralizeMentions(s) + "\n")
	}
	b.WriteString("\n## Run\n\n" + runSummary + "\n")
	out := b.String()
	if len(out) > 60000 {
		out = out[:60000] + "\n\n…(truncated)"
	}
	return out
}

// notListedComment explains that the configuration names who may trigger.
func notListedComment(login string) string {
	return fmt.Sprintf("Sorry @%s, this repository's agentgate configuration (`allowed_users` / `allowed_teams` in `.github/agentgate.yml`) does not list you, nor a team of it you are an active member of, so this run did not start.", login)
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}
