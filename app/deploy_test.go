package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/agentgate/agentgate/runner/agents"
)

// TestDrainCoversLongestJob: a worker's drain outlasts the longest job
// (setup, agent, verify: 2×timeout+20m) and the clean-up after it, the
// grace period an orchestrator must give outlasts the drain, and an
// intake's drain is short but includes the shutdown delay.
func TestDrainCoversLongestJob(t *testing.T) {
	for _, timeout := range []time.Duration{2 * time.Minute, 30 * time.Minute, 2 * time.Hour} {
		for _, role := range []string{RoleAll, RoleWorker, RoleIntake} {
			c := DefaultConfig()
			c.Role = role
			c.Limits.Timeout = timeout
			c.Deploy.ShutdownDelay = 15 * time.Second
			w := &Worker{Config: c}
			drain := c.DrainTimeout()
			if c.works() && drain < w.Timeout(nil)+time.Minute {
				t.Errorf("%s, timeout %s: drain %s does not cover the job timeout %s and its clean-up", role, timeout, drain, w.Timeout(nil))
			}
			if want := 2*timeout + 20*time.Minute; c.works() && w.Timeout(nil) < want {
				t.Errorf("%s: job timeout %s is shorter than setup+agent+verify %s", role, w.Timeout(nil), want)
			}
			if !c.works() && drain > 5*time.Minute {
				t.Errorf("intake drain %s: intake holds no jobs", drain)
			}
			if c.intake() && drain < c.Deploy.ShutdownDelay+time.Second {
				t.Errorf("%s: drain %s does not include the shutdown delay", role, drain)
			}
			if g := c.ShutdownGrace(); g < drain+cancelWindow {
				t.Errorf("%s: grace %s leaves no time to cancel after the drain %s", role, g, drain)
			}
		}
	}
	c := DefaultConfig()
	c.Deploy.DrainTimeout = 3 * time.Second
	if c.DrainTimeout() != 3*time.Second {
		t.Errorf("drain-timeout override: %s", c.DrainTimeout())
	}
}

func TestDeploySettings(t *testing.T) {
	digest := "registry.example/agent@sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; none = valid
	}{
		{"defaults", nil, nil},
		{"durations", map[string]string{"AGENTGATE_SHUTDOWN_DELAY": "15s", "AGENTGATE_DRAIN_TIMEOUT": "10m", "AGENTGATE_REDELIVER_INTERVAL": "5m", "AGENTGATE_REDELIVER_WINDOW": "6h"}, nil},
		{"redelivery off", map[string]string{"AGENTGATE_REDELIVER_INTERVAL": "0"}, nil},
		{"window past GitHub's retention", map[string]string{"AGENTGATE_REDELIVER_WINDOW": "96h"}, []string{"redeliver-window", "72h"}},
		{"window shorter than the interval", map[string]string{"AGENTGATE_REDELIVER_INTERVAL": "1h", "AGENTGATE_REDELIVER_WINDOW": "30m"}, []string{"redeliver-window", "missed"}},
		{"pull by digest", map[string]string{"AGENTGATE_PULL_IMAGES": "true", "AGENTGATE_AGENT_IMAGE": digest, "AGENTGATE_RELAY_IMAGE": digest}, nil},
		{"pull by tag refused", map[string]string{"AGENTGATE_PULL_IMAGES": "true", "AGENTGATE_AGENT_IMAGE": "registry.example/agent:latest", "AGENTGATE_RELAY_IMAGE": digest}, []string{"agent-image", "digest"}},
		{"pull: a relay tag refused", map[string]string{"AGENTGATE_PULL_IMAGES": "true", "AGENTGATE_AGENT_IMAGE": digest}, []string{"relay-image", "agentgate/relay:dev"}},
		{"pull: intake pulls nothing", map[string]string{"AGENTGATE_PULL_IMAGES": "true", "AGENTGATE_ROLE": "intake"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{"AGENTGATE_APP_ID": "1", "AGENTGATE_PRIVATE_KEY": testKey, "AGENTGATE_WEBHOOK_SECRET": "x"}
			for k, v := range tt.env {
				m[k] = v
			}
			cfg, _, err := LoadConfig("serve", nil, env(m), nil)
			if err == nil {
				err = cfg.ValidateServe()
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			checkMentions(t, err, tt.want)
		})
	}
	for _, bad := range []string{"AGENTGATE_SHUTDOWN_DELAY=-1s", "AGENTGATE_REDELIVER_INTERVAL=10s", "AGENTGATE_PULL_IMAGES=maybe", "AGENTGATE_DRAIN_TIMEOUT=soon"} {
		k, v, _ := strings.Cut(bad, "=")
		if _, _, err := LoadConfig("serve", nil, env(map[string]string{k: v}), nil); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestStartupWarnings: the agent's model API key missing is a start-up
// warning (every run would fail); with the key, none.
func TestStartupWarnings(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of a warning; "" = none
	}{
		{"builtin image, no key", func(c *Config) { c.AgentImage = agents.ImageBuiltin }, "openai-key"},
		{"builtin image, key", func(c *Config) { c.AgentImage = agents.ImageBuiltin; c.Network.OpenAIKey = "sk-x" }, ""},
		{"builtin preset, no key", func(c *Config) { c.AgentPreset = agents.NameBuiltin }, "openai-key"},
		{"claude-code, only an OpenAI key", func(c *Config) { c.AgentPreset = agents.NameClaudeCode; c.Network.OpenAIKey = "sk-x" }, "anthropic-key"},
		{"claude-code, key", func(c *Config) { c.AgentPreset = agents.NameClaudeCode; c.Network.AnthropicKey = "sk-ant" }, ""},
		{"codex, no network", func(c *Config) {
			c.AgentPreset = agents.NameCodex
			c.Network.OpenAIKey = "sk-x"
			c.Network.Mode = "none"
		}, "network is none"},
		{"a custom image: cannot tell", func(c *Config) { c.AgentImage = "example/agent:1" }, ""},
		{"intake needs no key", func(c *Config) { c.Role = RoleIntake; c.AgentImage = agents.ImageBuiltin }, ""},
		{"sign-in without the operator listener", func(c *Config) { c.OAuthClientID = "Iv1.x" }, "admin-listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			got := strings.Join(c.StartupWarnings(), "\n")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("warnings %q, want %q", got, tt.want)
			}
		})
	}
}

// fakeImages is a Docker engine holding some images; pulls add them.
type fakeImages struct {
	client.APIClient
	have   map[string]bool
	pulled []string
	fail   bool
}

func (f *fakeImages) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	if f.have[ref] {
		return image.InspectResponse{ID: "sha256:x"}, nil
	}
	return image.InspectResponse{}, errdefs.NotFound(errors.New("no such image"))
}

func (f *fakeImages) ImagePull(_ context.Context, ref string, _ image.PullOptions) (io.ReadCloser, error) {
	f.pulled = append(f.pulled, ref)
	if f.fail {
		return io.NopCloser(strings.NewReader(`{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}` + "\n")), nil
	}
	f.have[ref] = true
	return io.NopCloser(strings.NewReader(`{"status":"Downloaded newer image"}` + "\n")), nil
}

// TestEnsureImages: without pull-images a missing image fails start-up
// naming it; with it, missing images are pulled by digest; a failed pull
// still fails start-up; a missing image a repository may pick is only
// reported (and shown on /readyz).
func TestEnsureImages(t *testing.T) {
	digest := func(n string) string { return "registry.example/" + n + "@sha256:" + strings.Repeat("cd", 32) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := DefaultConfig()
	base.AgentImage, base.Network.RelayImage = digest("agent"), digest("relay")
	base.AgentImages = []string{digest("extra")}

	t.Run("not pulled", func(t *testing.T) {
		f := &fakeImages{have: map[string]bool{digest("relay"): true}}
		missing, err := ensureImages(context.Background(), f, base, log)
		if err == nil || !strings.Contains(err.Error(), "agent-image") || !strings.Contains(err.Error(), digest("agent")) || strings.Contains(err.Error(), "relay-image") {
			t.Errorf("error %v: want one naming only the agent image", err)
		}
		if len(f.pulled) != 0 {
			t.Errorf("pulled %v without pull-images", f.pulled)
		}
		if !slices.Contains(missing, "agent-images "+digest("extra")) {
			t.Errorf("missing %v lacks the repository-picked image", missing)
		}
	})
	t.Run("pulled by digest", func(t *testing.T) {
		cfg := base
		cfg.Deploy.PullImages = true
		f := &fakeImages{have: map[string]bool{digest("relay"): true}}
		missing, err := ensureImages(context.Background(), f, cfg, log)
		if err != nil || len(missing) != 0 {
			t.Fatalf("ensure: %v, missing %v", err, missing)
		}
		if want := []string{digest("agent"), digest("extra")}; !slices.Equal(f.pulled, want) {
			t.Errorf("pulled %v, want %v", f.pulled, want)
		}
	})
	t.Run("pull fails", func(t *testing.T) {
		cfg := base
		cfg.Deploy.PullImages = true
		f := &fakeImages{have: map[string]bool{}, fail: true}
		if _, err := ensureImages(context.Background(), f, cfg, log); err == nil || !strings.Contains(err.Error(), "pulling it failed") {
			t.Errorf("error %v: want the failed pull named", err)
		}
	})
	s := &Server{cfg: base}
	s.images.set([]string{"agent-images " + digest("extra")})
	s.warnings = base.StartupWarnings()
	if d := s.ReadyDetail(); !strings.Contains(d, "image missing: agent-images "+digest("extra")) {
		t.Errorf("readiness detail %q does not name the missing image", d)
	}
}

// startIntakeWith starts an intake-only server on loopback (no Docker
// engine), with edit applied to its configuration.
func startIntakeWith(ctx context.Context, t *testing.T, edit func(*Config)) (*Server, Config) {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Role = RoleIntake
	cfg.WebhookSecret = []byte("intake-secret-0123")
	cfg.Listen = "127.0.0.1:0"
	cfg.DatabaseURL = filepath.Join(dir, "agentgate.db")
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.DockerHost = "unix://" + filepath.Join(dir, "no-docker.sock")
	edit(&cfg)
	srv, err := NewServer(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("intake-only NewServer: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

// signedDelivery posts an issue_comment trigger to intake.
func signedDelivery(ctx context.Context, t *testing.T, addr string, secret []byte, id string) (int, error) {
	t.Helper()
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
	body, _ := json.Marshal(m)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issue_comment")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// TestShutdownDelayKeepsServing: on shutdown, /readyz fails at once but
// intake keeps taking webhooks for shutdown-delay (load balancers see the
// failing readiness first); only then does the listener close. Without
// the delay the listener closes at once (the old behaviour: a delivery
// sent in that window is lost, GitHub does not retry).
func TestShutdownDelayKeepsServing(t *testing.T) {
	for _, delay := range []time.Duration{0, 1500 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			srv, cfg := startIntakeWith(ctx, t, func(c *Config) { c.Deploy.ShutdownDelay = delay })
			addr := srv.Addr()
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- srv.Shutdown(context.Background()) }()
			time.Sleep(300 * time.Millisecond)
			ready, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				_ = ready.Body.Close()
			}
			code, derr := signedDelivery(ctx, t, addr, cfg.WebhookSecret, "during-delay")
			if delay > 0 {
				if err != nil || ready.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("/readyz during the delay: %v %v, want 503", ready, err)
				}
				if derr != nil || code != http.StatusAccepted {
					t.Errorf("delivery during the delay: %d %v, want 202", code, derr)
				}
			} else if derr == nil {
				t.Errorf("without a delay the listener still took a delivery (%d)", code)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < delay {
				t.Errorf("shutdown took %s, less than the delay %s", took, delay)
			}
			if _, err := http.Get("http://" + addr + "/readyz"); err == nil {
				t.Error("listener still open after shutdown")
			}
		})
	}
}

// TestStartupWarningOnReadyz: a configuration problem that does not stop
// start-up is logged once and shown on /readyz (which stays 200: the
// problem is the operator's to fix, not a reason to take intake out).
func TestStartupWarningOnReadyz(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The server logs to the default logger (startIntakeWith passes none).
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)
	srv, _ := startIntakeWith(ctx, t, func(c *Config) { c.OAuthClientID = "Iv1.from-setup"; c.OAuthClientSecret = "s" })
	defer func() { _ = srv.Shutdown(context.Background()) }()
	resp, err := http.Get("http://" + srv.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "warning: setting oauth-client-id is set but admin-listen is not") {
		t.Errorf("/readyz %d %q: want 200 with the warning", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "admin-listen is not") {
		t.Errorf("start-up log lacks the warning:\n%s", logs.String())
	}
}
