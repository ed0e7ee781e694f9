package app

import (
	"fmt"
	"strings"

	"github.com/agentgate/agentgate/app/tasktext"
	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/webhook"
)

// taskText is the task file for a GitHub-triggered run: the issue as it was
// at the trigger and the requester's instructions, as a person reads them
// on GitHub (hidden text removed, invisible characters shown; see
// tasktext.Sanitize), followed by where each part came from. It is a file
// in the sandbox, never a command line. Nothing in it decides anything:
// branch, repository, token, policy and merging are fixed by agentgate.
func taskText(a webhook.RunJobArgs) string {
	var b strings.Builder
	var hidden tasktext.Report
	fmt.Fprintf(&b, "# %s\n\n", gitops.OneLine(a.IssueTitle, 256))
	body, rep := tasktext.Sanitize(strings.TrimSpace(a.IssueBody))
	hidden.Add(rep)
	b.WriteString(strings.TrimSpace(body))
	b.WriteString("\n")
	if in := strings.TrimSpace(a.Instructions); in != "" {
		in, rep := tasktext.Sanitize(in)
		hidden.Add(rep)
		b.WriteString("\n## Instructions from @" + gitops.OneLine(a.RequesterLogin, 64) + "\n\n" + strings.TrimSpace(in) + "\n")
	}
	b.WriteString(feedbackText(a.FollowUp, &hidden))
	b.WriteString("\n---\n")
	b.WriteString(taskSource(a))
	if !hidden.Empty() {
		fmt.Fprintf(&b, "Text hidden on GitHub was removed or made visible: %s.\n", hidden)
	}
	fmt.Fprintf(&b, "agentgate run %s.\n", gitops.OneLine(a.RunID, 64))
	return b.String()
}

// taskSource says where the task's text came from: the issue, its author
// and time, and the triggering comment or label.
func taskSource(a webhook.RunJobArgs) string {
	one := func(s string) string { return gitops.OneLine(s, 200) }
	src := a.Source
	if src == nil {
		src = &webhook.Source{}
	}
	kind := "Issue"
	if a.IsPullRequest {
		kind = "Pull request"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s #%d in %s/%s", kind, a.IssueNumber, one(a.Owner), one(a.Repo))
	if src.IssueURL != "" {
		fmt.Fprintf(&b, " (%s)", one(src.IssueURL))
	}
	if src.IssueAuthor != "" {
		fmt.Fprintf(&b, ", opened by @%s", one(src.IssueAuthor))
	}
	if src.IssueUpdatedAt != "" {
		fmt.Fprintf(&b, ", text as of %s", one(src.IssueUpdatedAt))
	}
	b.WriteString(".\n")
	switch {
	case a.CommentID != 0:
		fmt.Fprintf(&b, "Instructions: comment %d", a.CommentID)
		if src.CommentURL != "" {
			fmt.Fprintf(&b, " (%s)", one(src.CommentURL))
		}
		fmt.Fprintf(&b, " by @%s", one(a.RequesterLogin))
		if src.CommentAt != "" {
			fmt.Fprintf(&b, " at %s", one(src.CommentAt))
		}
		b.WriteString(".\n")
	case a.Trigger == webhook.TriggerLabel:
		fmt.Fprintf(&b, "Started by a label added by @%s.\n", one(a.RequesterLogin))
	case a.Trigger == webhook.TriggerMention && a.Event == "issues":
		fmt.Fprintf(&b, "Started by the mention in the issue's text, opened by @%s.\n", one(a.RequesterLogin))
	}
	return b.String()
}
