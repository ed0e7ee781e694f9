package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/telemetry"
)

// TestEndToEndNameTakenOverSeesNoRuns: the repository is deleted and a new
// one is created under the same owner/name (GitHub gives it a new id).
// Whoever comments there does not see or retry the earlier repository's
// runs, whose issue text they never could read; in the earlier repository
// (positive control) status lists the run.
func TestEndToEndNameTakenOverSeesNoRuns(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	first, state := trigger(t, env, "@agentgate agentgate-test: write T.md private plan", harness.Requester)
	if state != "finished" {
		t.Fatalf("first run: %q", state)
	}
	comment(t, env, "@agentgate status", harness.Requester)
	eventually(t, 30*time.Second, "status in the first repository", func() bool {
		for _, c := range botComments(env) {
			if strings.Contains(c, "| `"+first.RunID+"` |") {
				return true
			}
		}
		return false
	})

	const newID = harness.RepoID + 1000
	env.GH.AddRepo(testgh.Repo{ID: newID, Owner: harness.Owner, Name: harness.Repo, DefaultBranch: "main", CloneURL: env.CloneURL})
	env.GH.AddIssue(harness.Owner, harness.Repo, harness.IssueNumber, "Same number, new repository", "", "newcomer")
	env.GH.SetPermission(harness.Owner, harness.Repo, "newcomer", "admin")
	before := len(botComments(env)) // the new repository's issue: none yet
	asNew := func(body string) {
		t.Helper()
		b, _, err := env.CommentPayloadWith(body, "newcomer", "User", func(m map[string]any) {
			m["repository"].(map[string]any)["id"] = newID
		})
		if err != nil {
			t.Fatal(err)
		}
		deliverEvent(t, env, "issue_comment", b)
	}
	asNew("@agentgate status")
	asNew("@agentgate retry")
	eventually(t, 30*time.Second, "two replies in the new repository", func() bool { return len(botComments(env)) >= before+2 })
	for _, c := range botComments(env)[before:] {
		if strings.Contains(c, first.RunID) {
			t.Fatalf("the new repository was shown the earlier one's run: %q", c)
		}
	}
	if n := len(runsOn(t, env, harness.IssueNumber)); n != 1 {
		t.Fatalf("%d runs in the first repository after the newcomer's retry, want 1", n)
	}
}

// TestEndToEndCancelWhenEverySlotIsHeld: the worker has one run slot and a
// sleeping run holds it; a maintainer's cancel is an event job on its own
// queue, so it is worked at once rather than after the run it is meant to
// stop.
func TestEndToEndCancelWhenEverySlotIsHeld(t *testing.T) {
	env := startEnv(t, func(c *app.Config) { c.Concurrency = 1 })
	d := comment(t, env, "@agentgate agentgate-test: sleep 120\nagentgate-test: write LATE.md late", harness.Requester)
	eventually(t, time.Minute, "the sandbox to start", func() bool {
		_, ok := findEvent(kinds(t, env, d.RunID), telemetry.KindSandboxStarted)
		return ok
	})
	start := time.Now()
	comment(t, env, "@agentgate cancel", harness.Requester)
	eventually(t, 30*time.Second, "the run to be cancelled", func() bool { return doneState(env, d.RunID) != "" })
	if s := doneState(env, d.RunID); s != "cancelled" {
		t.Fatalf("state = %q, want cancelled", s)
	}
	t.Logf("cancel to cancelled with every run slot held: %s", time.Since(start))
}
