package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// The GitHub side of agentgate, against the GitHub stand-in and the fake
// sandbox: no Docker. What the sandbox itself does is the end-to-end
// tests' business (e2e_*_test.go).

// A maintainer's request runs once with a read-only clone token, and its
// change becomes a pull request, a completed check run and a finished
// progress comment.
func TestGitHubSideRunRendersPullRequestAndCheck(t *testing.T) {
	env, fake := startFakeEnv(t, nil)
	d, state := trigger(t, env, "@agentgate agentgate-test: write FIX.md fixed\nagentgate-test: summary Fixed the spelling.", harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q, want finished; comments %q", state, botComments(env))
	}
	if n := fake.executed(); n != 1 {
		t.Fatalf("sandbox ran %d tasks, want 1", n)
	}
	task := fake.task(0)
	if task.RunID != d.RunID || task.CloneURL != env.CloneURL || task.Token == "" || !strings.Contains(task.Text, "agentgate-test: write FIX.md fixed") {
		t.Errorf("task = %+v", task)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	if pr := prs[0]; !strings.HasPrefix(pr.Body, "Fixes #1") || !strings.Contains(pr.Body, d.RunID) || !strings.Contains(pr.Body, "Fixed the spelling.") || pr.Base != "main" {
		t.Errorf("pull request = head %q base %q body:\n%s", pr.Head, pr.Base, pr.Body)
	}
	content, err := env.Git.ReadFile(context.Background(), harness.Owner+"/"+harness.Repo, prs[0].Head, "FIX.md")
	if err != nil || content != "fixed" {
		t.Errorf("FIX.md on the branch = %q, %v", content, err)
	}
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 || checks[0].ExternalID != d.RunID || checks[0].Conclusion != "success" || !strings.Contains(checks[0].Summary, "FIX.md") {
		t.Errorf("check runs = %+v", checks)
	}
	c := botComments(env)
	if len(c) != 1 || !strings.Contains(c[0], fmt.Sprintf("Pull request #%d is ready for review", prs[0].Number)) {
		t.Errorf("progress comment = %q", c)
	}
}

// An agent that fails gets no pull request and no check run; the progress
// comment says why.
func TestGitHubSideFailedAgentRendersReason(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	d, state := trigger(t, env, "@agentgate agentgate-test: exit 3", harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q", state)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d, want none", len(prs))
	}
	if checks := env.GH.CheckRuns(harness.Owner, harness.Repo); len(checks) != 0 {
		t.Errorf("check runs = %d, want none", len(checks))
	}
	c := botComments(env)
	if len(c) != 1 || !strings.Contains(c[0], "the agent exited with code 3") {
		t.Errorf("progress comment = %q", c)
	}
	ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunFailed)
	if !ok || ev.Attrs["outcome"] != string(sandbox.OutcomeFailed) {
		t.Errorf("run.failed = %+v, %v; want outcome %q", ev, ok, sandbox.OutcomeFailed)
	}
}

// A read-only user's request waits without reaching the sandbox; its
// requester cannot approve it; a maintainer's approval runs it.
func TestGitHubSidePendingRunApproved(t *testing.T) {
	env, fake := startFakeEnv(t, nil)
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	d := comment(t, env, "@agentgate agentgate-test: write APPROVED.md approved", "reader")
	if s := wait(t, env, d.RunID); s != "pending" {
		t.Fatalf("state = %q, want pending", s)
	}
	comment(t, env, "@agentgate approve "+d.RunID, "reader")
	botSaid(t, env, "the refusal of the self-approval", "@reader", "cannot be approved by the person who asked for it")
	settled(t, env)
	if n := fake.executed(); n != 0 || doneState(env, d.RunID) != "pending" {
		t.Fatalf("after the requester's own approval: sandbox ran %d tasks, state %q", n, doneState(env, d.RunID))
	}
	comment(t, env, "@agentgate approve "+d.RunID, harness.Requester)
	eventually(t, time.Minute, "the approved run to finish", func() bool { return doneState(env, d.RunID) == "finished" })
	if n := fake.executed(); n != 1 || fake.task(0).RunID != d.RunID {
		t.Fatalf("sandbox ran %d tasks, want the approved one", n)
	}
	if ap, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunApproved); !ok || ap.Actor != harness.Requester {
		t.Errorf("approval event = %+v, %v", ap, ok)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Errorf("pull requests = %d, want 1", len(prs))
	}
}

// Refusals before the sandbox: the repository's budget spent, the
// organisation's kill switch, someone without access (who waits for a
// maintainer). None reaches the sandbox; each is recorded, and a refused
// requester is answered once a day.
func TestGitHubSideRefusals(t *testing.T) {
	env, fake := startFakeEnv(t, func(c *app.Config) { c.Controls.RunsPerRepoDay = 1 })
	if _, state := trigger(t, env, "@agentgate agentgate-test: write ONE.md one", harness.Requester); state != "finished" {
		t.Fatalf("first run = %q", state)
	}
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 || !strings.Contains(checks[0].Summary, "### Budgets") || !strings.Contains(checks[0].Summary, "runs in Codertocat/Hello-World, 24 h | 1 | 1") {
		t.Fatalf("check summary lacks the budgets: %+v", checks)
	}

	d, state := trigger(t, env, "@agentgate agentgate-test: write TWO.md two", harness.Requester)
	if state != "denied" {
		t.Fatalf("over budget: state = %q, want denied", state)
	}
	if ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunRefused); !ok || !strings.Contains(fmt.Sprint(ev.Attrs["reason"]), "budget") {
		t.Errorf("budget refusal = %+v %v", ev, ok)
	}
	botSaid(t, env, "the budget reply", "did not start: budget")

	env.GH.AddRepo(testgh.Repo{ID: 4711, Owner: harness.Owner, Name: ".github", DefaultBranch: "main"})
	env.GH.AddFile(harness.Owner, ".github", ".github/agentgate.yml", []byte("paused: true\n"))
	if d, state := trigger(t, env, "@agentgate agentgate-test: write X.md x", harness.Requester); state != "denied" {
		t.Fatalf("org paused: state = %q, want denied", state)
	} else if ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunRefused); !ok || !strings.Contains(fmt.Sprint(ev.Attrs["reason"]), "paused") {
		t.Errorf("pause refusal = %+v %v", ev, ok)
	}
	// A refused requester hears of it once per issue and day.
	replies := 0
	for _, c := range botComments(env) {
		if strings.Contains(c, "did not start") {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d refusal replies, want 1: %q", replies, botComments(env))
	}

	env.GH.SetPermission(harness.Owner, harness.Repo, "stranger", "none")
	d = comment(t, env, "@agentgate agentgate-test: write S.md s", "stranger")
	if s := wait(t, env, d.RunID); s != "pending" {
		t.Errorf("a stranger's run = %q, want pending (a maintainer's approval)", s)
	}
	settled(t, env)
	if n := fake.executed(); n != 1 {
		t.Errorf("sandbox ran %d tasks, want only the first run", n)
	}
}

// help and status answer without a run; retry starts a new one that the
// sandbox runs with the same task.
func TestGitHubSideCommands(t *testing.T) {
	env, fake := startFakeEnv(t, nil)
	first, _ := trigger(t, env, "@agentgate agentgate-test: write R.md r", harness.Requester)
	comment(t, env, "@agentgate help", harness.Requester)
	comment(t, env, "@agentgate status", harness.Requester)
	botSaid(t, env, "the help reply", "approve [*run id*]")
	botSaid(t, env, "the status reply", "| `"+first.RunID+"` | finished |")
	comment(t, env, "@agentgate retry", harness.Requester)
	retried, s := nextRun(t, env, harness.IssueNumber, first.RunID, "a retry run", 30*time.Second)
	if s != "finished" {
		t.Fatalf("retry = %q", s)
	}
	if n := fake.executed(); n != 2 || fake.task(1).RunID != retried || !strings.Contains(fake.task(1).Text, "agentgate-test: write R.md r") {
		t.Errorf("sandbox ran %d tasks; want the retry of the first task", n)
	}
	if _, ok := findEvent(kinds(t, env, first.RunID), telemetry.KindRunRetried); !ok {
		t.Error("no run.retried event on the first run")
	}
}

// A review on agentgate's pull request starts a follow-up run on its
// branch, whose change lands on the same pull request with a new check.
func TestGitHubSideFollowUpOnReview(t *testing.T) {
	env, fake := startFakeEnv(t, func(c *app.Config) { c.Controls.FollowUpDelay = 100 * time.Millisecond })
	trigger(t, env, "@agentgate agentgate-test: write FIX.md fixed", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	pr := prs[0]
	head, err := env.Git.Ref(context.Background(), harness.Owner+"/"+harness.Repo, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := env.ReviewPayload(pr.Number, pr.Head, head, "changes_requested", "Almost. @agentgate please add a review note:\nagentgate-test: write REVIEW.md reviewed", harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "pull_request_review", rv)
	var follow string
	eventually(t, 30*time.Second, "a follow-up run", func() bool {
		for _, r := range runsOn(t, env, pr.Number) {
			follow = r.ID
		}
		return follow != ""
	})
	if s := wait(t, env, follow); s != "finished" {
		t.Fatalf("follow-up = %q", s)
	}
	if n := fake.executed(); n != 2 || fake.task(1).Branch != pr.Head || !strings.Contains(fake.task(1).Text, "agentgate-test: write REVIEW.md reviewed") {
		t.Fatalf("sandbox ran %d tasks; want the follow-up on %s", n, pr.Head)
	}
	newHead, err := env.Git.Ref(context.Background(), harness.Owner+"/"+harness.Repo, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"FIX.md", "REVIEW.md"} {
		if _, err := env.Git.ReadFile(context.Background(), harness.Owner+"/"+harness.Repo, newHead, f); err != nil {
			t.Errorf("%s not on the branch after the follow-up: %v", f, err)
		}
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Errorf("pull requests = %d, want the same one", len(prs))
	}
	if checks := env.GH.CheckRuns(harness.Owner, harness.Repo); len(checks) != 2 || checks[1].HeadSHA != newHead || checks[1].ExternalID != follow {
		t.Errorf("check runs = %+v", checks)
	}
}
