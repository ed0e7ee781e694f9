package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/telemetry"
)

// approveAs delivers `@agentgate approve` by login with the given
// author_association and user id.
func approveAs(t *testing.T, env *harness.Env, login, association string, id int64) {
	t.Helper()
	b, _, err := env.CommentPayloadWith("@agentgate approve", login, "User", func(m map[string]any) {
		c := m["comment"].(map[string]any)
		c["author_association"] = association
		c["user"].(map[string]any)["id"] = id
		m["sender"].(map[string]any)["id"] = id
	})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, env, "issue_comment", "approve-"+login, b)
}

// An approval is given only by someone the policy would let start the run
// themselves, who is not the requester: a maintainer missing from
// allowed_users, an outside collaborator (under
// outside-collaborators-pending) and the requester under a new login are
// each refused with a reply and the run stays pending; a listed
// maintainer's approval starts it (the positive control).
func TestEndToEndApproverStandsAsRequester(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.Controls.OutsideCollaboratorsPending = true })
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("allowed_users: [maint, contractor, reader-renamed]\n"))
	for login, perm := range map[string]string{"reader": "read", "unlisted": "maintain", "contractor": "write", "reader-renamed": "maintain", "maint": "maintain"} {
		env.GH.SetPermission(harness.Owner, harness.Repo, login, perm)
	}
	d := comment(t, env, "@agentgate agentgate-test: write APPROVED.md approved", "reader")
	if s := wait(t, env, d.RunID); s != "pending" {
		t.Fatalf("state = %q, want pending", s)
	}

	for _, tt := range []struct {
		login, association string
		id                 int64
		reply              []string
	}{
		{"unlisted", "MEMBER", harness.UserID("unlisted"), []string{"@unlisted", "allowed_users"}},
		{"contractor", "OUTSIDE_COLLABORATOR", harness.UserID("contractor"), []string{"@contractor", "outside collaborator"}},
		// The requester's account, renamed: the same user id.
		{"reader-renamed", "MEMBER", harness.UserID("reader"), []string{"@reader-renamed", "cannot be approved by the person who asked for it"}},
	} {
		approveAs(t, env, tt.login, tt.association, tt.id)
		botSaid(t, env, "the refusal of "+tt.login, tt.reply...)
		settled(t, env)
		if s := doneState(env, d.RunID); s != "pending" {
			t.Fatalf("after %s's approval: state = %q, want pending", tt.login, s)
		}
		if ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunApproved); ok {
			t.Fatalf("after %s's approval: approval recorded %+v", tt.login, ev)
		}
	}

	approveAs(t, env, "maint", "MEMBER", harness.UserID("maint"))
	eventually(t, 3*time.Minute, "the approved run to finish", func() bool {
		s := doneState(env, d.RunID)
		return s != "" && s != "pending"
	})
	if s := doneState(env, d.RunID); s != "finished" {
		t.Fatalf("approved run state = %q; comments %q", s, botComments(env))
	}
	if ap, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunApproved); !ok || ap.Actor != "maint" {
		t.Errorf("approval event = %+v, %v; want one by maint", ap, ok)
	}
}

// changed turns a comment payload into its edited (with body) or deleted
// delivery: the same comment, another action.
func changed(t *testing.T, created []byte, action, body string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(created, &m); err != nil {
		t.Fatal(err)
	}
	m["action"] = action
	c := m["comment"].(map[string]any)
	if action == "edited" {
		m["changes"] = map[string]any{"body": map[string]any{"from": c["body"]}}
		c["body"] = body
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Feedback comes only from people who may start a run, and follows its
// comment: a reader's inline comment is not kept, an edited one is kept as
// edited, a deleted one is dropped. The follow-up's change shows what its
// task held: the requester's edited and asked-for files (the positive
// control), none of the others.
func TestEndToEndFeedbackFollowsItsComment(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.Controls.FollowUpDelay = time.Second })
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	trigger(t, env, "@agentgate agentgate-test: write FIX.md fixed", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	pr := prs[0]
	inline := func(body, login string) []byte {
		t.Helper()
		b, err := env.ReviewCommentPayload(pr.Number, pr.Head, pr.HeadSHA, body, "FIX.md", 1, login)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	deliverEvent(t, env, "pull_request_review_comment", inline("agentgate-test: write EVIL.md evil", "reader"))
	edited := inline("agentgate-test: write OLD.md old", harness.Requester)
	deliverEvent(t, env, "pull_request_review_comment", edited)
	deleted := inline("agentgate-test: write GONE.md gone", harness.Requester)
	deliverEvent(t, env, "pull_request_review_comment", deleted)
	settled(t, env)
	deliverEvent(t, env, "pull_request_review_comment", changed(t, edited, "edited", "agentgate-test: write EDITED.md edited"))
	deliverEvent(t, env, "pull_request_review_comment", changed(t, deleted, "deleted", ""))
	settled(t, env)

	b, _, err := env.PRCommentPayload(pr.Number, "@agentgate agentgate-test: write ASKED.md asked", harness.Requester, "OWNER")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issue_comment", b)
	var follow string
	eventually(t, time.Minute, "a follow-up run", func() bool {
		for _, r := range runsOn(t, env, pr.Number) {
			follow = r.ID
		}
		return follow != ""
	})
	if s := wait(t, env, follow); s != "finished" {
		t.Fatalf("follow-up = %q", s)
	}
	ctx := context.Background()
	head, err := env.Git.Ref(ctx, repoName, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]bool{"ASKED.md": true, "EDITED.md": true, "EVIL.md": false, "OLD.md": false, "GONE.md": false} {
		_, err := env.Git.ReadFile(ctx, repoName, head, f)
		if got := err == nil; got != want {
			t.Errorf("%s on the branch after the follow-up: %v, want %v", f, got, want)
		}
	}
}

// followUp asks for a follow-up on pull request pr as the requester and
// returns the new run once it finished.
func followUp(t *testing.T, env *harness.Env, pr int, text string, before int) string {
	t.Helper()
	b, _, err := env.PRCommentPayload(pr, "@agentgate "+text, harness.Requester, "OWNER")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issue_comment", b)
	var id string
	eventually(t, time.Minute, "a follow-up run", func() bool {
		runs := runsOn(t, env, pr)
		if len(runs) > before {
			id = runs[0].ID // newest first
		}
		return id != ""
	})
	if s := wait(t, env, id); s != "finished" {
		t.Fatalf("follow-up = %q", s)
	}
	return id
}

// checkOf is the agentgate check run of runID.
func checkOf(t *testing.T, env *harness.Env, runID string) testgh.CheckRun {
	t.Helper()
	for _, c := range checksNamed(env, "agentgate") {
		if c.ExternalID == runID {
			return c
		}
	}
	t.Fatalf("no agentgate check of run %s", runID)
	return testgh.CheckRun{}
}

// clickAs presses a check run button as login with the given user id and
// waits for the decision.
func clickAs(t *testing.T, env *harness.Env, cr testgh.CheckRun, branch, identifier, login string, id int64) {
	t.Helper()
	b, err := env.CheckActionPayload(cr, branch, identifier, login)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["sender"].(map[string]any)["id"] = id
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	before := decisions(t, env, cr.ExternalID)
	deliver(t, env, "check_run", "click-"+login+"-"+identifier, b)
	eventually(t, time.Minute, "the decision on the click", func() bool { return decisions(t, env, cr.ExternalID) > before })
	settled(t, env)
}

func decisions(t *testing.T, env *harness.Env, runID string) int {
	t.Helper()
	n := 0
	for _, ev := range kinds(t, env, runID) {
		if ev.Kind == telemetry.KindApprovalGranted || ev.Kind == telemetry.KindApprovalRefused {
			n++
		}
	}
	return n
}

// Protected paths are judged on the pull request: after a run changed
// CODEOWNERS unapproved, a trivial follow-up's check still asks for an
// approval of CODEOWNERS and its CI cannot be released; the requester
// under a new login cannot approve it. Once a maintainer approved that
// change, the next trivial follow-up gets success and the Run CI button
// (the positive control): the approval covers the change it saw.
func TestEndToEndProtectedPathsJudgedOnPullRequest(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.Controls.FollowUpDelay = 500 * time.Millisecond })
	env.GH.SetPermission(harness.Owner, harness.Repo, "mona", "maintain")
	env.GH.SetPermission(harness.Owner, harness.Repo, "codertocat-renamed", "admin")
	d, _ := trigger(t, env, "@agentgate own it\nagentgate-test: write CODEOWNERS * @mona", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	pr := prs[0]
	if c := checkOf(t, env, d.RunID); c.Conclusion != "action_required" {
		t.Fatalf("first check = %s", c.Conclusion)
	}

	second := followUp(t, env, pr.Number, "agentgate-test: write NOTES.md notes", 0)
	c2 := checkOf(t, env, second)
	if c2.Conclusion != "action_required" || !strings.Contains(c2.Summary, "`CODEOWNERS`") || strings.Contains(c2.Summary, "[skip ci]`, so") {
		t.Fatalf("trivial follow-up after an unapproved CODEOWNERS change: check %s\n%s", c2.Conclusion, c2.Summary)
	}
	clickAs(t, env, c2, pr.Head, "ci", "mona", harness.UserID("mona"))
	if ev, _ := lastEvent(kinds(t, env, second), telemetry.KindApprovalRefused); !strings.Contains(ev.Attrs["reason"].(string), "protected paths") {
		t.Fatalf("Run CI on the follow-up: %+v", ev)
	}
	// The requester, renamed (same user id): refused.
	clickAs(t, env, c2, pr.Head, "approve", "codertocat-renamed", harness.RequesterID)
	if ev, _ := lastEvent(kinds(t, env, second), telemetry.KindApprovalRefused); !strings.Contains(ev.Attrs["reason"].(string), "asked for this run") {
		t.Fatalf("the renamed requester's approval: %+v", ev)
	}

	// A maintainer approves what the second check showed.
	clickAs(t, env, c2, pr.Head, "approve", "mona", harness.UserID("mona"))
	if _, ok := lastEvent(kinds(t, env, second), telemetry.KindApprovalGranted); !ok {
		t.Fatalf("mona's approval was not granted: %+v", kinds(t, env, second))
	}
	third := followUp(t, env, pr.Number, "agentgate-test: write MORE.md more", 1)
	c3 := checkOf(t, env, third)
	if c3.Conclusion != "success" || strings.Contains(c3.Summary, "`CODEOWNERS`") || !strings.Contains(c3.Summary, "[skip ci]") {
		t.Fatalf("follow-up after the approval: check %s\n%s", c3.Conclusion, c3.Summary)
	}
}

// What a maintainer approved is what runs. A reader asks for EVIL.md and
// the run waits; a maintainer approves; while the approved run starts (a
// rate limit holds it for a few seconds) the reader edits the comment: the
// run reads the text again, finds it is not what the approval named, and
// nothing runs; the approval is void and the run waits again. The
// maintainer's second approval, of the text as it is now, runs that text
// (BENIGN.md; the positive control), not the one captured at the trigger.
func TestEndToEndApprovalNamesTaskText(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	env.GH.SetPermission(harness.Owner, harness.Repo, "maint", "maintain")
	b, commentID, err := env.CommentPayload("@agentgate agentgate-test: write EVIL.md evil", "reader", "User")
	if err != nil {
		t.Fatal(err)
	}
	d := deliver(t, env, "issue_comment", "text-trigger", b)
	if s := wait(t, env, d.RunID); s != "pending" {
		t.Fatalf("state = %q, want pending", s)
	}
	// The approved run's first look at its requester waits 5 s.
	permission := "/repos/" + harness.Owner + "/" + harness.Repo + "/collaborators/reader/permission"
	env.GH.FailNext("GET", permission, 403, map[string]string{"Retry-After": "5"})
	approveAs(t, env, "maint", "MEMBER", harness.UserID("maint"))
	eventually(t, time.Minute, "the approved run to be held by the rate limit", func() bool {
		for _, r := range env.GH.Requests() {
			if r.Status == 403 && strings.HasSuffix(r.Path, permission) {
				return true
			}
		}
		return false
	})
	if !env.GH.EditComment(harness.Owner, harness.Repo, commentID, "@agentgate agentgate-test: write BENIGN.md benign") {
		t.Fatal("no such comment")
	}
	botSaid(t, env, "the void approval", "approval is void", d.RunID)
	settled(t, env)
	if s := doneState(env, d.RunID); s != "pending" {
		t.Fatalf("after the text changed: state = %q, want pending", s)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Fatalf("pull requests = %d after a voided approval", len(prs))
	}
	evs := kinds(t, env, d.RunID)
	if _, ok := findEvent(evs, telemetry.KindTextChanged); !ok {
		t.Error("no approval.text_changed event")
	}
	first, _ := findEvent(evs, telemetry.KindRunApproved)

	comment(t, env, "@agentgate approve", "maint")
	eventually(t, 3*time.Minute, "the approved run to finish", func() bool {
		s := doneState(env, d.RunID)
		return s != "" && s != "pending"
	})
	if s := doneState(env, d.RunID); s != "finished" {
		t.Fatalf("state = %q; comments %q", s, botComments(env))
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	ctx := context.Background()
	if _, err := env.Git.ReadFile(ctx, repoName, prs[0].HeadSHA, "BENIGN.md"); err != nil {
		t.Errorf("the run did not do what the approval saw: %v", err)
	}
	if _, err := env.Git.ReadFile(ctx, repoName, prs[0].HeadSHA, "EVIL.md"); err == nil {
		t.Error("the run did what the comment said before it was edited")
	}
	var names []any
	for _, ev := range kinds(t, env, d.RunID) {
		if ev.Kind == telemetry.KindRunApproved {
			names = append(names, ev.Attrs["text_sha256"])
		}
	}
	if len(names) != 2 || names[0] == nil || names[0] == names[1] || first.Attrs["text_sha256"] != names[0] {
		t.Errorf("approvals name texts %v; want two different hashes", names)
	}
}

// `retry` runs the task text as it is when it is asked for, not as it was
// captured at the first trigger: after the comment was edited, the retried
// run does what the comment says now.
func TestEndToEndRetryRunsTheTextAsItIsNow(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	b, commentID, err := env.CommentPayload("@agentgate agentgate-test: write FIRST.md first", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	d := deliver(t, env, "issue_comment", "retry-text-1", b)
	if s := wait(t, env, d.RunID); s != "finished" {
		t.Fatalf("first run = %q", s)
	}
	if !env.GH.EditComment(harness.Owner, harness.Repo, commentID, "@agentgate agentgate-test: write EDITED.md edited") {
		t.Fatal("no such comment")
	}
	comment(t, env, "@agentgate retry", harness.Requester)
	retried, s := nextRun(t, env, harness.IssueNumber, d.RunID, "a retry run", time.Minute)
	if s != "finished" {
		t.Fatalf("retry = %q", s)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	ctx := context.Background()
	head, err := env.Git.Ref(ctx, repoName, "refs/heads/"+prs[0].Head)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Git.ReadFile(ctx, repoName, head, "EDITED.md"); err != nil {
		t.Errorf("the retry did not run the comment as it is now: %v", err)
	}
	if _, err := env.Git.ReadFile(ctx, repoName, head, "FIRST.md"); err == nil {
		t.Error("the retry ran the comment as captured at the first trigger")
	}
	if v, ok, _ := env.App.DB().Effect(ctx, retried, "text.approved"); !ok || len(v) != 64 {
		t.Errorf("the retry names no text hash: %q %v", v, ok)
	}
}
