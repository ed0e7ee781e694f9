package app_test

import (
	"context"
	"testing"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// A push that fails longer than its in-place retries fails the job
// attempt; the next attempt pushes the change the first one kept, the same
// commit, and opens the pull request without starting the agent again.
func TestEndToEndFailedPushResumesWithoutAgent(t *testing.T) {
	attempts := app.FastPushRetriesForTest(t)
	env, _ := startFakeEnv(t, nil)
	env.Git.FailPushes(attempts) // every in-place retry of the first attempt
	// 150 files: over the Git Data API's bound, so the change goes
	// through a git push to the git server.
	d, state := trigger(t, env, "@agentgate change\nagentgate-test: files 150 gen", harness.Requester)
	if state != "finished" {
		t.Fatalf("state = %q", state)
	}
	events, trail := runEvents(t, env, d.RunID)
	count := map[string]int{}
	var commits []string
	for _, ev := range events {
		count[ev.Kind]++
		if ev.Kind == telemetry.KindGitCommitted {
			c, _ := ev.Attrs["commit"].(string)
			commits = append(commits, c)
		}
	}
	if count[telemetry.KindSandboxStarted] != 1 || count[telemetry.KindChangeKept] != 1 || count[telemetry.KindPushResumed] != 1 || count[telemetry.KindGitPushed] != 1 {
		t.Fatalf("sandbox.started %d, change.kept %d, push.resumed %d, git.pushed %d; want 1 each (the agent ran once):\n%s",
			count[telemetry.KindSandboxStarted], count[telemetry.KindChangeKept], count[telemetry.KindPushResumed], count[telemetry.KindGitPushed], trail)
	}
	if len(commits) != 2 || commits[0] != commits[1] || commits[0] == "" {
		t.Errorf("commits made by the two attempts = %q, want the same one twice", commits)
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	head, err := env.Git.Ref(context.Background(), repoName, "refs/heads/"+prs[0].Head)
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) > 0 && (head != commits[0] || prs[0].HeadSHA != head) {
		t.Errorf("branch at %s, PR head %s; want the kept commit %s", head, prs[0].HeadSHA, commits[0])
	}
	if ev, _ := lastEvent(events, telemetry.KindRunFinished); ev.Attrs["outcome"] != string(sandbox.OutcomeSucceeded) {
		t.Errorf("run.finished = %+v", ev.Attrs)
	}
	if _, kept, err := env.App.DB().KeptChange(context.Background(), d.RunID); err != nil || kept {
		t.Errorf("kept change after the push: %v, %v; want none", kept, err)
	}
}
