package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/telemetry"
)

// deliverStatus posts a signed delivery and returns intake's answer.
func deliverStatus(t *testing.T, env *harness.Env, event string, body []byte) harness.Delivery {
	t.Helper()
	d, err := env.Deliver(context.Background(), event, fmt.Sprintf("%s-%d", event, time.Now().UnixNano()), body)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Mentions where people write them: after a line of thanks, with a colon,
// in an issue's opening text, or added by an edit soon after; never in
// code or a quote, and an edit never twice.
func TestEndToEndMentionsWherePeopleWriteThem(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	ctx := context.Background()
	repo := harness.Owner + "/" + harness.Repo

	// Code and quotes address nobody: intake answers 200, no job.
	for _, body := range []string{
		"To ask for a run, write:\n```\n@agentgate agentgate-test: write CODE.md no\n```",
		"> @agentgate agentgate-test: write QUOTE.md no\n\nThat is what they said.",
		"Try `\n@agentgate agentgate-test: write SPAN.md no` maybe",
		"Some text\n\n    @agentgate agentgate-test: write INDENT.md no",
	} {
		b, _, err := env.CommentPayload(body, harness.Requester, "User")
		if err != nil {
			t.Fatal(err)
		}
		if d := deliverStatus(t, env, "issue_comment", b); d.Status != 200 || !strings.Contains(d.Body, "ignored") {
			t.Errorf("%q: intake answered %d %q, want 200 ignored", body, d.Status, d.Body)
		}
	}

	// A mention on a later line, with a comma, starts a run.
	b, _, err := env.CommentPayload("Thanks for the report!\n@agentgate, agentgate-test: write LINE.md later line", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	d := deliverStatus(t, env, "issue_comment", b)
	if d.Status != 202 || d.RunID == "" {
		t.Fatalf("later-line mention: %d %q", d.Status, d.Body)
	}
	if s := wait(t, env, d.RunID); s != "finished" {
		t.Fatalf("later-line mention run = %q", s)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	if _, err := env.Git.ReadFile(ctx, repo, prs[0].Head, "LINE.md"); err != nil {
		t.Errorf("LINE.md not on the branch: %v", err)
	}

	// An issue opened with the mention at a line's start.
	b, err = env.IssueOpenedPayload("The README misspells commit.\r\n\r\n@agentgate: agentgate-test: write OPENED.md opened", harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	d = deliverStatus(t, env, "issues", b)
	if d.Status != 202 || d.RunID == "" {
		t.Fatalf("issues.opened: %d %q", d.Status, d.Body)
	}
	if s := wait(t, env, d.RunID); s != "finished" {
		t.Fatalf("issues.opened run = %q", s)
	}
	if again := deliverStatus(t, env, "issues", b); again.Status != 200 {
		t.Errorf("the same issues.opened body again: %d %q, want 200", again.Status, again.Body)
	}

	// A comment edited to add the mention within the window triggers once.
	plain := "agentgate-test: write EDITED.md edited"
	b, id, err := env.CommentPayload(plain, harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	if d := deliverStatus(t, env, "issue_comment", b); d.Status != 200 {
		t.Fatalf("comment without the mention: %d %q", d.Status, d.Body)
	}
	created := time.Now().Add(-time.Minute)
	withMention := "Oops, forgot:\n@agentgate " + plain
	b, err = env.CommentEditedPayload(id, withMention, plain, harness.Requester, created, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d = deliverStatus(t, env, "issue_comment", b)
	if d.Status != 202 || d.RunID == "" {
		t.Fatalf("edit adding the mention: %d %q", d.Status, d.Body)
	}
	if s := wait(t, env, d.RunID); s != "finished" {
		t.Fatalf("edit-triggered run = %q", s)
	}
	// Removing the mention and adding it again: the comment already acted.
	b, err = env.CommentEditedPayload(id, withMention+" again", plain, harness.Requester, created, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if again := deliverStatus(t, env, "issue_comment", b); again.Status != 200 || again.RunID != "" {
		t.Errorf("second edit adding the mention: %d %q, want 200 and no run", again.Status, again.Body)
	}
	// An edit after the window starts nothing.
	b, id, err = env.CommentPayload("agentgate-test: write LATE.md late", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	deliverStatus(t, env, "issue_comment", b)
	b, err = env.CommentEditedPayload(id, "@agentgate agentgate-test: write LATE.md late", "agentgate-test: write LATE.md late",
		harness.Requester, time.Now().Add(-time.Hour), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if late := deliverStatus(t, env, "issue_comment", b); late.Status != 200 || !strings.Contains(late.Body, "window") {
		t.Errorf("late edit: %d %q, want 200 ignored (window)", late.Status, late.Body)
	}
	if n := len(runsOn(t, env, harness.IssueNumber)); n != 3 {
		t.Errorf("runs on the issue = %d, want 3 (later line, opened, edit)", n)
	}
	// A comment edited on agentgate's pull request is still feedback kept
	// (updated), not a new run.
	_, cid, err := env.PRCommentPayload(prs[0].Number, "nothing yet", harness.Requester, "")
	if err != nil {
		t.Fatal(err)
	}
	pe, err := env.CommentEditedPayload(cid, "@agentgate use a map", "nothing yet", harness.Requester, time.Now(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pe = patchJSON(t, pe, func(m map[string]any) {
		is := m["issue"].(map[string]any)
		is["number"] = prs[0].Number
		is["pull_request"] = map[string]any{"url": "https://api.github.com/repos/x/y/pulls/1"}
	})
	if d := deliverStatus(t, env, "issue_comment", pe); d.Status != 202 || d.RunID != "" || !strings.Contains(d.Body, `"job":"agentgate.feedback_change"`) {
		t.Errorf("edit on agentgate's pull request: %d %q, want 202 and the feedback change job", d.Status, d.Body)
	}
}

// Feedback where reviewers give it: a review submitted as "comment" that
// mentions agentgate and its inline comments that address it become one
// follow-up; an inline comment alone that addresses agentgate starts one
// too, as the same text in an issue comment would.
func TestEndToEndReviewFeedbackWhereGiven(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.Controls.FollowUpDelay = 3 * time.Second })
	ctx := context.Background()
	repo := harness.Owner + "/" + harness.Repo
	first, _ := trigger(t, env, "@agentgate agentgate-test: write FIX.md fixed", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	pr := prs[0]
	head, err := env.Git.Ref(ctx, repo, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := env.ReviewPayload(pr.Number, pr.Head, head, "commented", "A few things. @agentgate please:\nagentgate-test: write REVIEW.md reviewed", harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := env.ReviewCommentPayload(pr.Number, pr.Head, head, "@agentgate agentgate-test: write INLINE1.md one", "FIX.md", 1, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := env.ReviewCommentPayload(pr.Number, pr.Head, head, "Nit.\n@agentgate: agentgate-test: write INLINE2.md two", "FIX.md", 1, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "pull_request_review_comment", c1)
	deliverEvent(t, env, "pull_request_review_comment", c2)
	deliverEvent(t, env, "pull_request_review", rv)
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
	if n := len(runsOn(t, env, pr.Number)); n != 1 {
		t.Errorf("follow-up runs = %d, want 1 (the review's comments batched)", n)
	}
	head, err = env.Git.Ref(ctx, repo, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"REVIEW.md", "INLINE1.md", "INLINE2.md"} {
		if _, err := env.Git.ReadFile(ctx, repo, head, f); err != nil {
			t.Errorf("%s not on the branch after the follow-up: %v", f, err)
		}
	}
	ev, ok := findEvent(kinds(t, env, first.RunID), telemetry.KindFollowUpQueued)
	if !ok || fmt.Sprint(ev.Attrs["items"]) != "3" {
		t.Errorf("follow-up queued = %+v %v, want 3 items", ev, ok)
	}

	// An inline comment alone, addressing agentgate: a second follow-up.
	c3, err := env.ReviewCommentPayload(pr.Number, pr.Head, head, "Thanks!\n@agentgate agentgate-test: write ALONE.md alone", "FIX.md", 1, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "pull_request_review_comment", c3)
	_, s := nextRun(t, env, pr.Number, follow, "a second follow-up run", time.Minute)
	if s != "finished" {
		t.Fatalf("second follow-up = %q", s)
	}
	head, err = env.Git.Ref(ctx, repo, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Git.ReadFile(ctx, repo, head, "ALONE.md"); err != nil {
		t.Errorf("ALONE.md not on the branch: %v", err)
	}
	var eyes bool
	for _, r := range env.GH.Reactions(harness.Owner, harness.Repo) {
		eyes = eyes || (r.Subject == "issue" && r.SubjectID == int64(pr.Number) && r.Content == "eyes")
	}
	if !eyes {
		t.Error("no 👀 on the pull request for inline feedback")
	}
}

// The issue's lifecycle ends runs: "Re-run all checks" on agentgate's
// suite re-runs; deleting the comment of a pending run drops it; closing
// the issue stops the running sandbox, and the progress comment says why.
func TestEndToEndIssueLifecycleEndsRuns(t *testing.T) {
	env := startEnv(t, nil)
	ctx := context.Background()
	repo := harness.Owner + "/" + harness.Repo

	// check_suite.rerequested on agentgate's suite: a new run, like Re-run.
	first, _ := trigger(t, env, "@agentgate agentgate-test: write FIX.md fixed", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	head, err := env.Git.Ref(ctx, repo, "refs/heads/"+prs[0].Head)
	if err != nil {
		t.Fatal(err)
	}
	other, err := env.SuiteRerunPayload(prs[0].Head, head, harness.AppID+1, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "check_suite", other) // another app's suite: nothing
	sb, err := env.SuiteRerunPayload(prs[0].Head, head, harness.AppID, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "check_suite", sb)
	_, s := nextRun(t, env, harness.IssueNumber, first.RunID, "the suite's re-run", time.Minute)
	if s != "finished" {
		t.Fatalf("re-run = %q", s)
	}
	if n := len(runsOn(t, env, harness.IssueNumber)); n != 2 {
		t.Errorf("runs = %d, want 2 (the other app's suite re-ran nothing)", n)
	}
	if ev, ok := findEvent(kinds(t, env, first.RunID), telemetry.KindRunRetried); !ok || ev.Attrs["trigger"] != "rerun" {
		t.Errorf("run.retried = %+v %v", ev, ok)
	}

	// Deleting the comment that asked for a pending run drops the run.
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	b, id, err := env.CommentPayload("@agentgate agentgate-test: write PENDING.md pending", "reader", "User")
	if err != nil {
		t.Fatal(err)
	}
	pending := deliverStatus(t, env, "issue_comment", b)
	if pending.Status != 202 {
		t.Fatalf("pending trigger: %d %q", pending.Status, pending.Body)
	}
	if s := wait(t, env, pending.RunID); s != "pending" {
		t.Fatalf("state = %q, want pending", s)
	}
	db, err := env.CommentDeletedPayload(id, "reader")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issue_comment", db)
	eventually(t, 30*time.Second, "the pending run dropped", func() bool {
		r, err := env.App.DB().GetRun(ctx, pending.RunID)
		return err == nil && r.State == "cancelled"
	})

	// Closing the issue stops the running sandbox.
	d := comment(t, env, "@agentgate agentgate-test: sleep 120\nagentgate-test: write LATE.md late", harness.Requester)
	eventually(t, time.Minute, "the sandbox to start", func() bool {
		_, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindSandboxStarted)
		return ok
	})
	closed, err := env.IssuePayload("closed", "maintainer", nil)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issues", closed)
	eventually(t, 30*time.Second, "the run to be cancelled", func() bool { return doneState(env, d.RunID) != "" })
	if s := doneState(env, d.RunID); s != "cancelled" {
		t.Fatalf("state = %q, want cancelled", s)
	}
	if n := containersOf(t, env.Docker, env.Config.WorkerID); n != 0 {
		t.Errorf("%d containers left after the issue was closed", n)
	}
	var progress string
	for _, c := range botComments(env) {
		if strings.Contains(c, d.RunID) {
			progress = c
		}
	}
	if !strings.Contains(progress, "the issue was closed") || !strings.Contains(progress, "@maintainer") {
		t.Errorf("progress comment = %q", progress)
	}
	if ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunCancelRequested); !ok || ev.Actor != "maintainer" {
		t.Errorf("cancel request event = %+v %v", ev, ok)
	}
	if _, err := env.Git.ReadFile(ctx, repo, prs[0].Head, "LATE.md"); err == nil {
		t.Error("the cancelled run pushed LATE.md")
	}
}

// patchJSON decodes a payload, applies patch and encodes it again.
func patchJSON(t *testing.T, b []byte, patch func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	patch(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
