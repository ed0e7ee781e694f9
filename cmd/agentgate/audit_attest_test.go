package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

// attestedDB writes a database with one finished run signed as the worker
// signs it, and returns the database and key paths.
func attestedDB(t *testing.T) (dbPath, keyPath string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath, keyPath = filepath.Join(dir, "agentgate.db"), filepath.Join(dir, "audit.key")
	key, err := store.LoadAuditKey(keyPath, true)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	db.SetAuditKey(key)
	if _, err := db.EnsureRun(ctx, store.Run{ID: "run-p", Repo: "octo/one", Issue: 1, Requester: "alice", State: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []telemetry.Event{
		{Kind: telemetry.KindWebhookReceived, Actor: "alice", Attrs: map[string]any{"delivery_id": "dlv-9", "repo": "octo/one"}},
		{Kind: telemetry.KindGitPushed, Actor: "agentgate", Attrs: map[string]any{"commit": "3333333333333333333333333333333333333333", "branch": "agentgate/1-x"}},
		{Kind: telemetry.KindRunFinished, Actor: "agentgate", Attrs: map[string]any{"outcome": "succeeded"}},
	} {
		ev.RunID = "run-p"
		if _, err := db.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	env, err := provenance.SignRun(ctx, db, "run-p", key)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	if err := db.RecordEffect(ctx, "run-p", effProvenance, string(raw)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, telemetry.Event{RunID: "run-p", Kind: provenance.KindSigned, Actor: "agentgate",
		Attrs: map[string]any{"envelope_sha256": provenance.Digest(raw)}}); err != nil {
		t.Fatal(err)
	}
	return dbPath, keyPath
}

func TestAuditAttestAndVerify(t *testing.T) {
	for _, k := range []string{"AGENTGATE_CONFIG", "AGENTGATE_DATABASE_URL", "AGENTGATE_AUDIT_KEY_FILE", "AGENTGATE_DATA_DIR"} {
		t.Setenv(k, "")
	}
	tests := []struct {
		name   string
		tamper string // SQL run before the command
		args   []string
		code   int
		want   []string
	}{
		{name: "attest", args: []string{"audit", "attest", "run-p"}, want: []string{`"payloadType": "application/vnd.in-toto+json"`, "signature good", "dlv-9", "3333333333333333333333333333333333333333"}},
		{name: "attest without a record", args: []string{"audit", "attest", "run-none"}, code: 1, want: []string{"no provenance record"}},
		{name: "verify", args: []string{"audit", "verify"}, want: []string{"OK: head", "provenance records 1"}},
		{name: "verify edited record", tamper: `UPDATE effects SET value = replace(value, '"sig":"', '"sig":"AA') WHERE effect_key = 'provenance'`,
			args: []string{"audit", "verify"}, code: 1, want: []string{"BROKEN: provenance", "not the one the audit trail recorded"}},
		{name: "verify deleted record", tamper: `DELETE FROM effects WHERE effect_key = 'provenance'`,
			args: []string{"audit", "verify"}, code: 1, want: []string{"BROKEN: provenance", "missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath, keyPath := attestedDB(t)
			if tt.tamper != "" {
				db, err := store.Open(context.Background(), dbPath)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.SQL.Exec(tt.tamper); err != nil {
					t.Fatal(err)
				}
				_ = db.Close()
			}
			var out, errOut bytes.Buffer
			code := run(append(tt.args, "--database-url", dbPath, "--audit-key-file", keyPath), &out, &errOut)
			all := out.String() + errOut.String()
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
}
