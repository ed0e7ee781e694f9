package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/jobs"
)

// legacyRow is an event job exactly as agentgate wrote it before each
// event family had its own kind: one "agentgate.event" kind, the family in
// its "command".
type legacyRow struct{ raw string }

func (legacyRow) Kind() string                   { return (jobs.Legacy{}).Kind() }
func (r legacyRow) MarshalJSON() ([]byte, error) { return []byte(r.raw), nil }
func (legacyRow) InsertOpts() river.InsertOpts   { return river.InsertOpts{Queue: jobs.QueueEvents} }

// TestEndToEndLegacyEventJobs: event jobs written by the previous version
// (still queued across an upgrade) are worked by the family handlers: a
// `help` and a `status <run id>` command row each get their answer.
func TestEndToEndLegacyEventJobs(t *testing.T) {
	env := startEnv(t, nil)
	first, _ := trigger(t, env, "@agentgate agentgate-test: write L.md l", harness.Requester)
	ins, err := river.NewClient(env.App.DB().RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	row := func(delivery, command, runID string) legacyRow {
		return legacyRow{fmt.Sprintf(`{"delivery_id":%q,"event":"issue_comment","action":"created","command":%q,"run_id":%q,`+
			`"installation_id":%d,"repo_id":%d,"owner":%q,"repo":%q,"clone_url":"","default_branch":"main","number":%d,`+
			`"actor_login":%q,"actor_id":%d,"actor_type":"User","author_association":"OWNER","v":1}`,
			delivery, command, runID, harness.InstallationID, harness.RepoID, harness.Owner, harness.Repo, harness.IssueNumber,
			harness.Requester, harness.RequesterID)}
	}
	for _, r := range []legacyRow{row("legacy-help", "help", ""), row("legacy-status", "status", first.RunID)} {
		if _, err := ins.Insert(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "answers to the legacy jobs", func() bool {
		var help, status bool
		for _, c := range botComments(env) {
			help = help || strings.Contains(c, "approve [*run id*]")
			status = status || strings.Contains(c, "| `"+first.RunID+"` | finished |")
		}
		return help && status
	})
}
