package webhook

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/store"
)

// TestRunJobUniqueByDelivery: River itself refuses a second job for one
// delivery, whatever its run id, behind the deliveries table.
func TestRunJobUniqueByDelivery(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	client, err := river.NewClient(db.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	insert := func(runID, delivery string) bool {
		t.Helper()
		res, err := client.Insert(ctx, RunJobArgs{RunID: runID, DeliveryID: delivery, Owner: "o", Repo: "r", IssueNumber: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return !res.UniqueSkippedAsDuplicate
	}
	if !insert("run-1", "d-1") {
		t.Fatal("first job for d-1 skipped")
	}
	if insert("run-2", "d-1") {
		t.Fatal("second job for delivery d-1 inserted")
	}
	if !insert("run-3", "d-2") {
		t.Fatal("job for another delivery skipped")
	}
}

// TestReplayUnderNewDeliveryID: a signed label or re-run delivery sent
// again under a new X-GitHub-Delivery acts once; the same kind of event
// that really happened again (the label added again later, another
// person's re-run, another check run) still acts.
func TestReplayUnderNewDeliveryID(t *testing.T) {
	const runID = "0d9c2f8e-5b1a-4c3e-9f70-1a2b3c4d5e6f"
	label := func(edits ...any) []byte {
		return payload(t, "issues.labeled.json", append([]any{"label.name", "agentgate", "installation.id", 42}, edits...)...)
	}
	rerun := func(edits ...any) []byte {
		return payload(t, "check_run.rerequested.json", append([]any{"check_run.name", "agentgate", "check_run.external_id", runID}, edits...)...)
	}
	// GitHub's example comment on a pull request, edited or deleted.
	change := func(action string, edits ...any) []byte {
		return payload(t, "issue_comment.created.pull_request.json", append([]any{"action", action, "comment.body", "@agentgate use tabs", "installation.id", 42}, edits...)...)
	}
	tests := []struct {
		name   string
		event  string
		first  []byte
		second []byte
		want   int // the second delivery's answer
	}{
		{name: "comment edit replayed", event: "issue_comment", first: change("edited"), second: change("edited"), want: http.StatusOK},
		{name: "comment edited again later", event: "issue_comment", first: change("edited"), second: change("edited", "comment.updated_at", "2030-01-01T00:00:00Z"), want: http.StatusAccepted},
		{name: "comment deletion replayed", event: "issue_comment", first: change("deleted"), second: change("deleted"), want: http.StatusOK},
		{name: "label replayed", event: "issues", first: label(), second: label(), want: http.StatusOK},
		{name: "label added again later", event: "issues", first: label(), second: label("issue.updated_at", "2019-05-15T16:01:02Z"), want: http.StatusAccepted},
		{name: "label added by another person", event: "issues", first: label(), second: label("sender.id", 99), want: http.StatusAccepted},
		{name: "label on another issue", event: "issues", first: label(), second: label("issue.id", 7), want: http.StatusAccepted},
		{name: "re-run replayed", event: "check_run", first: rerun(), second: rerun(), want: http.StatusOK},
		{name: "re-run by another person", event: "check_run", first: rerun(), second: rerun("sender.id", 99), want: http.StatusAccepted},
		{name: "re-run of another check run", event: "check_run", first: rerun(), second: rerun("check_run.id", 5), want: http.StatusAccepted},
		{name: "re-run after the check run completed again", event: "check_run", first: rerun(), second: rerun("check_run.completed_at", "2018-05-04T02:00:00Z"), want: http.StatusAccepted},
		{name: "comment replayed", event: "issue_comment", first: payload(t, "issue_comment.created.json", "comment.body", "@agentgate go"),
			second: payload(t, "issue_comment.created.json", "comment.body", "@agentgate go"), want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if rec := h.post(t, tt.event, uuid.NewString(), tt.first, ""); rec.Code != http.StatusAccepted {
				t.Fatalf("first: %d %q", rec.Code, rec.Body)
			}
			rec := h.post(t, tt.event, uuid.NewString(), tt.second, "")
			if rec.Code != tt.want {
				t.Fatalf("second: %d %q, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want == http.StatusOK && !strings.Contains(rec.Body.String(), "duplicate delivery") {
				t.Errorf("second answered %q, want duplicate delivery", rec.Body)
			}
			var jobs int
			if err := h.db.SQL.QueryRow(`SELECT COUNT(*) FROM river_job`).Scan(&jobs); err != nil {
				t.Fatal(err)
			}
			if want := map[int]int{http.StatusOK: 1, http.StatusAccepted: 2}[tt.want]; jobs != want {
				t.Errorf("%d jobs, want %d", jobs, want)
			}
		})
	}
}
