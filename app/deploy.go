package app

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agentgate/agentgate/runner/agents"
)

// DeployConfig is what an operator tunes for deploys: how long a stopping
// process drains, how long intake keeps serving after its readiness
// fails, scheduled redelivery of failed webhook deliveries, and pulling
// agent images by digest.
type DeployConfig struct {
	// ShutdownDelay is how long intake keeps serving webhooks after its
	// readiness starts failing on SIGTERM, so load balancers stop sending
	// before the listener closes.
	ShutdownDelay time.Duration
	// DrainTimeout overrides the drain deadline of a stopping process; 0
	// = Config.DrainTimeout's default, long enough for the longest job.
	DrainTimeout time.Duration
	// RedeliverInterval is how often a worker asks GitHub to redeliver
	// the webhook deliveries that failed; 0 = never.
	RedeliverInterval time.Duration
	// RedeliverWindow is how far back each pass looks.
	RedeliverWindow time.Duration
	// PullImages pulls missing agent and relay images at start-up; every
	// such image must then be pinned by digest (name@sha256:…).
	PullImages bool
}

// Drain margins: what a job needs after its own deadline to stop its
// containers and remove its run directory, and what Shutdown needs after
// the drain deadline (cancelling jobs still running, flushing telemetry).
const (
	drainMargin  = 2 * time.Minute
	cancelWindow = 30 * time.Second
	flushWindow  = 30 * time.Second
	// intakeDrain is how long in-flight webhook requests may take to
	// finish (the listener's read timeout plus the commit).
	intakeDrain = time.Minute
)

// Redelivery defaults and bounds.
const (
	defaultRedeliverInterval = 10 * time.Minute
	defaultRedeliverWindow   = 2 * time.Hour
	maxRedeliverWindow       = 72 * time.Hour // GitHub keeps three days of deliveries
)

// JobTimeout is the longest a run job may last: a setup phase and the
// agent may each take the run timeout, plus clone, verify, push and
// review. River cancels the job's context after it.
func (c Config) JobTimeout() time.Duration {
	return 2*c.Limits.Timeout + 20*time.Minute
}

// DrainTimeout is how long a process drains on SIGTERM before it cancels
// the jobs still running: the shutdown delay, then (for a worker) the
// longest job and the clean-up after its deadline, so a deploy never
// kills a run that could still finish. drain-timeout overrides it.
func (c Config) DrainTimeout() time.Duration {
	if c.Deploy.DrainTimeout > 0 {
		return c.Deploy.DrainTimeout
	}
	d := intakeDrain
	if c.works() {
		d = c.JobTimeout() + drainMargin
	}
	if c.intake() {
		d += c.Deploy.ShutdownDelay
	}
	return d
}

// ShutdownGrace is the least time an orchestrator must give the process
// between SIGTERM and SIGKILL (Kubernetes terminationGracePeriodSeconds
// minus any preStop hook, compose stop_grace_period): the drain, then
// cancelling what is still running and flushing telemetry.
func (c Config) ShutdownGrace() time.Duration {
	return c.DrainTimeout() + cancelWindow + flushWindow
}

// NeededLLMKey names the setting holding the model API key the configured
// agent needs ("openai-key" or "anthropic-key"), or "" when agentgate
// cannot tell (a custom image) or the agent needs none.
func (c Config) NeededLLMKey() string {
	name := c.AgentPreset
	if name == "" {
		// No preset: the agent image decides.
		switch c.AgentImage {
		case agents.ImageBuiltin:
			name = agents.NameBuiltin
		case agents.ImageCodex:
			name = agents.NameCodex
		case agents.ImageClaudeCode:
			name = agents.NameClaudeCode
		case agents.ImageAider:
			name = agents.NameAider
		}
	}
	switch name {
	case agents.NameBuiltin, agents.NameCodex, agents.NameAider:
		return "openai-key"
	case agents.NameClaudeCode:
		return "anthropic-key"
	}
	return ""
}

// StartupWarnings are the configuration problems that do not stop
// agentgate from starting but will make runs fail or a feature unused. A
// server logs each at start-up and shows them on /readyz.
func (c Config) StartupWarnings() []string {
	var out []string
	if c.works() {
		key := c.NeededLLMKey()
		have := map[string]bool{
			"openai-key":    c.Network.OpenAIURL != "" && c.Network.OpenAIKey != "",
			"anthropic-key": c.Network.AnthropicURL != "" && c.Network.AnthropicKey != "",
		}
		switch {
		case key != "" && c.Network.Mode == "none":
			out = append(out, fmt.Sprintf("setting network is none: the agent (%s) cannot reach its model API through the gateway, so every run will fail", c.agentName()))
		case key != "" && !have[key]:
			out = append(out, fmt.Sprintf("setting %s (AGENTGATE_%s or %s-file) is not set: the agent (%s) needs it, so every run will fail", key,
				strings.ToUpper(strings.ReplaceAll(key, "-", "_")), key, c.agentName()))
		}
	}
	if c.OAuthClientID != "" && c.AdminListen == "" {
		out = append(out, "setting oauth-client-id is set but admin-listen is not: sign-in with GitHub (run pages) is off until admin-listen is set")
	}
	return out
}

// agentName is the configured agent, for messages.
func (c Config) agentName() string {
	if c.AgentPreset != "" {
		return "preset " + c.AgentPreset
	}
	return "image " + c.AgentImage
}

// deploySettings are the deploy settings (appended to settings()).
func deploySettings() []setting {
	dur := func(p func(*Config) *time.Duration, min time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || (d > 0 && d < min) {
				return fmt.Errorf("not a duration of at least %s (or 0): %q", min, v)
			}
			*p(c) = d
			return nil
		}
	}
	return []setting{
		{key: "shutdown-delay", help: "on SIGTERM, how long intake keeps serving webhooks after /readyz starts failing, so load balancers stop sending first (e.g. 15s)",
			apply: dur(func(c *Config) *time.Duration { return &c.Deploy.ShutdownDelay }, 0)},
		{key: "drain-timeout", help: "on SIGTERM, how long running jobs may finish before they are cancelled and handed back to the queue (default: the longest a job may last, 2×timeout+22m)",
			apply: dur(func(c *Config) *time.Duration { return &c.Deploy.DrainTimeout }, time.Second)},
		{key: "redeliver-interval", help: "how often a worker asks GitHub to redeliver the webhook deliveries that failed (0 = never)",
			apply: dur(func(c *Config) *time.Duration { return &c.Deploy.RedeliverInterval }, time.Minute)},
		{key: "redeliver-window", help: "how far back each redelivery pass looks (at most 72h, GitHub's retention)",
			apply: dur(func(c *Config) *time.Duration { return &c.Deploy.RedeliverWindow }, time.Minute)},
		{key: "pull-images", help: "pull missing agent and relay images at start-up (true/false); each must then be pinned by digest, name@sha256:…", apply: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("not a boolean: %q", v)
			}
			c.Deploy.PullImages = b
			return nil
		}},
	}
}

// validateDeploy checks the deploy settings.
func (c Config) validateDeploy() []error {
	var errs []error
	if w := c.Deploy.RedeliverWindow; w > maxRedeliverWindow {
		errs = append(errs, fmt.Errorf("setting redeliver-window (AGENTGATE_REDELIVER_WINDOW): %s is longer than GitHub keeps deliveries (72h)", w))
	}
	if c.Deploy.RedeliverInterval > 0 && c.Deploy.RedeliverWindow < c.Deploy.RedeliverInterval {
		errs = append(errs, fmt.Errorf("setting redeliver-window (AGENTGATE_REDELIVER_WINDOW): %s is shorter than redeliver-interval %s: failures between passes would be missed", c.Deploy.RedeliverWindow, c.Deploy.RedeliverInterval))
	}
	if c.Deploy.PullImages && c.works() {
		for _, img := range c.pulledImages() {
			if !pinned(img.image) {
				errs = append(errs, fmt.Errorf("setting %s: pull-images needs a digest reference (name@sha256:…), not %q: a tag can be moved to other code", img.key, img.image))
			}
		}
	}
	return errs
}

// neededImage is an image a run may need and the setting naming it.
type neededImage struct{ key, image string }

// pulledImages are the images runs need, by setting: the agent's, the
// relay's (relayed network) and those repositories may pick.
func (c Config) pulledImages() []neededImage {
	var out []neededImage
	if p, err := c.preset(nil); err == nil && p.Image != "" {
		out = append(out, neededImage{"agent-image", p.Image})
	}
	if c.Network.Mode == "relay" && c.Network.RelayImage != "" {
		out = append(out, neededImage{"relay-image", c.Network.RelayImage})
	}
	for _, img := range c.AgentImages {
		out = append(out, neededImage{"agent-images", img})
	}
	return out
}

// pinned reports whether ref names an image by content digest.
func pinned(ref string) bool {
	_, digest, ok := strings.Cut(ref, "@")
	algo, hex, ok2 := strings.Cut(digest, ":")
	return ok && ok2 && algo == "sha256" && len(hex) == 64 && strings.Trim(hex, "0123456789abcdef") == ""
}
