package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/telemetry"
)

// BenchmarkRunOverhead measures the platform's own time for a run whose
// agent changes one file: delivery in → agent process started, and agent
// exit → pull request opened; next to the same work done by hand in the
// same run: `docker run --rm` of the same image doing nothing, and
// `git clone --depth 1` plus `git push` with the git CLI. Medians of b.N
// runs are reported in milliseconds.
//
//	go test ./app -run XXX -bench RunOverhead -benchtime 10x
func BenchmarkRunOverhead(b *testing.B) {
	requireDocker(b)
	if _, err := exec.LookPath("docker"); err != nil {
		b.Skip("no docker CLI for the baseline")
	}
	ctx := context.Background()
	env, err := harness.Start(ctx, harness.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close(ctx)
	// The baseline's git server: the same repositories, no auth.
	plain, err := testgit.New(env.Git.Root(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	repoURL := plain.CloneURL(harness.Owner + "/" + harness.Repo)

	var pre, post, total, dockerRun, gitClonePush []float64
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		issue := 100 + n
		env.GH.AddIssue(harness.Owner, harness.Repo, issue, fmt.Sprintf("Bench issue %d", issue), "change one file", harness.Requester)
		body, _, err := env.CommentPayloadWith("@agentgate agentgate-test: write BENCH.md one line", harness.Requester, "User", func(m map[string]any) {
			m["issue"].(map[string]any)["number"] = issue
			m["issue"].(map[string]any)["title"] = fmt.Sprintf("Bench issue %d", issue)
		})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		d, err := env.Deliver(ctx, "issue_comment", fmt.Sprintf("bench-%d-%d", n, t0.UnixNano()), body)
		if err != nil || d.Status != 202 {
			b.Fatalf("deliver: %+v %v", d, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err = env.WaitRun(wctx, d.RunID)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		done := time.Now()
		events, err := env.App.DB().Events(ctx, d.RunID)
		if err != nil {
			b.Fatal(err)
		}
		started, finished, opened := phaseTimes(b, events)
		pre = append(pre, ms(started.Sub(t0)))
		post = append(post, ms(opened.Sub(finished)))
		total = append(total, ms(done.Sub(t0)))

		t1 := time.Now()
		if out, err := exec.Command("docker", "run", "--rm", "--network", "none", "--entrypoint", "/bin/true", testagent.Image).CombinedOutput(); err != nil {
			b.Fatalf("docker run: %v: %s", err, out)
		}
		dockerRun = append(dockerRun, ms(time.Since(t1)))

		dir := filepath.Join(b.TempDir(), "clone")
		t2 := time.Now()
		for _, args := range [][]string{
			{"clone", "-q", "--depth", "1", repoURL, dir},
			{"-C", dir, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "--allow-empty", "-m", "bench"},
			{"-C", dir, "push", "-q", "origin", fmt.Sprintf("HEAD:refs/heads/baseline-%d", n)},
		} {
			if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
				b.Fatalf("git %v: %v: %s", args, err, out)
			}
		}
		gitClonePush = append(gitClonePush, ms(time.Since(t2)))
		_ = os.RemoveAll(dir)
	}
	b.StopTimer()
	b.ReportMetric(median(pre), "delivery→agent-start-ms")
	b.ReportMetric(median(post), "agent-exit→PR-ms")
	b.ReportMetric(median(total), "delivery→done-ms")
	b.ReportMetric(median(dockerRun), "baseline-docker-run-ms")
	b.ReportMetric(median(gitClonePush), "baseline-git-clone+push-ms")
}

// phaseTimes reads when the agent started and exited and when the pull
// request was opened from a run's events.
func phaseTimes(b *testing.B, events []telemetry.Event) (started, finished, opened time.Time) {
	b.Helper()
	for _, ev := range events {
		switch ev.Kind {
		case telemetry.KindSandboxExited:
			var err error
			if started, err = time.Parse(time.RFC3339Nano, fmt.Sprint(ev.Attrs["started_at"])); err != nil {
				b.Fatal(err)
			}
			if finished, err = time.Parse(time.RFC3339Nano, fmt.Sprint(ev.Attrs["finished_at"])); err != nil {
				b.Fatal(err)
			}
		case telemetry.KindPROpened:
			opened = ev.Time
		}
	}
	if started.IsZero() || opened.IsZero() {
		b.Fatalf("run events lack the sandbox or the pull request: %v", events)
	}
	return started, finished, opened
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
