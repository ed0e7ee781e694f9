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
)

// TestBackupRestores checks `agentgate backup`: the copied database opens,
// holds the run, and its audit trail (provenance included) verifies with
// the copied key alone; the output directory is never overwritten.
func TestBackupRestores(t *testing.T) {
	for _, k := range []string{"AGENTGATE_CONFIG", "AGENTGATE_DATABASE_URL", "AGENTGATE_AUDIT_KEY_FILE", "AGENTGATE_DATA_DIR", "AGENTGATE_AUDIT_PUBLIC_KEYS"} {
		t.Setenv(k, "")
	}
	dbPath, keyPath := attestedDB(t, signedOwn)
	out := filepath.Join(t.TempDir(), "backup")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"backup", "--out", out, "--database-url", dbPath, "--audit-key-file", keyPath}, &stdout, &stderr); code != 0 {
		t.Fatalf("backup: exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	for _, f := range []string{"agentgate.db", "audit.key"} {
		fi, err := os.Stat(filepath.Join(out, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	key, err := store.LoadAuditKey(filepath.Join(out, "audit.key"), false)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(out, "agentgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := db.Verify(context.Background(), key.Public().(ed25519.PublicKey))
	_ = db.Close()
	if err != nil || !rep.OK() || rep.Runs != 1 {
		t.Fatalf("restored copy: %+v %v", rep, err)
	}
	stdout.Reset()
	var errOut bytes.Buffer
	code := run([]string{"audit", "verify", "--database-url", filepath.Join(out, "agentgate.db"), "--audit-key-file", filepath.Join(out, "audit.key")}, &stdout, &errOut)
	if code != 0 || !strings.Contains(stdout.String(), "provenance records 1") {
		t.Fatalf("audit verify on the copy: exit %d: %s%s", code, stdout.String(), errOut.String())
	}
	if code := run([]string{"backup", "--out", out, "--database-url", dbPath, "--audit-key-file", keyPath}, &stdout, &errOut); code == 0 {
		t.Fatal("backup overwrote an existing directory")
	}
}
