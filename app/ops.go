package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/agentgate/agentgate/store"
)

// OpsConfig are the settings for running agentgate for months: secret
// rotation and retention.
type OpsConfig struct {
	// WebhookSecretPrevious is accepted beside WebhookSecret during a
	// rotation window (GitHub signs with one secret; the operator changes
	// it in GitHub and here, in either order). Never logged.
	WebhookSecretPrevious []byte
	// SecretsReload is how often serve re-reads its configuration for
	// changed webhook secrets (a Kubernetes Secret updated in place); it
	// also does on SIGHUP. 0 = every minute, negative = only on SIGHUP.
	SecretsReload time.Duration
	// AuditRetention, when positive, prunes on a schedule (hourly, by the
	// worker and all roles): runs whose newest event is older than it,
	// behind a signed checkpoint (as `agentgate audit prune`), and the
	// delivery, reply and feedback records older than it.
	AuditRetention time.Duration
}

// retentionEvery is how often the retention prune runs.
const retentionEvery = time.Hour

// reloadEvery is the secrets polling period, 0 when off.
func (o OpsConfig) reloadEvery() time.Duration {
	switch {
	case o.SecretsReload < 0:
		return 0
	case o.SecretsReload == 0:
		return time.Minute
	}
	return o.SecretsReload
}

// rotationSettings are OpsConfig's settings (appended to settings()).
func rotationSettings() []setting {
	dur := func(p func(*Config) *time.Duration, offOK bool) func(*Config, string) error {
		return func(c *Config, v string) error {
			if offOK && (v == "off" || v == "0") {
				*p(c) = -1
				return nil
			}
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				return fmt.Errorf("not a positive duration: %q", v)
			}
			*p(c) = d
			return nil
		}
	}
	return []setting{
		{key: "webhook-secret-previous", help: "the webhook secret before a rotation, accepted beside webhook-secret until removed", secret: true,
			apply: func(c *Config, v string) error { c.Ops.WebhookSecretPrevious = []byte(v); return nil }},
		{key: "webhook-secret-previous-file", help: "file holding webhook-secret-previous", apply: func(c *Config, v string) error {
			b, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			c.Ops.WebhookSecretPrevious = []byte(strings.TrimRight(string(b), "\r\n"))
			return nil
		}},
		{key: "audit-retention", help: "prune runs (behind a signed checkpoint), deliveries, replies and feedback older than this, hourly (e.g. 2160h); off by default",
			apply: dur(func(c *Config) *time.Duration { return &c.Ops.AuditRetention }, true)},
		{key: "secrets-reload-interval", help: "how often serve re-reads the webhook secrets (their *_FILE files too); also on SIGHUP; off = only on SIGHUP (default 1m)",
			apply: dur(func(c *Config) *time.Duration { return &c.Ops.SecretsReload }, true)},
	}
}

// ReloadSecrets applies what of cfg changes without a restart: the webhook
// secret and the previous one that intake verifies deliveries with. Each
// new secret is registered for redaction first. It reports whether
// anything changed. Other settings in cfg are ignored: a new GitHub App
// private key or OAuth client secret takes a (rolling) restart, which
// GitHub's two keys or secrets at once make free of downtime.
func (s *Server) ReloadSecrets(cfg Config) (bool, error) {
	if len(cfg.WebhookSecret) == 0 {
		return false, fmt.Errorf("reload: setting webhook-secret: required")
	}
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	if s.secretsInForce == nil {
		s.secretsInForce = [][]byte{s.cfg.WebhookSecret, s.cfg.Ops.WebhookSecretPrevious}
	}
	if bytes.Equal(cfg.WebhookSecret, s.secretsInForce[0]) && bytes.Equal(cfg.Ops.WebhookSecretPrevious, s.secretsInForce[1]) {
		return false, nil
	}
	for _, secret := range [][]byte{cfg.WebhookSecret, cfg.Ops.WebhookSecretPrevious} {
		if len(secret) > 0 {
			s.db.AddSecret(string(secret))
		}
	}
	if s.intake != nil {
		if err := s.intake.SetSecrets(cfg.WebhookSecret, cfg.Ops.WebhookSecretPrevious); err != nil {
			return false, fmt.Errorf("reload: %w", err)
		}
	}
	s.secretsInForce = [][]byte{cfg.WebhookSecret, cfg.Ops.WebhookSecretPrevious}
	return true, nil
}

// WatchSecrets re-reads the configuration with load on every signal from
// hup (SIGHUP) and every cfg's secrets-reload-interval, and applies changed
// webhook secrets (ReloadSecrets), until ctx ends. A configuration that
// fails to load keeps the secrets in force and is logged.
func (s *Server) WatchSecrets(ctx context.Context, load func() (Config, error), hup <-chan os.Signal) {
	var tick <-chan time.Time
	if every := s.cfg.Ops.reloadEvery(); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		why := "interval"
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "SIGHUP"
		case <-tick:
		}
		cfg, err := load()
		if err == nil {
			var changed bool
			if changed, err = s.ReloadSecrets(cfg); changed {
				s.log.Info("webhook secrets reloaded", "trigger", why, "previous_secret", len(cfg.Ops.WebhookSecretPrevious) > 0)
			}
		}
		if err != nil {
			s.log.Error("reloading secrets failed; the secrets in force stay", "trigger", why, "err", err)
		}
	}
}

// Retain prunes what audit-retention no longer keeps: the runs whose newest
// event is older than it, behind a signed checkpoint (store.Prune: the
// trail still verifies), then the delivery, reply and feedback records
// older than it. Both delete in short batches, so intake is never locked
// out for long.
func (s *Server) Retain(ctx context.Context) error {
	if s.cfg.Ops.AuditRetention <= 0 {
		return nil
	}
	before := time.Now().Add(-s.cfg.Ops.AuditRetention)
	res, err := s.db.Prune(ctx, before, s.db.AuditKey())
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	counts, err := s.db.PruneRecords(ctx, before)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if len(res.Runs) > 0 || counts != (store.TableCounts{}) {
		s.log.Info("retention pruned", "before", before.UTC().Format(time.RFC3339), "runs", len(res.Runs), "events", res.Events,
			"deliveries", counts.Deliveries, "replies", counts.Replies, "feedback", counts.Feedback, "kept_changes", counts.KeptChanges)
	}
	return nil
}

// retainLoop runs Retain at start and then every retentionEvery until ctx
// ends; a failure is logged and tried again next time.
func (s *Server) retainLoop(ctx context.Context) {
	t := time.NewTicker(retentionEvery)
	defer t.Stop()
	for {
		if err := s.Retain(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("retention failed; trying again later", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
