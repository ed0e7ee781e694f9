package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// pingWith posts a ping delivery signed with secret to intake and returns
// the status.
func pingWith(t *testing.T, addr string, secret []byte) int {
	t.Helper()
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", uuid.NewString())
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestWatchSecretsRotatesWebhookSecret checks a rotation without a
// restart: the webhook secret files change, SIGHUP (or the reload timer,
// as when Kubernetes updates a mounted Secret) makes intake verify with
// the new secret and, while webhook-secret-previous is set, the old one;
// once it is removed the old secret is refused. Positive control: the
// current secret is accepted at every step.
func TestWatchSecretsRotatesWebhookSecret(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	cur, prev := filepath.Join(dir, "webhook-secret"), filepath.Join(dir, "webhook-secret-previous")
	write := func(path, v string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oldSecret, newSecret := []byte("intake-secret-0123"), []byte("rotated-secret-4567")
	write(cur, string(oldSecret))
	write(prev, "")
	srv, _ := startIntakeOnly(ctx, t, "")
	srv.cfg.Ops.SecretsReload = 20 * time.Millisecond
	load := func() (Config, error) {
		c, _, err := LoadConfig("serve", []string{"--webhook-secret-file", cur, "--webhook-secret-previous-file", prev}, func(string) string { return "" }, nil)
		return c, err
	}
	hup := make(chan os.Signal, 1)
	go srv.WatchSecrets(ctx, load, hup)
	eventually := func(what string, secret []byte, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for got := pingWith(t, srv.Addr(), secret); got != want; got = pingWith(t, srv.Addr(), secret) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d, want %d", what, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := pingWith(t, srv.Addr(), newSecret); got != http.StatusUnauthorized {
		t.Fatalf("new secret before the rotation: %d, want 401", got)
	}
	eventually("old secret before the rotation", oldSecret, http.StatusOK)

	// The operator sets the new secret, keeping the old one as previous.
	write(cur, string(newSecret))
	write(prev, string(oldSecret))
	hup <- os.Interrupt // the signal's value does not matter
	eventually("new secret after the rotation", newSecret, http.StatusOK)
	eventually("old secret in the window", oldSecret, http.StatusOK)

	// The window closes: the timer alone picks it up.
	write(prev, "")
	eventually("old secret after the window", oldSecret, http.StatusUnauthorized)
	eventually("new secret after the window", newSecret, http.StatusOK)

	// A broken configuration keeps the secrets in force.
	write(cur, "")
	time.Sleep(100 * time.Millisecond)
	if got := pingWith(t, srv.Addr(), newSecret); got != http.StatusOK {
		t.Fatalf("after an empty secret file: %d, want the secret in force (200)", got)
	}
}

// TestRetainPrunesBehindCheckpoint checks the audit-retention prune: old
// runs go behind a signed checkpoint (the trail still verifies with the
// audit key) and old delivery records go too; with the setting off
// nothing is deleted (positive control).
func TestRetainPrunesBehindCheckpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, _ := startIntakeOnly(ctx, t, "")
	db := srv.DB()
	// Intake never loads the audit key; sign as a worker would.
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuditKey(key)
	if _, err := db.Append(ctx, telemetry.Event{RunID: "run-old", Kind: telemetry.KindRunQueued, Actor: "agentgate"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO deliveries (delivery_id, event, received_at) VALUES ('d-old', 'issues', '2020-01-01T00:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		var n int
		if err := db.SQL.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := srv.Retain(ctx); err != nil { // off
		t.Fatal(err)
	}
	if count(`SELECT COUNT(*) FROM events`) != 1 || count(`SELECT COUNT(*) FROM deliveries`) != 1 {
		t.Fatal("retention off deleted something")
	}
	time.Sleep(5 * time.Millisecond)
	srv.cfg.Ops.AuditRetention = time.Millisecond
	if err := srv.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT COUNT(*) FROM events`); n != 0 {
		t.Errorf("%d events left, want the old run pruned", n)
	}
	if n := count(`SELECT COUNT(*) FROM deliveries`); n != 0 {
		t.Errorf("%d deliveries left, want the old one pruned", n)
	}
	rep, err := db.Verify(ctx, db.AuditKey().Public().(ed25519.PublicKey))
	if err != nil || !rep.OK() || rep.Pruned != 1 || rep.Checkpoints != 1 {
		t.Fatalf("after retention: %+v %v", rep, err)
	}
}
