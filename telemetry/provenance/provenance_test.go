package provenance_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/telemetry/provenance"
)

// runEvents stores a finished run's events and returns the store.
func runEvents(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for _, ev := range []telemetry.Event{
		{Kind: telemetry.KindWebhookReceived, Actor: "alice", Attrs: map[string]any{"delivery_id": "dlv-1", "event": "issue_comment", "trigger": "mention", "repo": "octo/hello", "issue": 7, "comment_id": 99}},
		{Kind: telemetry.KindRunAuthorized, Actor: "agentgate", Attrs: map[string]any{"permission": "admin", "required": "write"}},
		{Kind: telemetry.KindWorkspaceReady, Actor: "agentgate", Attrs: map[string]any{"branch": "main", "base_commit": "1111111111111111111111111111111111111111"}},
		{Kind: telemetry.KindSandboxStarted, Actor: "agentgate", Attrs: map[string]any{"agent": "configured", "image": "agentgate/testagent:dev", "image_digest": "sha256:abcd", "policy_sha256": "feed", "network": "relay", "runtime": "runc", "agent_version": "codex-cli 0.150.0", "agent_version_checked": "0.146.1"}},
		{Kind: "agent.command", Actor: "agent", Attrs: map[string]any{"command": "make", "exit_code": 0}},
		{Kind: "agent.command", Actor: "agent", Attrs: map[string]any{"command": "make test", "exit_code": 2}},
		{Kind: telemetry.KindNetAllowed, Actor: "agent", Attrs: map[string]any{"host": "proxy.golang.org", "port": 443}},
		{Kind: telemetry.KindNetDenied, Actor: "agent", Attrs: map[string]any{"host": "evil.example", "port": 443}},
		{Kind: telemetry.KindNetDenied, Actor: "agent", Attrs: map[string]any{"host": "evil.example", "port": 443}},
		{Kind: telemetry.KindLLMRequest, Actor: "agent", Attrs: map[string]any{"model": "gpt-x", "input_tokens": 120, "output_tokens": 30, "status": 200}},
		{Kind: telemetry.KindFileChanged, Actor: "agent", Attrs: map[string]any{"path": "README.md", "op": "modified", "added": 1, "removed": 1}},
		{Kind: telemetry.KindGitCommitted, Actor: "agentgate", Attrs: map[string]any{"commit": "2222222222222222222222222222222222222222"}},
		{Kind: telemetry.KindGitPushed, Actor: "agentgate", Attrs: map[string]any{"commit": "2222222222222222222222222222222222222222", "branch": "agentgate/7-fix"}},
		{Kind: telemetry.KindPROpened, Actor: "agentgate", Attrs: map[string]any{"number": "12"}},
		{Kind: telemetry.KindRunFinished, Actor: "agentgate", Attrs: map[string]any{"outcome": "succeeded"}},
	} {
		ev.RunID = "run-1"
		if _, err := db.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// sign makes the run's record as the worker does.
func sign(t *testing.T, db *store.DB, key ed25519.PrivateKey) (*provenance.Predicate, []byte) {
	t.Helper()
	ctx := context.Background()
	env, err := provenance.SignRun(ctx, db, "run-1", key)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := db.Events(ctx, "run-1")
	p := provenance.FromEvents(events)
	body, _ := base64.StdEncoding.DecodeString(env.Payload)
	return &p, body
}

func TestStatementNamesTheRun(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	db := runEvents(t)
	p, body := sign(t, db, key)
	d, r := p.BuildDefinition, p.RunDetails
	checks := map[string]bool{
		"delivery":    d.ExternalParameters.Trigger.DeliveryID == "dlv-1" && d.ExternalParameters.Trigger.CommentID == "99",
		"requester":   d.ExternalParameters.Requester == provenance.Requester{Login: "alice", Permission: "admin", Required: "write"},
		"base commit": len(d.ResolvedDependencies) == 2 && d.ResolvedDependencies[0].Digest["gitCommit"] == "1111111111111111111111111111111111111111",
		"image":       len(d.ResolvedDependencies) == 2 && d.ResolvedDependencies[1].Digest["sha256"] == "abcd",
		"policy":      d.InternalParameters.PolicySHA256 == "feed",
		"version":     d.InternalParameters.AgentVersion == "codex-cli 0.150.0" && d.InternalParameters.AgentVersionChecked == "0.146.1",
		"egress":      r.Counts.EgressAllowed == 1 && r.Counts.EgressDenied == 2,
		"tools":       r.Counts.ToolCommands == 2 && r.Counts.ToolFailed == 1,
		"tokens":      r.Usage.InputTokens == 120 && r.Usage.OutputTokens == 30 && r.Counts.LLMRequests == 1,
		"head commit": r.Result.HeadCommit == "2222222222222222222222222222222222222222" && r.Result.Branch == "agentgate/7-fix" && r.Result.PullRequest == "12",
		"outcome":     r.Outcome == "succeeded" && r.Metadata.Events == 15,
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("predicate: %s wrong: %+v", what, p)
		}
	}
	for _, want := range []string{`"_type":"https://in-toto.io/Statement/v1"`, `"predicateType":"` + provenance.PredicateType, `"gitCommit":"2222222222222222222222222222222222222222"`, `"name":"agentgate-run:run-1"`} {
		if !strings.Contains(strings.ReplaceAll(string(body), " ", ""), want) {
			t.Errorf("statement lacks %s: %s", want, body)
		}
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	tests := []struct {
		name    string
		tamper  func(t *testing.T, db *store.DB, env map[string]string)
		wantErr string
	}{
		{"untouched", func(*testing.T, *store.DB, map[string]string) {}, ""},
		{"later events (merge) do not matter", func(t *testing.T, db *store.DB, _ map[string]string) {
			if _, err := db.Append(ctx, telemetry.Event{RunID: "run-1", Kind: "pr.merged", Actor: "carol"}); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"payload edited", func(t *testing.T, _ *store.DB, env map[string]string) {
			b, _ := base64.StdEncoding.DecodeString(env["payload"])
			env["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(b), "alice", "mallo", 1)))
		}, "signature"},
		{"signed by another key", func(t *testing.T, _ *store.DB, env map[string]string) {
			b, _ := base64.StdEncoding.DecodeString(env["payload"])
			env["sig"] = base64.StdEncoding.EncodeToString(ed25519.Sign(other, dsse.PAE(provenance.PayloadType, b)))
		}, "signature"},
		{"event edited after signing", func(t *testing.T, db *store.DB, _ map[string]string) {
			if _, err := db.SQL.Exec(`UPDATE events SET attrs = '{"input_tokens":1,"model":"gpt-x","output_tokens":1,"status":200}' WHERE run_id = 'run-1' AND seq = 10`); err != nil {
				t.Fatal(err)
			}
		}, "does not match the run's events"},
		{"event edited and rehashed", func(t *testing.T, db *store.DB, _ map[string]string) {
			if _, err := db.SQL.Exec(`UPDATE events SET hash = 'beef' WHERE run_id = 'run-1' AND seq = 15`); err != nil {
				t.Fatal(err)
			}
		}, "chain hash"},
		{"events truncated", func(t *testing.T, db *store.DB, _ map[string]string) {
			if _, err := db.SQL.Exec(`DELETE FROM events WHERE run_id = 'run-1' AND seq >= 14`); err != nil {
				t.Fatal(err)
			}
		}, "the store has 13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := runEvents(t)
			env, err := provenance.SignRun(ctx, db, "run-1", key)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{"payload": env.Payload, "sig": env.Signatures[0].Sig}
			tt.tamper(t, db, m)
			env.Payload, env.Signatures[0].Sig = m["payload"], m["sig"]
			events, _ := db.Events(ctx, "run-1")
			_, err = provenance.Check(ctx, env, pub, events, func(seq int64) (string, error) { return db.EventHash(ctx, "run-1", seq) })
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want OK: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("want error with %q, got %v", tt.wantErr, err)
			}
		})
	}
}
