package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// rotatedDB is attestedDB's database after a key rotation: the run's
// provenance record (and, with checkpoint, a checkpoint) signed with the
// old key, then a new key signs the chain and, with checkpoint, a second
// checkpoint. It returns the database, the new private key and both
// public keys as files.
func rotatedDB(t *testing.T, checkpoint bool) (dbPath, newKey, oldPub, newPub string) {
	t.Helper()
	ctx := context.Background()
	dbPath, oldKeyPath := attestedDB(t, signedOwn)
	dir := filepath.Dir(dbPath)
	old, err := store.LoadAuditKey(oldKeyPath, false)
	if err != nil {
		t.Fatal(err)
	}
	newKey = filepath.Join(dir, "audit-2.key")
	key, err := store.LoadAuditKey(newKey, true)
	if err != nil {
		t.Fatal(err)
	}
	writePub := func(name string, k ed25519.PrivateKey) string {
		b, err := store.MarshalAuditPublicKey(k.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldPub, newPub = writePub("old.pub", old), writePub("new.pub", key)
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if checkpoint {
		db.SetAuditKey(old)
		if err := db.Checkpoint(ctx, old); err != nil {
			t.Fatal(err)
		}
	}
	db.SetAuditKey(key)
	db.SetTrustedAuditKeys(old.Public().(ed25519.PublicKey))
	if _, err := db.Append(ctx, telemetry.Event{RunID: "run-q", Kind: telemetry.KindRunQueued, Actor: "agentgate"}); err != nil {
		t.Fatal(err)
	}
	if checkpoint {
		if err := db.Checkpoint(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	// The old private key is gone after the rotation.
	if err := os.Remove(oldKeyPath); err != nil {
		t.Fatal(err)
	}
	return dbPath, newKey, oldPub, newPub
}

// TestAuditVerifyAfterRotation checks that `audit verify` accepts records
// signed before a key rotation when the old public key is trusted
// (--public-key, repeatable, or the audit-public-keys setting), needs no
// private key, and fails, naming the old key, without it.
func TestAuditVerifyAfterRotation(t *testing.T) {
	for _, k := range []string{"AGENTGATE_CONFIG", "AGENTGATE_DATABASE_URL", "AGENTGATE_AUDIT_KEY_FILE", "AGENTGATE_DATA_DIR", "AGENTGATE_AUDIT_PUBLIC_KEYS"} {
		t.Setenv(k, "")
	}
	type paths struct{ newKey, oldPub, newPub string }
	tests := []struct {
		name       string
		checkpoint bool
		args       func(p paths) []string
		code       int
		want       []string
	}{
		{name: "public keys only, both", checkpoint: true, args: func(p paths) []string { return []string{"--public-key", p.newPub, "--public-key", p.oldPub} },
			want: []string{"OK: head", "checkpoints 2", "provenance records 1"}},
		{name: "public keys only, new one", checkpoint: true, args: func(p paths) []string { return []string{"--public-key", p.newPub} },
			code: 1, want: []string{"BROKEN: checkpoint signature bad", "names key SHA256:"}},
		{name: "key file and setting", checkpoint: true, args: func(p paths) []string { return []string{"--audit-key-file", p.newKey, "--audit-public-keys", p.oldPub} },
			want: []string{"OK: head", "checkpoints 2"}},
		{name: "key file alone", checkpoint: true, args: func(p paths) []string { return []string{"--audit-key-file", p.newKey} },
			code: 1, want: []string{"BROKEN: checkpoint signature bad"}},
		{name: "provenance, both", args: func(p paths) []string { return []string{"--public-key", p.newPub, "--public-key", p.oldPub} },
			want: []string{"OK: head", "provenance records 1"}},
		{name: "provenance, new key only", args: func(p paths) []string { return []string{"--public-key", p.newPub} },
			code: 1, want: []string{"BROKEN: provenance", "does not verify with any of the 1 trusted keys"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath, newKey, oldPub, newPub := rotatedDB(t, tt.checkpoint)
			var out, errOut bytes.Buffer
			args := append([]string{"audit", "verify", "--database-url", dbPath}, tt.args(paths{newKey, oldPub, newPub})...)
			code := run(args, &out, &errOut)
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
