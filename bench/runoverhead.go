package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/telemetry"
)

// runOverhead measures a whole run whose agent changes one file, through
// the real service (webhook, queue, worker, relay, sandbox, git server,
// GitHub stand-in): delivery in → agent process started, and agent exit →
// pull request opened; next to `docker run --rm` of the same image doing
// nothing and `git clone --depth 1` + commit + `git push` with the git
// CLI. The first run warms the mirror cache and is not counted.
func runOverhead(ctx context.Context, e *env) Result {
	res := Result{
		Title: "Run overhead: a no-op agent, end to end",
		Command: "The whole service in process (webhook → SQLite queue → worker → relay + agent container → harvest → push → pull request against the GitHub stand-in and a real `git http-backend`), " +
			"the agent writing one file; the warm mirror cache. Platform overhead = (delivery → agent started) + (agent exit → pull request opened); " +
			"baseline = `docker run --rm` of the same image + `git clone --depth 1` + commit + `git push` with the git CLI.",
	}
	if _, err := exec.LookPath("docker"); err != nil {
		res.Err = errors.New("no docker CLI for the baseline")
		return res
	}
	dir, err := e.tempDir("run-")
	if err != nil {
		res.Err = err
		return res
	}
	env, err := harness.Start(ctx, harness.Options{Dir: dir})
	if err != nil {
		res.Err = err
		return res
	}
	defer env.Close(context.WithoutCancel(ctx))
	plain, err := testgit.New(env.Git.Root(), nil)
	if err != nil {
		res.Err = err
		return res
	}
	defer plain.Close()
	repoURL := plain.CloneURL(harness.Owner + "/" + harness.Repo)

	var pre, post, total, dockerRun, gitCP, overhead, baseline []float64
	for n := -1; n < e.opts.N; n++ { // n = -1 warms up
		issue := 1000 + n + 1
		env.GH.AddIssue(harness.Owner, harness.Repo, issue, fmt.Sprintf("Bench issue %d", issue), "change one file", harness.Requester)
		body, _, err := env.CommentPayloadWith("@agentgate agentgate-test: write BENCH.md one line", harness.Requester, "User", func(m map[string]any) {
			m["issue"].(map[string]any)["number"] = issue
			m["issue"].(map[string]any)["title"] = fmt.Sprintf("Bench issue %d", issue)
		})
		if err != nil {
			res.Err = err
			return res
		}
		t0 := time.Now()
		d, err := env.Deliver(ctx, "issue_comment", fmt.Sprintf("bench-run-%d-%d", n, t0.UnixNano()), body)
		if err != nil || d.Status != 202 {
			res.Err = fmt.Errorf("deliver: %+v %v", d, err)
			return res
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err = env.WaitRun(wctx, d.RunID)
		cancel()
		if err != nil {
			res.Err = err
			return res
		}
		done := time.Now()
		events, err := env.App.DB().Events(ctx, d.RunID)
		if err != nil {
			res.Err = err
			return res
		}
		started, finished, opened, err := phaseTimes(events)
		if err != nil {
			res.Err = err
			return res
		}

		t1 := time.Now()
		if out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", "--entrypoint", "/bin/true", testagent.Image).CombinedOutput(); err != nil {
			res.Err = fmt.Errorf("docker run: %v: %s", err, out)
			return res
		}
		dr := time.Since(t1)
		clone := filepath.Join(dir, fmt.Sprintf("clone-%d", n+1))
		t2 := time.Now()
		for _, args := range [][]string{
			{"clone", "-q", "--depth", "1", repoURL, clone},
			{"-C", clone, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "--allow-empty", "-m", "bench"},
			{"-C", clone, "push", "-q", "origin", fmt.Sprintf("HEAD:refs/heads/baseline-%d", n+1)},
		} {
			if out, err := exec.CommandContext(ctx, "git", args...).CombinedOutput(); err != nil {
				res.Err = fmt.Errorf("git %v: %v: %s", args, err, out)
				return res
			}
		}
		gp := time.Since(t2)
		_ = os.RemoveAll(clone)
		if n < 0 {
			continue
		}
		pre = append(pre, ms(started.Sub(t0)))
		post = append(post, ms(opened.Sub(finished)))
		total = append(total, ms(done.Sub(t0)))
		dockerRun = append(dockerRun, ms(dr))
		gitCP = append(gitCP, ms(gp))
		overhead = append(overhead, ms(started.Sub(t0))+ms(opened.Sub(finished)))
		baseline = append(baseline, ms(dr)+ms(gp))
		e.log.Info("bench: run", "rep", n, "overhead_ms", overhead[len(overhead)-1], "baseline_ms", baseline[len(baseline)-1])
	}
	bp := func(s Stat) *Stat { return &s }
	o, b := stat(overhead), stat(baseline)
	res.Rows = []Row{
		{Metric: "platform overhead of a warm no-op run", Unit: "ms", Agentgate: o, Baseline: bp(b), BaseName: "docker run + git clone/push",
			Target: "≤ 1.5× baseline", Met: check(o.Median <= 1.5*b.Median)},
		{Metric: "delivery → agent process started", Unit: "ms", Agentgate: stat(pre), Baseline: bp(stat(dockerRun)), BaseName: "`docker run --rm`"},
		{Metric: "agent exit → pull request opened", Unit: "ms", Agentgate: stat(post), Baseline: bp(stat(gitCP)), BaseName: "`git clone --depth 1` + `git push`"},
		{Metric: "delivery → run finished", Unit: "ms", Agentgate: stat(total)},
	}
	return res
}

// phaseTimes reads when the agent started and exited and when the pull
// request was opened from a run's events.
func phaseTimes(events []telemetry.Event) (started, finished, opened time.Time, err error) {
	for _, ev := range events {
		switch ev.Kind {
		case telemetry.KindSandboxExited:
			if started, err = time.Parse(time.RFC3339Nano, fmt.Sprint(ev.Attrs["started_at"])); err != nil {
				return
			}
			if finished, err = time.Parse(time.RFC3339Nano, fmt.Sprint(ev.Attrs["finished_at"])); err != nil {
				return
			}
		case telemetry.KindPROpened:
			opened = ev.Time
		}
	}
	if started.IsZero() || opened.IsZero() {
		err = fmt.Errorf("run events lack the sandbox or the pull request (%d events)", len(events))
	}
	return
}
