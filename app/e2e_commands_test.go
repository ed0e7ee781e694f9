package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// deliverEvent posts a signed delivery that must be accepted (202).
func deliverEvent(t *testing.T, env *harness.Env, event string, body []byte) {
	t.Helper()
	d, err := env.Deliver(context.Background(), event, fmt.Sprintf("%s-%d", event, time.Now().UnixNano()), body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != 202 {
		t.Fatalf("%s: intake answered %d %q, want 202", event, d.Status, d.Body)
	}
}

// comment delivers "body" by login on the example issue and returns the delivery.
func comment(t *testing.T, env *harness.Env, body, login string) harness.Delivery {
	t.Helper()
	b, _, err := env.CommentPayload(body, login, "User")
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.Deliver(context.Background(), "issue_comment", fmt.Sprintf("c-%d", time.Now().UnixNano()), b)
	if err != nil || d.Status != 202 {
		t.Fatalf("comment %q: %+v %v", body, d, err)
	}
	return d
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// doneState is a run's recorded end ("" while it goes on).
func doneState(env *harness.Env, runID string) string {
	state, done, err := env.App.RunState(context.Background(), runID)
	if err != nil || !done {
		return ""
	}
	return state
}

func kinds(t *testing.T, env *harness.Env, runID string) []telemetry.Event {
	t.Helper()
	evs, err := env.App.DB().Events(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func findEvent(evs []telemetry.Event, kind string) (telemetry.Event, bool) {
	for _, ev := range evs {
		if ev.Kind == kind {
			return ev, true
		}
	}
	return telemetry.Event{}, false
}

// nextRun waits, up to within, for a run on issue or pull request number
// other than prev (the latest when there are several: what follows
// prev), then for it to end; it returns the run's id and its end state.
func nextRun(t *testing.T, env *harness.Env, number int, prev, what string, within time.Duration) (id, state string) {
	t.Helper()
	eventually(t, within, what, func() bool {
		for _, r := range runsOn(t, env, number) {
			if r.ID != prev {
				id = r.ID
			}
		}
		return id != ""
	})
	return id, wait(t, env, id)
}

func runsOn(t *testing.T, env *harness.Env, number int) []store.Run {
	t.Helper()
	runs, err := env.App.DB().RunsOnIssue(context.Background(), harness.RepoID, number)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// A read-only user's request waits; they hear of it once, however often
// they ask; they cannot approve it themselves; a maintainer's approval
// starts the same run, with the approval and its author in the audit
// trail.
func TestEndToEndPendingRunApproved(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	d1 := comment(t, env, "@agentgate agentgate-test: write APPROVED.md approved", "reader")
	if s := wait(t, env, d1.RunID); s != "pending" {
		t.Fatalf("state = %q, want pending", s)
	}
	d2 := comment(t, env, "@agentgate please, really", "reader")
	if s := wait(t, env, d2.RunID); s != "pending" {
		t.Fatalf("second request: state = %q, want pending", s)
	}
	if c := botComments(env); len(c) != 1 || !strings.Contains(c[0], "@agentgate approve") || !strings.Contains(c[0], "@reader") {
		t.Fatalf("want one reply naming the approve command, got %q", c)
	}
	confused := 0
	for _, r := range env.GH.Reactions(harness.Owner, harness.Repo) {
		if r.Content == "confused" {
			confused++
		}
	}
	if confused != 1 {
		t.Errorf("second attempt: %d confused reactions, want 1", confused)
	}
	// The requester cannot approve their own run.
	comment(t, env, "@agentgate approve "+d1.RunID, "reader")
	botSaid(t, env, "the refusal of the self-approval", "@reader", "cannot be approved by the person who asked for it")
	settled(t, env)
	if doneState(env, d1.RunID) != "pending" {
		t.Fatal("the requester's own approval started the run")
	}
	if _, ok := findEvent(kinds(t, env, d1.RunID), telemetry.KindRunApproved); ok {
		t.Fatal("the requester's own approval was recorded")
	}
	// A maintainer approves the first one by id.
	comment(t, env, "@agentgate approve "+d1.RunID, harness.Requester)
	eventually(t, 3*time.Minute, "the approved run to finish", func() bool {
		s := doneState(env, d1.RunID)
		return s != "" && s != "pending"
	})
	if s := doneState(env, d1.RunID); s != "finished" {
		t.Fatalf("approved run state = %q", s)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	evs := kinds(t, env, d1.RunID)
	ap, ok := findEvent(evs, telemetry.KindRunApproved)
	if !ok || ap.Actor != harness.Requester {
		t.Errorf("approval event = %+v, %v; want one by %s", ap, ok, harness.Requester)
	}
	if doneState(env, d2.RunID) != "pending" {
		t.Error("approving one run started another")
	}
}

// An outside collaborator with write access waits for a maintainer when
// the operator says so.
func TestEndToEndOutsideCollaboratorApproved(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.Controls.OutsideCollaboratorsPending = true })
	env.GH.SetPermission(harness.Owner, harness.Repo, "contractor", "write")
	b, _, err := env.CommentPayloadWith("@agentgate agentgate-test: write OUT.md out", "contractor", "User", func(m map[string]any) {
		m["comment"].(map[string]any)["author_association"] = "OUTSIDE_COLLABORATOR"
	})
	if err != nil {
		t.Fatal(err)
	}
	d := deliver(t, env, "issue_comment", "outside-1", b)
	if s := wait(t, env, d.RunID); s != "pending" {
		t.Fatalf("state = %q, want pending", s)
	}
	comment(t, env, "@agentgate approve", harness.Requester)
	eventually(t, 3*time.Minute, "the approved run", func() bool { s := doneState(env, d.RunID); return s != "" && s != "pending" })
	if s := doneState(env, d.RunID); s != "finished" {
		t.Fatalf("state = %q", s)
	}
	if _, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunApproved); !ok {
		t.Error("no approval event")
	}
}

// `@agentgate cancel` stops a sleeping agent within seconds: the container
// is removed (startEnv's cleanup checks), nothing is pushed and the
// progress comment says so.
func TestEndToEndCancelMidRun(t *testing.T) {
	env := startEnv(t, nil)
	d := comment(t, env, "@agentgate agentgate-test: sleep 120\nagentgate-test: write LATE.md late", harness.Requester)
	eventually(t, time.Minute, "the sandbox to start", func() bool {
		_, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindSandboxStarted)
		return ok
	})
	time.Sleep(time.Second)
	start := time.Now()
	comment(t, env, "@agentgate cancel", harness.Requester)
	eventually(t, 30*time.Second, "the run to be cancelled", func() bool { return doneState(env, d.RunID) != "" })
	took := time.Since(start)
	if s := doneState(env, d.RunID); s != "cancelled" {
		t.Fatalf("state = %q, want cancelled", s)
	}
	t.Logf("cancel to cancelled: %s", took)
	if took > 15*time.Second {
		t.Errorf("cancel took %s", took)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d", len(prs))
	}
	if n := containersOf(t, env.Docker, env.Config.WorkerID); n != 0 {
		t.Errorf("%d containers left after cancel", n)
	}
	var progress string
	for _, c := range botComments(env) {
		if strings.Contains(c, d.RunID) {
			progress = c
		}
	}
	if !strings.Contains(progress, "cancelled") || !strings.Contains(progress, "@"+harness.Requester) {
		t.Errorf("progress comment = %q", progress)
	}
	evs := kinds(t, env, d.RunID)
	if ev, ok := findEvent(evs, telemetry.KindRunCancelRequested); !ok || ev.Actor != harness.Requester {
		t.Errorf("cancel request event = %+v %v", ev, ok)
	}
}

// Two triggers on one issue: with on-busy restart the second cancels the
// first and runs.
func TestEndToEndSecondTriggerRestarts(t *testing.T) {
	env := startEnv(t, func(c *app.Config) { c.Controls.OnBusy = "restart" })
	d1 := comment(t, env, "@agentgate agentgate-test: sleep 120\nagentgate-test: write FIRST.md first", harness.Requester)
	eventually(t, time.Minute, "the first sandbox", func() bool {
		_, ok := findEvent(kinds(t, env, d1.RunID), telemetry.KindSandboxStarted)
		return ok
	})
	d2 := comment(t, env, "@agentgate agentgate-test: write SECOND.md second", harness.Requester)
	if s := wait(t, env, d2.RunID); s != "finished" {
		t.Fatalf("second run = %q", s)
	}
	if s := doneState(env, d1.RunID); s != "cancelled" {
		t.Fatalf("first run = %q, want cancelled", s)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	if _, err := env.Git.ReadFile(context.Background(), harness.Owner+"/"+harness.Repo, "refs/heads/"+prs[0].Head, "SECOND.md"); err != nil {
		t.Errorf("the second run's change is not on the branch: %v", err)
	}
}

// A review that requests changes and mentions the app, with an inline
// comment arriving with it, becomes one follow-up run on the same branch:
// it starts from the branch head (a human's commit on it is kept), pushes
// a fast-forward commit, updates the same pull request and adds a check.
func TestEndToEndFollowUpOnReview(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.Controls.FollowUpDelay = 2 * time.Second })
	first, _ := trigger(t, env, "@agentgate agentgate-test: write FIX.md fixed", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	pr := prs[0]
	ctx := context.Background()
	repo := harness.Owner + "/" + harness.Repo
	human, err := env.Git.Commit(ctx, repo, pr.Head, "human touch", []testgit.File{{Path: "HUMAN.md", Content: "by hand\n"}})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := env.ReviewCommentPayload(pr.Number, pr.Head, human, "agentgate-test: write INLINE.md inline", "FIX.md", 1, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := env.ReviewPayload(pr.Number, pr.Head, human, "changes_requested", "Almost. @agentgate please add a review note:\nagentgate-test: write REVIEW.md reviewed", harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "pull_request_review_comment", rc)
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
		t.Errorf("follow-up runs = %d, want 1 (coalesced)", n)
	}
	head, err := env.Git.Ref(ctx, repo, "refs/heads/"+pr.Head)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := env.Git.Git(ctx, repo, "rev-parse", head+"^")
	if err != nil || strings.TrimSpace(parent) != human {
		t.Errorf("follow-up commit's parent = %q (%v), want the human commit %s", parent, err, human)
	}
	for _, f := range []string{"FIX.md", "HUMAN.md", "REVIEW.md", "INLINE.md"} {
		if _, err := env.Git.ReadFile(ctx, repo, head, f); err != nil {
			t.Errorf("%s not on the branch after the follow-up: %v", f, err)
		}
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Errorf("pull requests = %d, want the same one", len(prs))
	}
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 2 || checks[1].HeadSHA != head || checks[1].ExternalID != follow {
		t.Errorf("check runs = %+v", checks)
	}
	if _, ok := findEvent(kinds(t, env, first.RunID), telemetry.KindFollowUpQueued); !ok {
		t.Error("the original run's chain does not record the follow-up")
	}
	// Merging is recorded on the run that opened the pull request.
	closed, err := env.PRClosedPayload(pr.Number, pr.Head, true, "maintainer")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "pull_request", closed)
	eventually(t, 30*time.Second, "pr.merged", func() bool {
		ev, ok := findEvent(kinds(t, env, first.RunID), telemetry.KindPRMerged)
		return ok && ev.Actor == "maintainer"
	})
}

// Feedback by comment on agentgate's pull request, up to the cap.
func TestEndToEndFollowUpCap(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) {
		c.Controls.FollowUpDelay = 500 * time.Millisecond
		c.Controls.MaxFollowUps = 1
	})
	trigger(t, env, "@agentgate agentgate-test: write A.md a", harness.Requester)
	pr := env.GH.PullRequests(harness.Owner, harness.Repo)[0]
	feedback := func(i int) {
		b, _, err := env.PRCommentPayload(pr.Number, fmt.Sprintf("@agentgate agentgate-test: write B%d.md b", i), harness.Requester, "OWNER")
		if err != nil {
			t.Fatal(err)
		}
		deliverEvent(t, env, "issue_comment", b)
	}
	feedback(1)
	eventually(t, 2*time.Minute, "the first follow-up to finish", func() bool {
		runs := runsOn(t, env, pr.Number)
		return len(runs) == 1 && doneState(env, runs[0].ID) == "finished"
	})
	feedback(2)
	eventually(t, time.Minute, "a reply about the cap", func() bool { return hasCap(env, pr.Number) })
	if n := len(runsOn(t, env, pr.Number)); n != 1 {
		t.Errorf("follow-up runs = %d, want 1 (the cap)", n)
	}
}

func hasCap(env *harness.Env, number int) bool {
	for _, c := range env.GH.Comments(harness.Owner, harness.Repo, number) {
		if strings.Contains(c.Body, "the most agentgate makes") {
			return true
		}
	}
	return false
}

// The operator's kill switch (admin endpoint) refuses new runs at once,
// before any GitHub API call; the org's `paused: true` refuses with a reply.
func TestEndToEndKillSwitches(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.AdminToken = "operator-token" })
	admin := "http://" + env.App.AdminAddr()
	post := func(path, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, admin+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/admin/pause", ""); code != http.StatusForbidden {
		t.Fatalf("pause without the admin token answered %d", code)
	}
	if code := post("/admin/pause", "wrong"); code != http.StatusForbidden {
		t.Fatalf("pause with a wrong token answered %d", code)
	}
	if code := post("/admin/pause", "operator-token"); code != http.StatusOK {
		t.Fatalf("pause answered %d", code)
	}
	before := len(env.GH.Requests())
	d, state := trigger(t, env, "@agentgate agentgate-test: write X.md x", harness.Requester)
	if state != "denied" {
		t.Fatalf("state = %q, want denied", state)
	}
	if ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunRefused); !ok || !strings.Contains(fmt.Sprint(ev.Attrs["reason"]), "paused") {
		t.Errorf("refusal event = %+v %v", ev, ok)
	}
	if after := len(env.GH.Requests()); after != before {
		t.Errorf("a paused run made %d API calls", after-before)
	}
	if code := post("/admin/resume", "operator-token"); code != http.StatusOK {
		t.Fatalf("resume answered %d", code)
	}
	env.GH.AddRepo(testgh.Repo{ID: 4711, Owner: harness.Owner, Name: ".github", DefaultBranch: "main"})
	env.GH.AddFile(harness.Owner, ".github", ".github/agentgate.yml", []byte("paused: true\n"))
	if _, state := trigger(t, env, "@agentgate agentgate-test: write X.md x", harness.Requester); state != "denied" {
		t.Fatalf("org paused: state = %q, want denied", state)
	}
	if c := botComments(env); len(c) != 1 || !strings.Contains(c[0], "paused") {
		t.Errorf("comments = %q", c)
	}
}

// A repository budget: the second run of the day is refused with a reply,
// and the first run's check summary shows the budgets.
func TestEndToEndBudgetExceeded(t *testing.T) {
	env, _ := startFakeEnv(t, func(c *app.Config) { c.Controls.RunsPerRepoDay = 1 })
	trigger(t, env, "@agentgate agentgate-test: write ONE.md one", harness.Requester)
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 || !strings.Contains(checks[0].Summary, "### Budgets") || !strings.Contains(checks[0].Summary, "runs in Codertocat/Hello-World, 24 h | 1 | 1") {
		t.Fatalf("check summary lacks the budgets: %+v", checks)
	}
	d, state := trigger(t, env, "@agentgate agentgate-test: write TWO.md two", harness.Requester)
	if state != "denied" {
		t.Fatalf("state = %q, want denied", state)
	}
	if ev, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunRefused); !ok || !strings.Contains(fmt.Sprint(ev.Attrs["reason"]), "budget") {
		t.Errorf("refusal = %+v %v", ev, ok)
	}
	var replied bool
	for _, c := range botComments(env) {
		replied = replied || strings.Contains(c, "did not start: budget")
	}
	if !replied {
		t.Errorf("no reply naming the budget: %q", botComments(env))
	}
}

// A repository taken out of the installation gets no run and no API call.
func TestEndToEndUninstalledRepository(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	b, err := env.InstallationReposPayload("removed", harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "installation_repositories", b)
	eventually(t, 30*time.Second, "the removal to be recorded", func() bool {
		s, err := env.App.DB().RepoAccess(context.Background(), harness.InstallationID, harness.RepoID)
		return err == nil && s == store.StateRemoved
	})
	before := len(env.GH.Requests())
	d, state := trigger(t, env, "@agentgate agentgate-test: write X.md x", harness.Requester)
	if state != "denied" {
		t.Fatalf("state = %q", state)
	}
	if after := len(env.GH.Requests()); after != before {
		t.Errorf("%d API calls for a repository the app no longer has", after-before)
	}
	if _, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindRunRefused); !ok {
		t.Error("no refusal event")
	}
	// Added back: runs work again.
	b, _ = env.InstallationReposPayload("added", harness.Requester)
	deliverEvent(t, env, "installation_repositories", b)
	eventually(t, 30*time.Second, "the repository back", func() bool {
		s, _ := env.App.DB().RepoAccess(context.Background(), harness.InstallationID, harness.RepoID)
		return s == ""
	})
	if _, state := trigger(t, env, "@agentgate agentgate-test: write X.md x", harness.Requester); state != "finished" {
		t.Fatalf("after re-adding: state = %q", state)
	}
}

// help and status answer; retry and the check's Re-run start new runs.
func TestEndToEndHelpStatusRetryRerun(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	first, _ := trigger(t, env, "@agentgate agentgate-test: write R.md r", harness.Requester)
	comment(t, env, "@agentgate help", harness.Requester)
	comment(t, env, "@agentgate status", harness.Requester)
	eventually(t, 30*time.Second, "help and status replies", func() bool {
		var help, status bool
		for _, c := range botComments(env) {
			help = help || strings.Contains(c, "approve [*run id*]")
			status = status || (strings.Contains(c, "| `"+first.RunID+"` | finished |"))
		}
		return help && status
	})
	comment(t, env, "@agentgate retry", harness.Requester)
	_, s := nextRun(t, env, harness.IssueNumber, first.RunID, "a retry run", 30*time.Second)
	if s != "finished" {
		t.Fatalf("retry = %q", s)
	}
	rr, err := env.RerunPayload(first.RunID, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "check_run", rr)
	eventually(t, 30*time.Second, "a re-run", func() bool { return len(runsOn(t, env, harness.IssueNumber)) == 3 })
	for _, r := range runsOn(t, env, harness.IssueNumber) {
		if s := wait(t, env, r.ID); s != "finished" {
			t.Errorf("run %s = %q", r.ID, s)
		}
	}
	evs := kinds(t, env, first.RunID)
	n := 0
	for _, ev := range evs {
		if ev.Kind == telemetry.KindRunRetried {
			n++
		}
	}
	if n != 2 {
		t.Errorf("run.retried events on the first run = %d, want 2", n)
	}
	if !slices.ContainsFunc(env.GH.Reactions(harness.Owner, harness.Repo), func(r testgh.Reaction) bool { return r.Content == "eyes" }) {
		t.Error("no reactions")
	}
}

// A requester whose permission is taken away while the agent works gets no
// push: the permission is read again right before it.
func TestEndToEndPermissionRemovedMidRun(t *testing.T) {
	env := startEnv(t, nil)
	env.GH.SetPermission(harness.Owner, harness.Repo, "leaver", "write")
	d := comment(t, env, "@agentgate agentgate-test: sleep 3\nagentgate-test: write GONE.md gone", "leaver")
	eventually(t, time.Minute, "the sandbox to start", func() bool {
		_, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindSandboxStarted)
		return ok
	})
	env.GH.SetPermission(harness.Owner, harness.Repo, "leaver", "read")
	if s := wait(t, env, d.RunID); s != "finished" {
		t.Fatalf("state = %q", s)
	}
	evs := kinds(t, env, d.RunID)
	if _, ok := findEvent(evs, telemetry.KindPermissionRevoked); !ok {
		t.Error("no permission_revoked event")
	}
	if _, ok := findEvent(evs, telemetry.KindGitPushed); ok {
		t.Error("the change was pushed")
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d", len(prs))
	}
}
