package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentgate/agentgate/webhook"
)

// TestServeSIGHUPReloadsSecrets runs `agentgate serve --role intake` and
// rotates its webhook secret file: SIGHUP makes it verify with the new
// secret, keeps the old one while webhook-secret-previous-file holds it,
// and does not end the process (it used to exit 129 without draining);
// SIGTERM still drains and exits 0.
func TestServeSIGHUPReloadsSecrets(t *testing.T) {
	bin := crashBinary(t)
	dir := t.TempDir()
	cur, prev := filepath.Join(dir, "webhook-secret"), filepath.Join(dir, "webhook-secret-previous")
	write := func(path, v string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oldSecret, newSecret := []byte("old-webhook-secret-1"), []byte("new-webhook-secret-2")
	write(cur, string(oldSecret))
	write(prev, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(bin, "serve", "--role", "intake", "--listen", addr,
		"--webhook-secret-file", cur, "--webhook-secret-previous-file", prev, "--secrets-reload-interval", "off")
	cmd.Env = append(os.Environ(), "AGENTGATE_CONFIG=", "AGENTGATE_DATABASE_URL="+filepath.Join(dir, "agentgate.db"),
		"AGENTGATE_DATA_DIR="+filepath.Join(dir, "data"), "AGENTGATE_ADMIN_LISTEN=", "AGENTGATE_METRICS_LISTEN=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	ping := func(secret []byte) int {
		body := []byte(`{"zen":"hi"}`)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-GitHub-Delivery", uuid.NewString())
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	wait := func(what string, secret []byte, want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for ping(secret) != want {
			select {
			case err := <-done:
				done <- err // for the cleanup
				t.Fatalf("%s: serve exited (%v):\n%s", what, err, logs.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never answered %d:\n%s", what, want, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("old secret at start", oldSecret, http.StatusOK)
	if got := ping(newSecret); got != http.StatusUnauthorized {
		t.Fatalf("new secret before SIGHUP: %d, want 401", got)
	}
	write(cur, string(newSecret))
	write(prev, string(oldSecret))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	wait("new secret after SIGHUP", newSecret, http.StatusOK)
	wait("old secret in the window", oldSecret, http.StatusOK)
	write(prev, "")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	wait("old secret after the window", oldSecret, http.StatusUnauthorized)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not drain after SIGTERM:\n%s", logs.String())
	}
}
