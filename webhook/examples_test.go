package webhook

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestGitHubExamplesThroughHandler sends every example payload GitHub
// publishes (testdata, copied from ../shared/github/webhooks) through the
// HTTP handler, as it is and edited into what agentgate acts on, and
// checks the answer: 202 with a job for what intake routes, 200 for what
// it ignores, never 400 for a well-formed delivery.
func TestGitHubExamplesThroughHandler(t *testing.T) {
	const runID = "0d9c2f8e-5b1a-4c3e-9f70-1a2b3c4d5e6f"
	branch := "agentgate/1-spelling-error"
	ours := []any{"pull_request.head.ref", branch, "pull_request.head.repo", nil}
	tests := []struct {
		file  string
		edits []any
		want  int // 202: a job; 200: ignored (or pong)
	}{
		{file: "check_run.requested_action.json", want: 200},
		{file: "check_run.requested_action.json", edits: []any{"requested_action.identifier", "approve", "check_run.external_id", runID}, want: 202},
		{file: "check_run.rerequested.json", want: 200},
		{file: "check_run.rerequested.json", edits: []any{"check_run.name", "agentgate", "check_run.external_id", runID}, want: 202},
		{file: "check_suite.requested.json", want: 200},
		{file: "installation.created.json", want: 202},
		{file: "installation.deleted.json", want: 202},
		{file: "installation_repositories.added.json", want: 202},
		{file: "issue_comment.created.json", want: 200},
		{file: "issue_comment.created.json", edits: []any{"comment.body", "@agentgate fix it"}, want: 202},
		{file: "issue_comment.created.json", edits: []any{"comment.body", "@agentgate help"}, want: 202},
		{file: "issue_comment.created.pull_request.json", want: 200},
		{file: "issue_comment.created.pull_request.json", edits: []any{"comment.body", "@agentgate use a map", "installation.id", 7}, want: 202},
		{file: "issues.assigned.json", want: 200},
		{file: "issues.labeled.json", want: 200},
		{file: "issues.labeled.json", edits: []any{"label.name", "agentgate", "installation.id", 42}, want: 202},
		{file: "issues.opened.json", want: 200},
		{file: "ping.app.json", want: 200},
		{file: "ping.json", want: 200},
		{file: "pull_request.closed.json", want: 200},
		{file: "pull_request.closed.json", edits: ours, want: 202},
		{file: "pull_request.closed.merged.json", want: 200},
		{file: "pull_request.closed.merged.json", edits: append([]any{"installation.id", 3}, ours...), want: 202},
		{file: "pull_request.opened.json", want: 200},
		{file: "pull_request_review.submitted.json", want: 200},
		{file: "pull_request_review.submitted.json", edits: append([]any{"review.state", "changes_requested", "review.body", "@agentgate rename x"}, ours...), want: 202},
		{file: "pull_request_review_comment.created.json", want: 200},
		{file: "pull_request_review_comment.created.json", edits: ours, want: 202},
	}
	covered := map[string]bool{}
	for i, tt := range tests {
		covered[tt.file] = true
		name := strings.TrimSuffix(tt.file, ".json")
		if len(tt.edits) > 0 {
			name += "/edited-" + strconv.Itoa(i)
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			body := payload(t, tt.file, tt.edits...)
			rec := h.post(t, eventOf(tt.file), uuid.NewString(), body, "")
			if rec.Code != tt.want {
				t.Fatalf("status %d %q, want %d", rec.Code, rec.Body, tt.want)
			}
			var jobs int
			if err := h.db.SQL.QueryRow(`SELECT COUNT(*) FROM river_job`).Scan(&jobs); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.want == 202]; jobs != want {
				t.Errorf("%d jobs, want %d", jobs, want)
			}
		})
	}
	// Every example is in the table, and the copies are GitHub's own.
	names, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, n := range names {
		base := filepath.Base(n)
		if !covered[base] {
			t.Errorf("example %s is not in the table", base)
		}
		shared, err := os.ReadFile(filepath.Join("..", "..", "shared", "github", "webhooks", base))
		if err != nil {
			shared, err = os.ReadFile(filepath.Join("..", "..", "..", "shared", "github", "webhooks", base))
		}
		if err != nil {
			continue // the shared directory is not beside this checkout
		}
		if mine, _ := os.ReadFile(n); !bytes.Equal(mine, shared) {
			t.Errorf("testdata/%s differs from GitHub's example", base)
		}
	}
}

// Fields agentgate does not use cannot turn a delivery into a 400: a
// timestamp in another format, a field of an unexpected type, an unknown
// object where a string was.
func TestUnusedFieldsNeverRefuse(t *testing.T) {
	const runID = "0d9c2f8e-5b1a-4c3e-9f70-1a2b3c4d5e6f"
	tests := []struct {
		name  string
		event string
		body  []byte
		want  int
	}{
		{name: "comment with odd timestamps and types", event: "issue_comment", body: payload(t, "issue_comment.created.json",
			"comment.body", "@agentgate go", "issue.created_at", "2018-04-25 20:42:10", "issue.labels", "none",
			"repository.pushed_at", "yesterday", "sender.site_admin", "no", "comment.updated_at", 12), want: 202},
		{name: "label with odd fields", event: "issues", body: payload(t, "issues.labeled.json",
			"label.name", "agentgate", "installation.id", 42, "issue.closed_at", "never", "issue.milestone", "m", "label.color", 7), want: 202},
		{name: "rerun with odd fields", event: "check_run", body: payload(t, "check_run.rerequested.json",
			"check_run.name", "agentgate", "check_run.external_id", runID, "check_run.output", "text", "check_run.pull_requests", 3), want: 202},
		{name: "button with odd fields", event: "check_run", body: payload(t, "check_run.requested_action.json",
			"requested_action.identifier", "ci", "check_run.external_id", runID, "check_run.started_at", "2018-04-25 20:42:10", "check_run.output", 1), want: 202},
		// Positive control: a field agentgate uses, of the wrong type, is
		// still refused.
		{name: "used field of the wrong type", event: "issue_comment", body: payload(t, "issue_comment.created.json",
			"comment.body", "@agentgate go", "issue.number", "one"), want: 400},
		{name: "used check run field of the wrong type", event: "check_run", body: payload(t, "check_run.rerequested.json",
			"check_run.name", "agentgate", "check_run.external_id", 5), want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if rec := h.post(t, tt.event, uuid.NewString(), tt.body, ""); rec.Code != tt.want {
				t.Fatalf("status %d %q, want %d", rec.Code, rec.Body, tt.want)
			}
		})
	}
}
