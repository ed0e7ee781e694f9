package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/telemetry"
)

const repoName = harness.Owner + "/" + harness.Repo

// checksNamed returns the repository's check runs called name, oldest first.
func checksNamed(env *harness.Env, name string) []testgh.CheckRun {
	var out []testgh.CheckRun
	for _, c := range env.GH.CheckRuns(harness.Owner, harness.Repo) {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// click presses a check run button as login and fails the test on error.
func click(t *testing.T, env *harness.Env, cr testgh.CheckRun, branch, id, login string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := env.Click(ctx, cr, branch, id, login)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != 202 {
		t.Fatalf("intake answered %d %q to the click", d.Status, d.Body)
	}
}

// lastEvent returns the newest event of kind.
func lastEvent(events []telemetry.Event, kind string) (telemetry.Event, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == kind {
			return events[i], true
		}
	}
	return telemetry.Event{}, false
}

// A change to .github/workflows/ is never pushed (GitHub refuses it from
// an app without the workflows permission, and so does the test git
// server): the run fails with the explanation and the diff is kept.
func TestEndToEndWorkflowEditIsNotPushed(t *testing.T) {
	env := startEnv(t, nil)
	d, state := trigger(t, env, "@agentgate add CI\nagentgate-test: write .github/workflows/ci.yml on: push\nagentgate-test: write README.md fixed", harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q", state)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d, want none", len(prs))
	}
	out, _ := env.Git.Git(context.Background(), repoName, "for-each-ref", "--format=%(refname)", "refs/heads/agentgate/")
	if strings.TrimSpace(out) != "" {
		t.Errorf("a branch was pushed: %q", out)
	}
	comments := botComments(env)
	if len(comments) != 1 {
		t.Fatalf("bot comments = %d", len(comments))
	}
	for _, want := range []string{"rejected by policy", "`.github/workflows/ci.yml`", "`workflows` permission", "agentgate audit show " + d.RunID + " --diff"} {
		if !strings.Contains(comments[0], want) {
			t.Errorf("progress comment lacks %q:\n%s", want, comments[0])
		}
	}
	diff, ok, err := env.App.DB().Effect(context.Background(), d.RunID, journal.Diff)
	if err != nil || !ok {
		t.Fatalf("diff kept: %v %v", ok, err)
	}
	for _, want := range []string{"+++ b/.github/workflows/ci.yml", "+on: push", "+fixed"} {
		if !strings.Contains(diff, want) {
			t.Errorf("kept diff lacks %q:\n%s", want, diff)
		}
	}
	events, _ := runEvents(t, env, d.RunID)
	if ev, ok := lastEvent(events, telemetry.KindChangeHeld); !ok || ev.Attrs["files"] != ".github/workflows/ci.yml" {
		t.Errorf("change.held event: %+v", ev)
	}
}

// A change to another protected path becomes a pull request whose check
// needs a maintainer who is not the requester: the requester's and a
// writer's clicks are recorded and refused (one reply each), a
// maintainer's approval is audited, flips the check and releases CI by
// pushing the same tree without [skip ci].
func TestEndToEndProtectedPathApproval(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	env.GH.SetPermission(harness.Owner, harness.Repo, "mona", "maintain")
	env.GH.SetPermission(harness.Owner, harness.Repo, "writer", "write")
	d, state := trigger(t, env, "@agentgate add owners\nagentgate-test: write CODEOWNERS * @mona", harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q", state)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	pr := prs[0]
	checks := checksNamed(env, "agentgate")
	if len(checks) != 1 {
		t.Fatalf("agentgate check runs = %d", len(checks))
	}
	cr := checks[0]
	if cr.Conclusion != "action_required" || !strings.Contains(cr.Summary, "`CODEOWNERS`") || cr.ExternalID != d.RunID {
		t.Fatalf("check run = %s %q\n%s", cr.Conclusion, cr.Title, cr.Summary)
	}
	ctx := context.Background()
	held, _ := env.Git.Show(ctx, repoName, cr.HeadSHA)
	if !strings.Contains(held, "[skip ci]") {
		t.Errorf("pushed commit does not hold CI:\n%s", held)
	}

	// The requester, twice: refused, one reply.
	click(t, env, cr, pr.Head, "approve", harness.Requester)
	click(t, env, cr, pr.Head, "approve", harness.Requester)
	// A writer: refused.
	click(t, env, cr, pr.Head, "approve", "writer")
	if got := checksNamed(env, "agentgate"); len(got) != 1 || got[0].Conclusion != "action_required" {
		t.Fatalf("after refused clicks the check is %+v", got)
	}
	replies := env.GH.Comments(harness.Owner, harness.Repo, pr.Number)
	if len(replies) != 2 || !strings.Contains(replies[0].Body, "@"+harness.Requester+" asked for this run") || !strings.Contains(replies[1].Body, "write permission") {
		t.Fatalf("replies on the pull request: %+v", replies)
	}
	events, _ := runEvents(t, env, d.RunID)
	refused := 0
	for _, ev := range events {
		if ev.Kind == telemetry.KindApprovalRefused {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("approval.refused events = %d, want 3", refused)
	}

	// A maintainer: granted.
	click(t, env, cr, pr.Head, "approve", "mona")
	events, _ = runEvents(t, env, d.RunID)
	g, ok := lastEvent(events, telemetry.KindApprovalGranted)
	if !ok || g.Actor != "mona" || g.Attrs["commit"] != cr.HeadSHA || g.Attrs["policy_hash"] == "" {
		t.Fatalf("approval.granted = %+v", g)
	}
	got := checksNamed(env, "agentgate")
	if len(got) != 2 || got[0].Conclusion != "success" || !strings.Contains(got[0].Summary, "@mona") {
		t.Fatalf("check runs after approval: %+v", got)
	}
	head, err := env.Git.Ref(ctx, repoName, "refs/heads/"+pr.Head)
	if err != nil || head == cr.HeadSHA || got[1].HeadSHA != head || got[1].Conclusion != "success" {
		t.Fatalf("released head %s (held %s), new check %+v, %v", head, cr.HeadSHA, got[1], err)
	}
	msg, _ := env.Git.Show(ctx, repoName, head)
	if strings.Contains(msg, "[skip ci]") || !strings.Contains(msg, "Agentgate-Run: "+d.RunID) {
		t.Errorf("released commit message:\n%s", msg)
	}
	if a, b := mustGit(t, env, "rev-parse", head+"^{tree}"), mustGit(t, env, "rev-parse", cr.HeadSHA+"^{tree}"); a != b {
		t.Errorf("released tree %s differs from the approved tree %s", a, b)
	}
	if !env.GH.GitCommits(harness.Owner, harness.Repo)[head].Verified {
		t.Error("released commit is not verified")
	}
	// The old check's button no longer approves anything.
	click(t, env, cr, pr.Head, "approve", "mona")
	if got := checksNamed(env, "agentgate"); len(got) != 2 {
		t.Errorf("a second approval changed the checks: %+v", got)
	}
}

// An approval is bound to the commit and the policy: after a changed
// policy or a new push on the branch, a maintainer's click is void.
func TestEndToEndApprovalVoid(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	env.GH.SetPermission(harness.Owner, harness.Repo, "mona", "maintain")
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("max_lines: 100\n"))
	d, _ := trigger(t, env, "@agentgate own it\nagentgate-test: write CODEOWNERS * @mona", harness.Requester)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	pr, cr := prs[0], checksNamed(env, "agentgate")[0]

	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("max_lines: 99\n"))
	click(t, env, cr, pr.Head, "approve", "mona")
	events, _ := runEvents(t, env, d.RunID)
	if ev, _ := lastEvent(events, telemetry.KindApprovalRefused); !strings.Contains(ev.Attrs["reason"].(string), "policy changed") {
		t.Errorf("after a policy change: %+v", ev)
	}

	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("max_lines: 100\n"))
	if _, err := env.Git.Commit(context.Background(), repoName, pr.Head, "a human's commit", []testgit.File{{Path: "NOTES.md", Content: "mine\n"}}); err != nil {
		t.Fatal(err)
	}
	click(t, env, cr, pr.Head, "approve", "mona")
	events, _ = runEvents(t, env, d.RunID)
	if ev, _ := lastEvent(events, telemetry.KindApprovalRefused); !strings.Contains(ev.Attrs["reason"].(string), "moved") {
		t.Errorf("after a new push: %+v", ev)
	}
	if _, ok := lastEvent(events, telemetry.KindApprovalGranted); ok {
		t.Error("a void approval was granted")
	}
	if got := checksNamed(env, "agentgate"); len(got) != 1 || got[0].Conclusion != "action_required" {
		t.Errorf("check runs: %+v", got)
	}
}

// Oversized changes fail with the reason and the list of files.
func TestEndToEndOversizedChange(t *testing.T) {
	env := startEnv(t, nil)
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("max_files: 1\n"))
	_, state := trigger(t, env, "@agentgate two files\nagentgate-test: write a.md one\nagentgate-test: write b.md two", harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q", state)
	}
	comments := botComments(env)
	if len(comments) != 1 {
		t.Fatalf("bot comments = %d", len(comments))
	}
	for _, want := range []string{"rejected by policy", "2 files changed; the limit is 1", "- `a.md` (+1 −0)", "- `b.md` (+1 −0)"} {
		if !strings.Contains(comments[0], want) {
			t.Errorf("comment lacks %q:\n%s", want, comments[0])
		}
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d", len(prs))
	}
}

// The verify command runs on the pushed commit in a fresh sandbox and
// reports as agentgate/verify; reviewers and labels are requested.
func TestEndToEndVerify(t *testing.T) {
	for _, tt := range []struct {
		name, command, conclusion string
	}{
		{"passing", "grep -q fixed README.md", "success"},
		{"failing", "grep -q nowhere README.md", "failure"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := startEnv(t, nil)
			env.GH.SetPermission(harness.Owner, harness.Repo, "mona", "maintain")
			env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("verify:\n  command: "+tt.command+"\n  timeout: 1m\nreviewers: [mona]\nteam_reviewers: [core]\nlabels: [agentgate]\n"))
			d, state := trigger(t, env, "@agentgate fix\nagentgate-test: write README.md fixed", harness.Requester)
			if state != "finished" {
				t.Fatalf("state = %q", state)
			}
			pushed := checksNamed(env, "agentgate")
			v := checksNamed(env, app.VerifyCheckName)
			if len(pushed) != 1 || len(v) != 1 {
				t.Fatalf("check runs: agentgate %d, verify %d", len(pushed), len(v))
			}
			if v[0].HeadSHA != pushed[0].HeadSHA || v[0].Status != "completed" || v[0].Conclusion != tt.conclusion || v[0].Updates != 1 {
				t.Errorf("verify check = %+v", v[0])
			}
			if !strings.Contains(v[0].Summary, tt.command) {
				t.Errorf("verify summary lacks the command:\n%s", v[0].Summary)
			}
			events, _ := runEvents(t, env, d.RunID)
			started, _ := lastEvent(events, telemetry.KindVerifyStarted)
			if started.Attrs["network"] != "none" {
				t.Errorf("verify.started = %+v", started.Attrs)
			}
			pr := env.GH.PullRequests(harness.Owner, harness.Repo)[0]
			users, teams := env.GH.RequestedReviewers(harness.Owner, harness.Repo, pr.Number)
			if len(users) != 1 || users[0] != "mona" || len(teams) != 1 || teams[0] != "core" {
				t.Errorf("requested reviewers %q teams %q", users, teams)
			}
			if l := env.GH.Labels(harness.Owner, harness.Repo, pr.Number); len(l) != 1 || l[0] != "agentgate" {
				t.Errorf("labels = %q", l)
			}
		})
	}
}

// A small change is committed through the Git Data API (GitHub signs
// it); one above the API bound goes through a go-git push.
func TestEndToEndCommitMethods(t *testing.T) {
	for _, tt := range []struct {
		name, directive string
		verified        bool
	}{
		{"small through the API", "agentgate-test: write README.md fixed", true},
		{"large through git", "agentgate-test: files 150 gen", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := startFakeEnv(t, nil)
			d, state := trigger(t, env, "@agentgate change\n"+tt.directive, harness.Requester)
			if state != "finished" {
				t.Fatalf("state = %q", state)
			}
			prs := env.GH.PullRequests(harness.Owner, harness.Repo)
			if len(prs) != 1 {
				t.Fatalf("pull requests = %d", len(prs))
			}
			head, err := env.Git.Ref(context.Background(), repoName, "refs/heads/"+prs[0].Head)
			if err != nil {
				t.Fatal(err)
			}
			c, viaAPI := env.GH.GitCommits(harness.Owner, harness.Repo)[head]
			if viaAPI != tt.verified || c.Verified != tt.verified {
				t.Errorf("head %s: through the API %v, verified %v; want %v", head, viaAPI, c.Verified, tt.verified)
			}
			msg, _ := env.Git.Show(context.Background(), repoName, head)
			if !strings.Contains(msg, "Agentgate-Run: "+d.RunID) || !strings.Contains(msg, "[skip ci]") {
				t.Errorf("commit message:\n%s", msg)
			}
			events, _ := runEvents(t, env, d.RunID)
			want := map[bool]string{true: "api", false: "git"}[tt.verified]
			if ev, _ := lastEvent(events, telemetry.KindGitPushed); ev.Attrs["method"] != want {
				t.Errorf("git.pushed = %+v, want method %s", ev.Attrs, want)
			}
			if !tt.verified {
				return
			}
			// CI is held; the requester, an admin, may release it (no
			// protected path): the same tree is pushed without the marker.
			cr := checksNamed(env, "agentgate")[0]
			if cr.Conclusion != "success" || !strings.Contains(cr.Summary, "[skip ci]") {
				t.Errorf("check run %s:\n%s", cr.Conclusion, cr.Summary)
			}
			click(t, env, cr, prs[0].Head, "ci", harness.Requester)
			events, _ = runEvents(t, env, d.RunID)
			if ev, ok := lastEvent(events, telemetry.KindCIReleased); !ok || ev.Attrs["held_commit"] != head {
				t.Fatalf("ci.released = %+v", ev)
			}
			released, _ := env.Git.Ref(context.Background(), repoName, "refs/heads/"+prs[0].Head)
			if msg, _ := env.Git.Show(context.Background(), repoName, released); released == head || strings.Contains(msg, "[skip ci]") {
				t.Errorf("released head %s:\n%s", released, msg)
			}
		})
	}
}
