package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// auditDB writes a database with two runs and returns its path.
func auditDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agentgate.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for _, r := range []store.Run{
		{ID: "run-a", Repo: "octo/one", Issue: 1, Requester: "alice", State: "succeeded"},
		{ID: "run-b", Repo: "octo/two", Issue: 2, Requester: "bob", State: "failed"},
		{ID: "run-c", Repo: "octo/two", Issue: 3, Requester: "bob", State: "failed"},
	} {
		if _, err := db.EnsureRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		if r.ID == "run-b" {
			if err := db.RecordEffect(ctx, r.ID, journal.Diff, "diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml\n+on: push\n"); err != nil {
				t.Fatal(err)
			}
		}
		if r.ID == "run-c" { // an agent's diff that would drive a terminal
			if err := db.RecordEffect(ctx, r.ID, journal.Diff, hostileDiff); err != nil {
				t.Fatal(err)
			}
		}
		for _, kind := range []string{telemetry.KindRunQueued, telemetry.KindSandboxExited, telemetry.KindRunFinished} {
			if _, err := db.Append(ctx, telemetry.Event{RunID: r.ID, Kind: kind, Actor: "app", Attrs: map[string]any{"outcome": r.State}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return path
}

// hostileDiff sets the terminal's title, clears the screen, hides a line
// behind a carriage return, reverses text, and sends a C1 CSI and a byte
// that is not UTF-8.
const hostileDiff = "diff --git a/x b/x\n+on: push\n+\x1b]0;pwned\x07\x1b[2J\n+rm -rf / \r+harmless\n+\u202eevil\u202c\n+\u009b31m\xff\n"

func TestAuditCommand(t *testing.T) {
	for _, k := range []string{"AGENTGATE_CONFIG", "AGENTGATE_DATABASE_URL", "AGENTGATE_AUDIT_KEY_FILE"} {
		t.Setenv(k, "")
	}
	path := auditDB(t)
	key := filepath.Join(t.TempDir(), "audit.pem")
	if _, err := store.LoadAuditKey(key, true); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		args    []string
		code    int
		want    []string // in stdout+stderr
		notWant []string
	}{
		{args: []string{"audit"}, code: 2, want: []string{"audit verify"}},
		{args: []string{"audit", "list"}, want: []string{"run-a", "run-b", "alice", "octo/two"}},
		{args: []string{"audit", "list", "--requester", "alice"}, want: []string{"run-a"}, notWant: []string{"run-b"}},
		{args: []string{"audit", "list", "--outcome", "failed", "--repo", "octo/two"}, want: []string{"run-b"}, notWant: []string{"run-a"}},
		{args: []string{"audit", "list", "--since", "2999-01-01"}, want: []string{"RUN"}, notWant: []string{"run-a", "run-b"}},
		{args: []string{"audit", "list", "--since", "yesterday"}, code: 1, want: []string{"want RFC 3339"}},
		{args: []string{"audit", "show", "run-a"}, want: []string{"alice", telemetry.KindRunQueued, telemetry.KindRunFinished, "head "}, notWant: []string{"run-b"}},
		{args: []string{"audit", "show", "nope"}, code: 1, want: []string{"no events"}},
		{args: []string{"audit", "show"}, code: 1, want: []string{"run id is required"}},
		{args: []string{"audit", "show", "run-b", "--diff"}, want: []string{"+on: push"}, notWant: []string{telemetry.KindRunQueued}},
		{args: []string{"audit", "show", "run-a", "--diff"}, code: 1, want: []string{"kept no diff"}},
		{args: []string{"audit", "show", "run-c", "--diff"}, want: []string{"+on: push\n", `\x1b]0;pwned\x07\x1b[2J`, `rm -rf / \r+harmless`, `\u202eevil\u202c`, `\u009b31m\xff`},
			notWant: []string{"\x1b", "\x07", "\r", "\u202e", "\u009b", "\xff"}},
		{args: []string{"audit", "show", "run-c", "--diff", "--raw"}, want: []string{hostileDiff}},
		{args: []string{"audit", "verify"}, want: []string{"runs 3, events 9", "OK: head "}},
		{args: []string{"audit", "prune", "--older-than", "1h", "--audit-key-file", key}, want: []string{"pruned 0 runs"}},
		// A trail with entries never gets a new key: that would fork it.
		{args: []string{"audit", "prune", "--older-than", "1h", "--audit-key-file", missing}, code: 1, want: []string{"audit key missing", "restore that key"}},
		{args: []string{"audit", "frob"}, code: 2, want: []string{`unknown subcommand "frob"`}},
	}
	for _, tt := range tests {
		args := append(tt.args, "--database-url", path)
		if tt.args[len(tt.args)-1] == "audit" {
			args = tt.args
		}
		var out, errOut bytes.Buffer
		code := run(args, &out, &errOut)
		all := out.String() + errOut.String()
		if code != tt.code {
			t.Errorf("agentgate %q: exit %d, want %d; output %q", args, code, tt.code, all)
		}
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("agentgate %q: output lacks %q: %q", args, w, all)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(all, w) {
				t.Errorf("agentgate %q: output has %q: %q", args, w, all)
			}
		}
	}
}

func TestAuditExportAndVerifyBroken(t *testing.T) {
	for _, k := range []string{"AGENTGATE_CONFIG", "AGENTGATE_DATABASE_URL", "AGENTGATE_AUDIT_KEY_FILE"} {
		t.Setenv(k, "")
	}
	path := auditDB(t)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "export", "--database-url", path}, &out, &errOut); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 9 {
		t.Fatalf("export: %d lines, want 9: %q", len(lines), out.String())
	}
	var ev store.AuditEvent
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RunID != "run-a" || ev.Seq != 1 || len(ev.Hash) != 64 || ev.PrevHash != telemetry.GenesisHash {
		t.Fatalf("first exported event: %+v", ev)
	}

	// Tamper with the file as an attacker would, then verify again.
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.Exec(`UPDATE events SET actor = 'mallory' WHERE run_id = 'run-b' AND seq = 2`); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	out.Reset()
	errOut.Reset()
	code := run([]string{"audit", "verify", "--database-url", path}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "BROKEN: edited: run run-b seq 2") {
		t.Fatalf("verify of an edited trail: exit %d, %q %q", code, out.String(), errOut.String())
	}
}
