package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// progressMarker lets a human (and agentgate) recognise its progress comment.
const progressMarker = "<!-- agentgate:progress -->"

// progressComment is the one comment agentgate edits as a run advances,
// within GitHub's comment limit (cut at a line when the detail is longer).
func progressComment(runID, state, detail string) string {
	var b strings.Builder
	b.WriteString(progressMarker + "\n")
	fmt.Fprintf(&b, "**agentgate** run `%s`: %s", runID, state)
	if detail != "" {
		b.WriteString("\n\n" + detail)
	}
	return telemetry.CutMarkdown(b.String(), telemetry.MaxComment)
}

// deniedComment explains, once, who may start a run.
func deniedComment(login, min string) string {
	return fmt.Sprintf("Sorry @%s, agentgate runs can only be started by people with **%s** permission or more on this repository. Ask a maintainer to start it for you.", login, min)
}

// busyComment names the active run on the issue.
func busyComment(activeRunID string) string {
	return fmt.Sprintf("agentgate is already working on this issue (run `%s`). This request was not started; try again when that run has finished.", activeRunID)
}

// maxRunMarkdown bounds the run's report (the summary and the budgets
// table) wherever agentgate posts it, leaving room within GitHub's limits
// for agentgate's own notes around it (protected paths, held CI, the pull
// request's header) and for some of the agent's summary after it.
const maxRunMarkdown = telemetry.MaxMarkdown - 8<<10

// prBody is the pull request description. agentgate's own part comes
// first and whole: the issue it fixes, who asked, the run's report (flags,
// network decisions, files). The agent's summary comes last, as inert text
// (agentText), in whatever room GitHub's limit leaves; the agent can
// neither push agentgate's part out nor write markup, links, images,
// mentions or closing keywords into the description.
func prBody(a webhook.RunJobArgs, agentSummary, runSummary string) string {
	var b strings.Builder
	issue := a.IssueNumber
	if a.FollowUp != nil && a.FollowUp.Issue != 0 {
		issue = a.FollowUp.Issue
	}
	fmt.Fprintf(&b, "Fixes #%d\n\nRequested by @%s. This change was made by an agent in an agentgate sandbox (run `%s`); merging it is the approval.\n", issue, a.RequesterLogin, a.RunID)
	b.WriteString("\n## Run\n\n" + runSummary + "\n")
	own := b.String()
	if len(own) > telemetry.MaxPRBody {
		// Callers keep runSummary within maxRunMarkdown; should it not
		// fit anyway, nothing of the agent's follows a cut.
		return telemetry.CutMarkdown(own, telemetry.MaxPRBody)
	}
	return own + agentText("Agent's summary", agentSummary, telemetry.MaxPRBody-len(own))
}

// agentText is a section of text the agent wrote (its summary or plan),
// for the end of a body agentgate composed, in at most room bytes: a
// heading, a line saying whose text it is, the text in an
// telemetry.UntrustedBlock (a code block: no HTML, comment, image, link,
// mention or closing keyword). When the text does not fit, a note says so
// instead. "" for empty text.
func agentText(title, text string, room int) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	head := "\n## " + title + "\n\nWritten by the agent and shown as plain text; agentgate has not checked it.\n"
	if block := telemetry.UntrustedBlock(text, room-len(head)); block != "" {
		return head + block
	}
	if note := "\n_(" + title + ": left out, it does not fit within GitHub's size limit.)_\n"; len(note) <= room {
		return note
	}
	return ""
}

// notListedComment explains that the configuration names who may trigger.
func notListedComment(login string) string {
	return fmt.Sprintf("Sorry @%s, this repository's agentgate configuration (`allowed_users` / `allowed_teams` in `.github/agentgate.yml`) does not list you, nor a team of it you are an active member of, so this run did not start.", login)
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}
