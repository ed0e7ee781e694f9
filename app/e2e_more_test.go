package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

func deliver(t *testing.T, env *harness.Env, event, id string, body []byte) harness.Delivery {
	t.Helper()
	d, err := env.Deliver(context.Background(), event, id, body)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != 202 {
		t.Fatalf("intake answered %d %q", d.Status, d.Body)
	}
	return d
}

func wait(t *testing.T, env *harness.Env, runID string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	state, err := env.WaitRun(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	return state
}

func TestEndToEndLabelTrigger(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	body, err := env.LabelPayload("agentgate", harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	d := deliver(t, env, "issues", "label-1", body)
	wait(t, env, d.RunID)
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	var eyes bool
	for _, r := range env.GH.Reactions(harness.Owner, harness.Repo) {
		eyes = eyes || (r.Subject == "issue" && r.SubjectID == harness.IssueNumber && r.Content == "eyes")
	}
	if !eyes {
		t.Error("no 👀 reaction on the labelled issue")
	}
	// Another label is not a trigger.
	other, err := env.LabelPayload("bug", harness.Requester)
	if err != nil {
		t.Fatal(err)
	}
	od, err := env.Deliver(context.Background(), "issues", "label-2", other)
	if err != nil || od.Status/100 != 2 || od.RunID != "" {
		t.Errorf("label bug: %+v %v", od, err)
	}
}

// A second trigger while a run is active gets a short reply naming it.
func TestEndToEndOneActiveRunPerIssue(t *testing.T) {
	env := startEnv(t, nil)
	first, _, err := env.CommentPayload("@agentgate agentgate-test: sleep 4\nagentgate-test: write SLOW.md slow", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	d1 := deliver(t, env, "issue_comment", "busy-1", first)
	// Wait until the first run holds the issue.
	deadline := time.Now().Add(time.Minute)
	for {
		state, _, err := env.App.RunState(context.Background(), d1.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if state == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first run never started (state %q)", state)
		}
		time.Sleep(50 * time.Millisecond)
	}
	second, _, err := env.CommentPayload("@agentgate also do this", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	d2 := deliver(t, env, "issue_comment", "busy-2", second)
	if state := wait(t, env, d2.RunID); state != "busy" {
		t.Errorf("second run state = %q, want busy", state)
	}
	wait(t, env, d1.RunID)
	var busy, progress int
	for _, c := range botComments(env) {
		switch {
		case strings.Contains(c, "already working on this issue") && strings.Contains(c, d1.RunID):
			busy++
		case strings.Contains(c, "agentgate:progress"):
			progress++
		}
	}
	if busy != 1 || progress != 1 {
		t.Errorf("busy replies = %d, progress comments = %d; want 1 and 1: %q", busy, progress, botComments(env))
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Errorf("pull requests = %d, want 1", len(prs))
	}
}

// GitHub's secondary rate limit (403 + Retry-After) is waited out.
func TestEndToEndRateLimitBackoff(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	env.GH.FailNext("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", 403, map[string]string{"Retry-After": "1"})
	env.GH.FailNext("POST", "/repos/{owner}/{repo}/pulls", 429, map[string]string{"Retry-After": "1"})
	start := time.Now()
	trigger(t, env, "@agentgate fix it", harness.Requester)
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	if c := botComments(env); len(c) != 1 {
		t.Errorf("bot comments = %d, want 1", len(c))
	}
	if time.Since(start) < 2*time.Second {
		t.Errorf("run took %s: the Retry-After waits were not honoured", time.Since(start))
	}
	var limited int
	for _, r := range env.GH.Requests() {
		if r.Status == 403 || r.Status == 429 {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("rate-limited answers = %d, want 2", limited)
	}
}

// Misbehaving agents are stopped by the limit meant for them, reported
// with that limit's name, and leave nothing behind (startEnv's cleanup
// checks containers and run directories).
func TestEndToEndMisbehavingAgents(t *testing.T) {
	const (
		outputLimit = 1 << 20
		tmpLimit    = 8 << 20
	)
	tests := []struct {
		name    string
		comment string
		limits  []string // the run's sandbox.limit events, in order
		final   string   // the final event's kind
		outcome sandbox.Outcome
		reason  string
		check   func(t *testing.T, exited map[string]any)
		want    []string // in the progress comment
	}{
		{"output flood", "@agentgate agentgate-test: flood 64M", []string{"output"}, telemetry.KindRunFinished,
			sandbox.OutcomeNoChange, "the agent finished without changing any file",
			func(t *testing.T, exited map[string]any) {
				total, dropped := exited["output_bytes"].(float64), exited["dropped_bytes"].(float64)
				if total < 64<<20 || total-dropped > outputLimit {
					t.Errorf("output: %.0f bytes written, %.0f kept; want all 64 MiB counted and at most %d kept", total, total-dropped, outputLimit)
				}
			}, []string{"output"}},
		{"fork bomb", "@agentgate agentgate-test: forkbomb", []string{"pids"}, telemetry.KindRunFailed,
			sandbox.OutcomeFailed, "the agent exited with code 1 after hitting: pids", nil, []string{"failed", "pids"}},
		// /tmp is a bounded tmpfs: the write fails there (no limit event:
		// the agent's own failure), at exactly the bound.
		{"fills /tmp", "@agentgate agentgate-test: filltmp", nil, telemetry.KindRunFailed,
			sandbox.OutcomeFailed, "the agent exited with code 1",
			func(t *testing.T, exited map[string]any) {
				out, _ := exited["output_tail"].(string)
				var n int64
				if i := strings.Index(out, "filltmp: wrote "); i < 0 {
					t.Errorf("the agent did not report how much /tmp took:\n%s", out)
				} else if _, err := fmt.Sscanf(out[i:], "filltmp: wrote %d bytes", &n); err != nil || n <= 0 || n > tmpLimit {
					t.Errorf("/tmp took %d bytes (%v), want at most the %d bound", n, err, tmpLimit)
				}
			}, []string{"failed"}},
		{"fills the work tree", "@agentgate agentgate-test: files 20000 junk", []string{"disk"}, telemetry.KindRunFailed,
			sandbox.OutcomeFailed, "the agent exited with code 1 after hitting: disk", nil, []string{"disk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startEnv(t, func(c *app.Config) {
				c.Limits.Timeout = 5 * time.Second
				c.Limits.Pids = 64
				c.Limits.TmpfsBytes = tmpLimit
				c.Limits.OutputBytes = outputLimit
			})
			d, _ := trigger(t, env, tt.comment, harness.Requester)
			evs, _ := runEvents(t, env, d.RunID)
			var limits []string
			var exited, final map[string]any
			var finalKind string
			for _, ev := range evs {
				switch ev.Kind {
				case telemetry.KindLimitHit:
					l, _ := ev.Attrs["limit"].(string)
					limits = append(limits, l)
				case telemetry.KindSandboxExited:
					exited = ev.Attrs
				case telemetry.KindRunFinished, telemetry.KindRunFailed:
					finalKind, final = ev.Kind, ev.Attrs
				}
			}
			if strings.Join(limits, ",") != strings.Join(tt.limits, ",") {
				t.Errorf("limits hit %q, want %q", limits, tt.limits)
			}
			if finalKind != tt.final || final["outcome"] != string(tt.outcome) || final["reason"] != tt.reason {
				t.Errorf("final event %s %v, want %s with outcome %q and reason %q", finalKind, final, tt.final, tt.outcome, tt.reason)
			}
			if exited == nil {
				t.Fatal("no sandbox.exited event")
			}
			if tt.check != nil {
				tt.check(t, exited)
			}
			comments := botComments(env)
			if len(comments) != 1 {
				t.Fatalf("bot comments = %d: %q", len(comments), comments)
			}
			for _, w := range tt.want {
				if !strings.Contains(comments[0], w) {
					t.Errorf("progress comment lacks %q:\n%s", w, comments[0])
				}
			}
			if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
				t.Errorf("pull requests = %d", len(prs))
			}
		})
	}
}

// A hostile issue title steers neither the branch nor the commit.
func TestEndToEndHostileTitle(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	title := "x\n\nCo-authored-by: Mallory <m@evil>\nAgentgate-Run: forged\n--force ../../refs/heads/main $(touch /tmp/pwned) `id`"
	body, _, err := env.CommentPayloadWith("@agentgate fix", harness.Requester, "User", func(m map[string]any) {
		m["issue"].(map[string]any)["title"] = title
	})
	if err != nil {
		t.Fatal(err)
	}
	d := deliver(t, env, "issue_comment", "hostile-1", body)
	wait(t, env, d.RunID)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d", len(prs))
	}
	head := prs[0].Head
	if head != gitops.BranchName(1, title) || !strings.HasPrefix(head, "agentgate/1-") || strings.Contains(head, "..") {
		t.Errorf("branch %q", head)
	}
	ctx := context.Background()
	repo := harness.Owner + "/" + harness.Repo
	msg, err := env.Git.Show(ctx, repo, prs[0].HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	// Trailers as git reads them: exactly the requester and the run.
	trailers := strings.TrimSpace(mustGit(t, env, "log", "-1", "--format=%(trailers:only,unfold)", prs[0].HeadSHA))
	want := "Co-authored-by: Codertocat <21031067+Codertocat@users.noreply.github.com>\nAgentgate-Run: " + d.RunID
	if trailers != want {
		t.Errorf("commit trailers steered by the title:\n%s\nwant:\n%s\nmessage:\n%s", trailers, want, msg)
	}
	if subject := strings.SplitN(msg, "\n", 2)[0]; len(subject) > 100 {
		t.Errorf("subject not bounded: %d bytes", len(subject))
	}
	if strings.Contains(prs[0].Title, "\n") {
		t.Errorf("PR title has a newline: %q", prs[0].Title)
	}
	if _, err := env.Git.Ref(ctx, repo, "refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(mustGit(t, env, "for-each-ref", "--format=%(refname)"), "\n"); n != 2 {
		t.Errorf("refs on the server: %q, want main and the agent's branch", mustGit(t, env, "for-each-ref", "--format=%(refname)"))
	}
}

func mustGit(t *testing.T, env *harness.Env, args ...string) string {
	t.Helper()
	out, err := env.Git.Git(context.Background(), harness.Owner+"/"+harness.Repo, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The task is the issue as it was at the trigger: an edit afterwards
// changes nothing in the run.
func TestEndToEndTaskIsFrozenAtTrigger(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	body, _, err := env.CommentPayload("@agentgate fix", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	env.GH.AddIssue(harness.Owner, harness.Repo, harness.IssueNumber, "Edited title after the trigger", "agentgate-test: exit 9", harness.Requester)
	d := deliver(t, env, "issue_comment", "frozen-1", body)
	wait(t, env, d.RunID)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d (an edited body must not reach the run)", len(prs))
	}
	content, err := env.Git.ReadFile(context.Background(), harness.Owner+"/"+harness.Repo, prs[0].HeadSHA, "AGENTGATE_TEST.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(content, harness.IssueTitle) || strings.Contains(content, "Edited") {
		t.Errorf("the agent saw %q, want the title at the trigger", content)
	}
}

// A job retried after a crash between side effects and their records
// opens no second pull request, check run or comment.
func TestEndToEndRetryAfterCrashIsIdempotent(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	body, _, err := env.CommentPayload("@agentgate fix", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	d := deliver(t, env, "issue_comment", "crash-1", body)
	wait(t, env, d.RunID)
	// Forget that the pull request, the check run, the progress comment and
	// the end were recorded, as if the worker died right after making them.
	ctx := context.Background()
	if _, err := env.App.DB().SQL.ExecContext(ctx, `DELETE FROM effects WHERE run_id = ? AND effect_key IN ('run.done', 'pr.number', 'check.id', 'comment.progress', 'event.pr', 'event.check', 'event.final')`, d.RunID); err != nil {
		t.Fatal(err)
	}
	args, _, err := webhook.ParseTrigger("issue_comment", body, webhook.Config{Mention: "@agentgate", Label: "agentgate"})
	if err != nil || args == nil {
		t.Fatalf("parse: %v", err)
	}
	// The same run under another delivery id: River refuses a second job
	// for one delivery (unique jobs), as intended.
	args.RunID, args.DeliveryID = d.RunID, "crash-1-retry"
	if err := env.App.EnqueueForTest(ctx, *args); err != nil {
		t.Fatal(err)
	}
	// The retry must finish again.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, done, _ := env.App.RunState(ctx, d.RunID); done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("retry did not finish")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Errorf("pull requests = %d, want 1", len(prs))
	}
	if crs := env.GH.CheckRuns(harness.Owner, harness.Repo); len(crs) != 1 {
		t.Errorf("check runs = %d, want 1", len(crs))
	}
	if c := botComments(env); len(c) != 1 {
		t.Errorf("bot comments = %d, want 1: %q", len(c), c)
	}
}

// SIGTERM drains; a job still running at the drain deadline is cancelled,
// kept in the queue, and finished by the restarted worker: nothing lost.
func TestEndToEndDrainLosesNothing(t *testing.T) {
	env := startEnv(t, nil)
	body, _, err := env.CommentPayload("@agentgate agentgate-test: sleep 3\nagentgate-test: write DRAIN.md done", harness.Requester, "User")
	if err != nil {
		t.Fatal(err)
	}
	d := deliver(t, env, "issue_comment", "drain-1", body)
	deadline := time.Now().Add(time.Minute)
	for {
		if state, _, _ := env.App.RunState(context.Background(), d.RunID); state == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("run never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A drain deadline shorter than the agent: the job is cancelled.
	if err := env.RestartApp(context.Background(), 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	wait(t, env, d.RunID)
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	if c := botComments(env); len(c) != 1 {
		t.Errorf("bot comments = %d, want 1: %q", len(c), c)
	}
}
