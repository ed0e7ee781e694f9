package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testgh"
)

// TestEndToEndNameTakenOverSeesNoRuns: the repository is deleted and a new
// one is created under the same owner/name (GitHub gives it a new id).
// Whoever comments there does not see or retry the earlier repository's
// runs, whose issue text they never could read; in the earlier repository
// (positive control) status lists the run.
func TestEndToEndNameTakenOverSeesNoRuns(t *testing.T) {
	env := startEnv(t, nil)
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
