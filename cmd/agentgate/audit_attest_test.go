package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/agentgate/agentgate/cmd/internal/auditcmd"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

// Who signs the run's provenance record in attestedDB.
const (
	signedOwn            = ""                  // the operator's audit key, as the worker does
	signedForeign        = "foreign"           // another key, its own key id on the signature
	signedForeignAsOwn   = "foreign-as-own"    // another key, the operator key's id on the signature
	signedForeignNoKeyID = "foreign-no-key-id" // another key, no key id
)

// attestedDB writes a database with one finished run signed as the worker
// signs it (or by another key: signer), and returns the database and key
// paths. The audit trail records the stored envelope's digest either way,
// so only the signature can tell a foreign record.
func attestedDB(t *testing.T, signer string) (dbPath, keyPath string) {
	t.Helper()
	return attestedDBIn(t, t.TempDir(), signer)
}

// attestedDBIn is attestedDB with agentgate.db and audit.key in dir.
func attestedDBIn(t *testing.T, dir, signer string) (dbPath, keyPath string) {
	t.Helper()
	ctx := context.Background()
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
	signKey := key
	if signer != signedOwn {
		_, signKey, err = ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
	}
	env, err := provenance.SignRun(ctx, db, "run-p", signKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range env.Signatures {
		switch signer {
		case signedForeignAsOwn:
			if env.Signatures[i].KeyID, err = dsse.SHA256KeyID(key.Public()); err != nil {
				t.Fatal(err)
			}
		case signedForeignNoKeyID:
			env.Signatures[i].KeyID = ""
		}
	}
	raw, _ := json.Marshal(env)
	if err := db.RecordEffect(ctx, "run-p", auditcmd.EffectProvenance, string(raw)); err != nil {
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
		name    string
		signer  string
		tamper  string // SQL run before the command
		args    []string
		code    int
		want    []string
		notWant []string
	}{
		{name: "attest", args: []string{"audit", "attest", "run-p"}, want: []string{`"payloadType": "application/vnd.in-toto+json"`, "signature good", "dlv-9", "3333333333333333333333333333333333333333"}},
		{name: "attest without a record", args: []string{"audit", "attest", "run-none"}, code: 1, want: []string{"no provenance record"}},
		{name: "verify", args: []string{"audit", "verify"}, want: []string{"OK: head", "provenance records 1"}},
		// A statement signed by another key, whatever key id it names.
		{name: "attest foreign key", signer: signedForeign, args: []string{"audit", "attest", "run-p"}, code: 1,
			want: []string{"BROKEN", "signature"}, notWant: []string{"signature good"}},
		{name: "attest foreign key under the operator's key id", signer: signedForeignAsOwn, args: []string{"audit", "attest", "run-p"}, code: 1,
			want: []string{"BROKEN", "signature"}, notWant: []string{"signature good"}},
		{name: "attest foreign key without key id", signer: signedForeignNoKeyID, args: []string{"audit", "attest", "run-p"}, code: 1,
			want: []string{"BROKEN", "signature"}, notWant: []string{"signature good"}},
		{name: "verify foreign key", signer: signedForeignAsOwn, args: []string{"audit", "verify"}, code: 1,
			want: []string{"BROKEN: provenance", "signature"}, notWant: []string{"signatures good"}},
		{name: "verify edited record", tamper: `UPDATE effects SET value = replace(value, '"sig":"', '"sig":"AA') WHERE effect_key = 'provenance'`,
			args: []string{"audit", "verify"}, code: 1, want: []string{"BROKEN: provenance", "not the one the audit trail recorded"}},
		{name: "verify deleted record", tamper: `DELETE FROM effects WHERE effect_key = 'provenance'`,
			args: []string{"audit", "verify"}, code: 1, want: []string{"BROKEN: provenance", "missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath, keyPath := attestedDB(t, tt.signer)
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
			for _, w := range tt.notWant {
				if strings.Contains(all, w) {
					t.Errorf("output has %q:\n%s", w, all)
				}
			}
		})
	}
}
