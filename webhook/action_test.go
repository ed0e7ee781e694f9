package webhook

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/agentgate/agentgate/jobs"
)

func TestParseCheckAction(t *testing.T) {
	const file = "check_run.requested_action.json"
	tests := []struct {
		name   string
		body   []byte
		want   bool
		reason string
	}{
		{name: "approve", body: payload(t, file, "requested_action.identifier", "approve", "check_run.external_id", "run-1"), want: true},
		{name: "ci", body: payload(t, file, "requested_action.identifier", "ci", "check_run.external_id", "run-1"), want: true},
		{name: "other button", body: payload(t, file, "check_run.external_id", "run-1"), reason: "not one of agentgate's buttons"},
		{name: "no external id", body: payload(t, file, "requested_action.identifier", "approve", "check_run.external_id", ""), reason: "check run is not agentgate's"},
		{name: "rerequested", body: payload(t, file, "action", "rerequested"), reason: ReasonAction},
		{name: "bot", body: payload(t, file, "requested_action.identifier", "approve", "check_run.external_id", "r", "sender.type", "Bot"), reason: ReasonBot},
		{name: "no installation", body: payload(t, file, "requested_action.identifier", "approve", "check_run.external_id", "r", "installation", nil), reason: ReasonInstallation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args, reason, err := ParseCheckAction(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if (args != nil) != tt.want || reason != tt.reason {
				t.Fatalf("args %+v reason %q, want job=%v reason %q", args, reason, tt.want, tt.reason)
			}
			if args != nil && (args.RunID != "run-1" || args.CheckRunID != 1494503112 || args.HeadSHA == "" || args.SenderLogin != "codebytere" ||
				args.Owner != "electron" || args.Repo != "electron" || args.InstallationID != 690857 || args.HeadBranch == "") {
				t.Errorf("args = %+v", args)
			}
		})
	}
	if _, _, err := ParseCheckAction([]byte(`{"action":"requested_action","check_run":"x"}`)); err == nil {
		t.Error("malformed payload accepted")
	}
}

// A click on agentgate's button becomes one job, once per delivery; a
// check_run delivery that is no click falls through to the triggers.
func TestCheckActionEnqueuesOnce(t *testing.T) {
	h := newHarness(t)
	body := payload(t, "check_run.requested_action.json", "requested_action.identifier", "approve", "check_run.external_id", "run-1")
	if rec := h.post(t, "check_run", "d-1", body, ""); rec.Code != http.StatusAccepted {
		t.Fatalf("first: %d %s", rec.Code, rec.Body)
	}
	if rec := h.post(t, "check_run", "d-1", body, ""); rec.Code != http.StatusOK {
		t.Fatalf("duplicate: %d %s", rec.Code, rec.Body)
	}
	if rec := h.post(t, "check_run", "d-2", payload(t, "check_run.requested_action.json", "action", "rerequested"), ""); rec.Code != http.StatusOK {
		t.Fatalf("rerequested: %d %s", rec.Code, rec.Body)
	}
	if rec := h.post(t, "check_run", "d-3", body, Sign([]byte("wrong"), body)); rec.Code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d", rec.Code)
	}
	rows, err := h.db.SQL.Query(`SELECT kind, json(args) FROM river_job ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	n := 0
	for rows.Next() {
		var kind string
		var raw []byte
		if err := rows.Scan(&kind, &raw); err != nil {
			t.Fatal(err)
		}
		var a jobs.CheckAction
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		if kind != (jobs.CheckAction{}).Kind() || a.DeliveryID != "d-1" || a.Identifier != "approve" {
			t.Errorf("job %s %+v", kind, a)
		}
		n++
	}
	if n != 1 {
		t.Errorf("jobs = %d, want 1", n)
	}
}
