package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startIntakeOnly starts an intake-only server on loopback, with no
// Docker engine and no GitHub App key, and the metrics listener on
// metricsListen ("" = none).
func startIntakeOnly(ctx context.Context, t *testing.T, metricsListen string) (*Server, Config) {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Role = RoleIntake
	cfg.WebhookSecret = []byte("intake-secret-0123")
	cfg.Listen = "127.0.0.1:0"
	cfg.AdminListen = "127.0.0.1:0"
	cfg.MetricsListen = metricsListen
	cfg.DatabaseURL = filepath.Join(dir, "agentgate.db")
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.DockerHost = "unix://" + filepath.Join(dir, "no-docker.sock")
	srv, err := NewServer(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("intake-only NewServer: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv, cfg
}

// TestMetricsNotBesideRunPages: /metrics, unauthenticated, is served only
// on the metrics listener, never on the operator listener that serves run
// pages to people (nor on the webhook listener); the metrics listener
// serves nothing else.
func TestMetricsNotBesideRunPages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, _ := startIntakeOnly(ctx, t, "127.0.0.1:0")
	get := func(addr, path string) (int, string) {
		t.Helper()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const exposition = "# TYPE agentgate_"
	tests := []struct {
		name, addr, path string
		metrics          bool // answers 200 with the exposition
	}{
		{name: "metrics listener", addr: srv.MetricsAddr(), path: "/metrics", metrics: true}, // positive control
		{name: "operator listener", addr: srv.AdminAddr(), path: "/metrics"},
		{name: "webhook listener", addr: srv.Addr(), path: "/metrics"},
		{name: "no run pages on the metrics listener", addr: srv.MetricsAddr(), path: "/runs"},
		{name: "no admin on the metrics listener", addr: srv.MetricsAddr(), path: "/admin/paused"},
	}
	for _, tt := range tests {
		code, body := get(tt.addr, tt.path)
		served := code == http.StatusOK && strings.Contains(body, exposition)
		if served != tt.metrics {
			t.Errorf("%s: GET %s = %d, metrics served %v, want %v", tt.name, tt.path, code, served, tt.metrics)
		}
		if !tt.metrics && code == http.StatusOK {
			t.Errorf("%s: GET %s = 200, want a refusal", tt.name, tt.path)
		}
	}
}

// TestIntakeRoleNeedsNoDocker starts an intake-only server with no Docker
// engine and no GitHub App key: it takes a signed trigger and commits the
// job to the queue, and nothing works it.
func TestIntakeRoleNeedsNoDocker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, cfg := startIntakeOnly(ctx, t, "")
	if srv.Addr() == "" || srv.AdminAddr() == "" {
		t.Fatalf("listeners: webhook %q admin %q", srv.Addr(), srv.AdminAddr())
	}

	raw, err := os.ReadFile("../webhook/testdata/issue_comment.created.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["comment"].(map[string]any)["body"] = "@agentgate fix the spelling"
	m["installation"] = map[string]any{"id": 1}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, cfg.WebhookSecret)
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+srv.Addr()+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", "intake-only-1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("intake answered %d, want 202", resp.StatusCode)
	}
	time.Sleep(500 * time.Millisecond) // a worker would have fetched it by now
	var state string
	if err := srv.DB().SQL.QueryRowContext(ctx, `SELECT state FROM river_job WHERE kind = 'agentgate.run'`).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "available" {
		t.Fatalf("job state %q, want available (intake works no jobs)", state)
	}
}

// TestIntakeHealthMetricsNoAuditKey: the metrics listener serves /healthz
// and /readyz (naming each check) and /metrics with the Go runtime,
// process and build-info metrics; intake never creates the audit key,
// which only workers use.
func TestIntakeHealthMetricsNoAuditKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, cfg := startIntakeOnly(ctx, t, "127.0.0.1:0")
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + srv.MetricsAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, "ok database") {
		t.Errorf("/readyz = %d %q", code, body)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{"go_goroutines ", "process_resident_memory_bytes ", "agentgate_build_info{"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if _, err := os.Stat(cfg.AuditKeyPath()); !os.IsNotExist(err) {
		t.Errorf("intake created the audit key %s (%v)", cfg.AuditKeyPath(), err)
	}
}
