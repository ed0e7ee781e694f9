package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/telemetry"
)

// eventJobsIdle reports whether no event job is waiting or running.
func eventJobsIdle(t *testing.T, env *harness.Env) bool {
	t.Helper()
	var n int
	if err := env.App.DB().SQL.QueryRowContext(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'agentgate.event' AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 0
}

// `@agentgate revert` through the HTTP intake: refused on an unmerged
// pull request, on one agentgate did not open and to a user without the
// trigger permission; on the merged agentgate pull request it opens a
// pull request whose diff reverses the merge (later work on main kept),
// with the agentgate check and an audit trail on both runs.
func TestEndToEndRevert(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	repo := harness.Owner + "/" + harness.Repo
	first, _ := trigger(t, env, "@agentgate fix the spelling\nagentgate-test: write README.md # Hello-World\\n\\nMy first commit.\\n", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	pr := prs[0]

	botSays := func(number int, want string) func() bool {
		return func() bool {
			for _, c := range env.GH.Comments(harness.Owner, harness.Repo, number) {
				if c.User == "agentgate[bot]" && strings.Contains(c.Body, want) {
					return true
				}
			}
			return false
		}
	}
	revert := func(number int, login, association string) {
		t.Helper()
		b, _, err := env.PRCommentPayload(number, "@agentgate revert", login, association)
		if err != nil {
			t.Fatal(err)
		}
		deliverEvent(t, env, "issue_comment", b)
	}

	// Not merged yet: a clear reply, nothing opened.
	revert(pr.Number, harness.Requester, "OWNER")
	eventually(t, time.Minute, "the not-merged reply", botSays(pr.Number, "is not merged"))

	// A pull request agentgate did not open.
	env.GH.AddIssue(harness.Owner, harness.Repo, 7, "A person's change", "", "octocat")
	revert(7, harness.Requester, "OWNER")
	eventually(t, time.Minute, "the not-agentgate reply", botSays(7, "was not opened by agentgate"))

	// Merged, then later work on main.
	merge, err := env.MergePR(ctx, pr, "maintainer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Git.Commit(ctx, repo, "main", "docs: notes", testgit.Files(map[string]string{"NOTES.md": "later work\n"})); err != nil {
		t.Fatal(err)
	}

	// Without the trigger permission: refused.
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	revert(pr.Number, "reader", "CONTRIBUTOR")
	eventually(t, time.Minute, "the permission refusal", botSays(pr.Number, "`@agentgate revert` needs **write** permission"))
	eventually(t, time.Minute, "the refused revert's job to end", func() bool { return eventJobsIdle(t, env) })
	if n := len(env.GH.PullRequests(harness.Owner, harness.Repo)); n != 1 {
		t.Fatalf("pull requests after the refusals = %d, want 1", n)
	}

	// With it: the revert pull request.
	revert(pr.Number, harness.Requester, "OWNER")
	eventually(t, time.Minute, "the revert pull request", func() bool { return len(env.GH.PullRequests(harness.Owner, harness.Repo)) == 2 })
	eventually(t, time.Minute, "the reply naming it", botSays(pr.Number, "reverts #"))
	rv := env.GH.PullRequests(harness.Owner, harness.Repo)[1]
	if rv.Head != "agentgate/revert-2" || rv.Base != "main" || !strings.Contains(rv.Body, "Reverts #2") {
		t.Errorf("revert pull request: head %q base %q body:\n%s", rv.Head, rv.Base, rv.Body)
	}
	head, err := env.Git.Ref(ctx, repo, "refs/heads/"+rv.Head)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := env.Git.Git(ctx, repo, "diff", "--no-color", "main", head)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(diff, "-My first commit.") || !strings.Contains(diff, "+My first commmit.") || strings.Contains(diff, "NOTES.md") {
		t.Errorf("revert diff against main:\n%s", diff)
	}
	if readme, err := env.Git.ReadFile(ctx, repo, head, "README.md"); err != nil || readme != "# Hello-World\n\nMy first commmit.\n" {
		t.Errorf("README on the revert = %q, %v", readme, err)
	}
	if parents, err := env.Git.Git(ctx, repo, "rev-list", "--parents", "-n1", head); err != nil || len(strings.Fields(parents)) != 2 {
		t.Errorf("revert commit parents: %q %v", parents, err)
	}
	msg, _ := env.Git.Show(ctx, repo, head)
	if !strings.Contains(msg, "This reverts merge commit "+merge) {
		t.Errorf("revert commit message:\n%s", msg)
	}

	// The check and the audit trail.
	var checkRun string
	for _, c := range env.GH.CheckRuns(harness.Owner, harness.Repo) {
		if c.HeadSHA == head {
			checkRun = c.ExternalID
			if c.Name != "agentgate" || c.Conclusion != "success" || !strings.Contains(c.Summary, "Revert of #2") || !strings.Contains(c.Summary, "`README.md`") {
				t.Errorf("revert check run: %+v", c)
			}
		}
	}
	if checkRun == "" {
		t.Fatal("no agentgate check run on the revert commit")
	}
	evs := kinds(t, env, checkRun)
	for _, k := range []string{telemetry.KindWebhookReceived, telemetry.KindRunAuthorized, telemetry.KindRevertComputed, telemetry.KindGitPushed, telemetry.KindPROpened, telemetry.KindCheckCreated, telemetry.KindRunFinished} {
		if _, ok := findEvent(evs, k); !ok {
			t.Errorf("revert run lacks %s", k)
		}
	}
	if ev, ok := findEvent(kinds(t, env, first.RunID), telemetry.KindRunReverted); !ok || ev.Actor != harness.Requester || ev.Attrs["revert_run"] != checkRun {
		t.Errorf("the original run does not record the revert: %+v", ev)
	}
	if v, err := env.App.DB().VerifyRun(ctx, checkRun); err != nil || !v.OK() {
		t.Errorf("revert run's chain: %+v %v", v, err)
	}

	// The revert's own pull request takes no feedback, and the revert is
	// not retried (it is the newest run on the reverted pull request):
	// each gets a reply, no run starts.
	b, _, err := env.PRCommentPayload(rv.Number, "@agentgate also fix the title", harness.Requester, "OWNER")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issue_comment", b)
	eventually(t, time.Minute, "the no-follow-up reply", botSays(rv.Number, "takes no follow-up runs"))
	b, _, err = env.PRCommentPayload(pr.Number, "@agentgate retry", harness.Requester, "OWNER")
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "issue_comment", b)
	eventually(t, time.Minute, "the no-retry reply", botSays(pr.Number, "is a revert, made by agentgate without an agent"))
	rerun, err := env.RerunPayload(checkRun, harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	deliverEvent(t, env, "check_run", rerun)
	eventually(t, time.Minute, "the event jobs to end (none failing)", func() bool { return eventJobsIdle(t, env) })
	if n := len(runsOn(t, env, rv.Number)); n != 0 {
		t.Errorf("runs on the revert pull request = %d, want none", n)
	}
	if runs := runsOn(t, env, pr.Number); len(runs) != 1 || runs[0].ID != checkRun {
		t.Errorf("runs on the reverted pull request = %+v, want the revert alone", runs)
	}
}
