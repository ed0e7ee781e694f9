package webhook

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/store"
)

var testSecret = []byte("test webhook secret")

// harness is a Server on a real SQLite store with a real (insert-only)
// River client.
type harness struct {
	db  *store.DB
	srv *Server
	h   http.Handler
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "intake.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	client, err := river.NewClient(db.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(Config{Secret: testSecret}, db.SQL, client, logger)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{db: db, srv: srv, h: srv.Handler()}
}

// post sends a delivery. sig "" signs the body with testSecret; "-" sends
// no signature.
func (h *harness) post(t *testing.T, event, delivery string, body []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if event != "" {
		req.Header.Set("X-GitHub-Event", event)
	}
	if delivery != "" {
		req.Header.Set("X-GitHub-Delivery", delivery)
	}
	switch sig {
	case "":
		req.Header.Set("X-Hub-Signature-256", Sign(testSecret, body))
	case "-":
	default:
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

// jobs returns the args of every River job in the database.
func (h *harness) jobs(t *testing.T) []RunJobArgs {
	t.Helper()
	rows, err := h.db.SQL.Query(`SELECT kind, json(args) FROM river_job ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var out []RunJobArgs
	for rows.Next() {
		var kind string
		var raw []byte
		if err := rows.Scan(&kind, &raw); err != nil {
			t.Fatal(err)
		}
		if kind != (RunJobArgs{}).Kind() {
			t.Fatalf("job kind %q", kind)
		}
		var a RunJobArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTriggerEnqueuesOnce(t *testing.T) {
	h := newHarness(t)
	body := payload(t, "issue_comment.created.json", "comment.body", "@agentgate fix the flaky test")
	delivery := uuid.NewString()

	rec := h.post(t, "issue_comment", delivery, body, "")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d %q, want 202", rec.Code, rec.Body)
	}
	var resp struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response %q: %v", rec.Body, err)
	}
	if _, err := uuid.Parse(resp.RunID); err != nil {
		t.Fatalf("run_id %q is not a UUID", resp.RunID)
	}
	jobs := h.jobs(t)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs))
	}
	j := jobs[0]
	if j.RunID != resp.RunID || j.DeliveryID != delivery || j.Instructions != "fix the flaky test" ||
		j.Owner != "Codertocat" || j.IssueNumber != 1 || j.CommentID != 492700400 || j.InstallationID != 1 {
		t.Errorf("job = %+v", j)
	}

	// A redelivery (`agentgate redeliver`, or GitHub's "Redeliver" button)
	// keeps the X-GitHub-Delivery.
	rec = h.post(t, "issue_comment", delivery, body, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "duplicate delivery") {
		t.Errorf("redelivery: %d %q, want 200 duplicate delivery", rec.Code, rec.Body)
	}
	// A captured body replayed under a new delivery id.
	rec = h.post(t, "issue_comment", uuid.NewString(), body, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "duplicate delivery") {
		t.Errorf("replay: %d %q, want 200 duplicate delivery", rec.Code, rec.Body)
	}
	if n := len(h.jobs(t)); n != 1 {
		t.Errorf("%d jobs after redelivery, want 1", n)
	}

	// A label trigger is a second, distinct run.
	rec = h.post(t, "issues", uuid.NewString(), payload(t, "issues.labeled.json", "label.name", "agentgate", "installation.id", 9), "")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("label: status %d %q", rec.Code, rec.Body)
	}
	jobs = h.jobs(t)
	if len(jobs) != 2 || jobs[1].Trigger != TriggerLabel || jobs[1].RunID == jobs[0].RunID {
		t.Errorf("jobs after label = %+v", jobs)
	}
}

func TestWebhookRefusals(t *testing.T) {
	trigger := payload(t, "issue_comment.created.json", "comment.body", "@agentgate go")
	big := bytes.Repeat([]byte(" "), 26<<20)
	copy(big, trigger)
	tests := []struct {
		name     string
		event    string
		delivery string
		body     []byte
		sig      string
		want     int
	}{
		{name: "unsigned", event: "issue_comment", delivery: "d1", body: trigger, sig: "-", want: 401},
		{name: "wrong signature", event: "issue_comment", delivery: "d1", body: trigger, sig: Sign([]byte("other"), trigger), want: 401},
		{name: "malformed signature", event: "issue_comment", delivery: "d1", body: trigger, sig: "sha256=xyz", want: 401},
		{name: "oversized 26 MiB", event: "issue_comment", delivery: "d1", body: big, want: 413},
		{name: "oversized unsigned", event: "issue_comment", delivery: "d1", body: big, sig: "-", want: 413},
		{name: "truncated JSON", event: "issue_comment", delivery: "d1", body: trigger[:len(trigger)/2], want: 400},
		{name: "truncated JSON of another event", event: "pull_request", delivery: "d1", body: []byte(`{"action":`), want: 400},
		{name: "missing delivery", event: "issue_comment", body: trigger, want: 400},
		{name: "control char in delivery", event: "issue_comment", delivery: "d\x01", body: trigger, want: 400},
		{name: "missing event", delivery: "d1", body: trigger, want: 400},
		{name: "wrong field type", event: "issue_comment", delivery: "d1", body: payload(t, "issue_comment.created.json", "issue.number", "one"), want: 400},
		{name: "ping", event: "ping", delivery: "d2", body: payload(t, "ping.json"), want: 200},
		{name: "app ping", event: "ping", delivery: "d3", body: payload(t, "ping.app.json"), want: 200},
		{name: "comment without mention", event: "issue_comment", delivery: "d4", body: payload(t, "issue_comment.created.json"), want: 200},
		{name: "bot mention", event: "issue_comment", delivery: "d5", body: payload(t, "issue_comment.created.json", "comment.body", "@agentgate go", "sender.type", "Bot"), want: 200},
		{name: "other label", event: "issues", delivery: "d6", body: payload(t, "issues.labeled.json", "installation.id", 1), want: 200},
		{name: "pull request", event: "pull_request", delivery: "d7", body: payload(t, "pull_request.opened.json"), want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := h.post(t, tt.event, tt.delivery, tt.body, tt.sig)
			if rec.Code != tt.want {
				t.Fatalf("status %d %q, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.event == "ping" && rec.Body.String() != "pong\n" {
				t.Errorf("ping answered %q", rec.Body)
			}
			if n := len(h.jobs(t)); n != 0 {
				t.Errorf("%d jobs enqueued, want none", n)
			}
			var deliveries int
			if err := h.db.SQL.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&deliveries); err != nil || deliveries != 0 {
				t.Errorf("%d deliveries recorded (%v), want none", deliveries, err)
			}
		})
	}
}

func TestEnqueueErrorIs503(t *testing.T) {
	h := newHarness(t)
	srv, err := New(Config{Secret: testSecret}, h.db.SQL, errInserter{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h.h = srv.Handler()
	delivery := uuid.NewString()
	body := payload(t, "issue_comment.created.json", "comment.body", "@agentgate go")
	if rec := h.post(t, "issue_comment", delivery, body, ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d %q, want 503", rec.Code, rec.Body)
	}
	// The delivery was rolled back, so a redelivery (`agentgate redeliver`)
	// is served.
	var n int
	if err := h.db.SQL.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d deliveries after failure (%v)", n, err)
	}
}

func TestHealthAndDrain(t *testing.T) {
	h := newHarness(t)
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	steps := []struct {
		drain bool
		path  string
		want  int
	}{
		{path: "/healthz", want: 200},
		{path: "/readyz", want: 200},
		{drain: true, path: "/readyz", want: 503},
		{path: "/healthz", want: 200},
	}
	for i, s := range steps {
		if s.drain {
			h.srv.Drain()
		}
		if got := get(s.path); got != s.want {
			t.Errorf("step %d GET %s = %d, want %d", i, s.path, got, s.want)
		}
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhook", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /webhook = %d, want 405", rec.Code)
	}
}

func TestReadyzDatabaseDown(t *testing.T) {
	h := newHarness(t)
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz with closed database = %d, want 503", rec.Code)
	}
	// It says why: the check and the database's error.
	if body := rec.Body.String(); !strings.Contains(body, "not ready: database unreachable: ") || !strings.Contains(body, "closed") {
		t.Errorf("readyz body %q does not say why", body)
	}
}

func TestNewConfig(t *testing.T) {
	h := newHarness(t)
	client, err := river.NewClient(h.db.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		db   *sql.DB
		ins  Inserter
		ok   bool
	}{
		{name: "ok", cfg: Config{Secret: testSecret}, db: h.db.SQL, ins: client, ok: true},
		{name: "empty secret", cfg: Config{}, db: h.db.SQL, ins: client},
		{name: "mention with space", cfg: Config{Secret: testSecret, Mention: "@agent gate"}, db: h.db.SQL, ins: client},
		{name: "no db", cfg: Config{Secret: testSecret}, ins: client},
		{name: "no inserter", cfg: Config{Secret: testSecret}, db: h.db.SQL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(tt.cfg, tt.db, tt.ins, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("New err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (srv.cfg.Mention != DefaultMention || srv.cfg.Label != DefaultLabel || srv.cfg.MaxBody != DefaultMaxBody) {
				t.Errorf("defaults not applied: %+v", srv.cfg)
			}
		})
	}
}

func TestOversizedChunkedBody(t *testing.T) {
	h := newHarness(t)
	body := bytes.Repeat([]byte("x"), int(DefaultMaxBody)+1)
	req := httptest.NewRequest(http.MethodPost, "/webhook", io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1 // unknown length: the limit must come from reading
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", "d1")
	req.Header.Set("X-Hub-Signature-256", Sign(testSecret, body))
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	// Exactly MaxBody is accepted (and then refused as malformed JSON).
	body = body[:DefaultMaxBody]
	req = httptest.NewRequest(http.MethodPost, "/webhook", io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", "d1")
	req.Header.Set("X-Hub-Signature-256", Sign(testSecret, body))
	rec = httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d at exactly MaxBody, want 400", rec.Code)
	}
}

// When the body budget stays used up for the whole wait, a further
// delivery gets 503, never an unbounded read.
func TestConcurrentBodiesBounded(t *testing.T) {
	h := newHarness(t)
	h.srv.bodyWait = 200 * time.Millisecond
	all := h.srv.bodies.smallCap
	if err := h.srv.bodies.small.Acquire(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	rec := h.post(t, "issue_comment", uuid.NewString(), payload(t, "issue_comment.created.json", "comment.body", "@agentgate go", "installation.id", 1), "")
	if rec.Code != 503 {
		t.Fatalf("status %d, want 503 while the budget is used up", rec.Code)
	}
	h.srv.bodies.small.Release(all)
	rec = h.post(t, "issue_comment", uuid.NewString(), payload(t, "issue_comment.created.json", "comment.body", "@agentgate go", "installation.id", 1), "")
	if rec.Code != 202 {
		t.Fatalf("status %d after the slots freed, want 202", rec.Code)
	}
	if n := len(h.jobs(t)); n != 1 {
		t.Fatalf("jobs = %d, want 1", n)
	}
}
