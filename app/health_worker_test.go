package app

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/dockertest"
)

// TestWorkerHealthAndReadiness starts a worker-role server against the
// local Docker engine: /readyz names each check ok (database, engine,
// queue, images); with an image gone it answers 503 naming the image,
// while /healthz (liveness) stays 200.
func TestWorkerHealthAndReadiness(t *testing.T) {
	dockertest.Client(t)
	dockertest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Role = RoleWorker
	cfg.AppID = 99
	cfg.PrivateKey = []byte(testKey)
	cfg.WebhookSecret = []byte("worker-secret-0123")
	cfg.GitHubAPIURL = "http://127.0.0.1:1/" // nothing listens: the clock check only warns
	cfg.AgentPreset = "builtin"
	cfg.AgentImage = ""
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.DatabaseURL = filepath.Join(dir, "agentgate.db")
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.WorkerID = "readyz-test-" + strings.ReplaceAll(t.Name(), "/", "-")
	srv, err := NewServer(ctx, cfg, NewLogger(Config{}, io.Discard))
	if err != nil {
		t.Skipf("worker needs the local images (agentgate images): %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
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
	code, body := get("/readyz")
	for _, want := range []string{"ready", "ok database", "ok docker engine", "ok queue", "ok images"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/readyz = %d %q, want 200 with %q", code, body, want)
		}
	}
	srv.cfg.Network.RelayImage = "agentgate/not-on-this-engine:none"
	code, body = get("/readyz")
	if code != 503 || !strings.Contains(body, "FAIL images") || !strings.Contains(body, "agentgate/not-on-this-engine:none") {
		t.Errorf("image gone: /readyz = %d %q, want 503 naming it", code, body)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d %q", code, body)
	}
}
