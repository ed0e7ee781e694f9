package app

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/runner/egress"
	"github.com/agentgate/agentgate/sandbox"
)

// setupSecretName is what a setup secret may be called: an environment
// variable name, as the schema's setup.secrets allows.
var setupSecretName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)

// maxSetupSecret bounds one setup secret's value.
const maxSetupSecret = 64 << 10

// loadSetupSecrets resolves the setup-secrets setting: NAME=/path reads
// the file (trailing newlines trimmed), NAME alone reads
// AGENTGATE_SETUP_SECRET_<NAME>; each is followed by
// ;installations=ID+ID (or ;installations=*), the installations whose
// repositories may name it. Errors name the setting and the secret, never
// its value.
func (c *Config) loadSetupSecrets(getenv func(string) string) error {
	if len(c.setupSecretSpecs) == 0 {
		return nil
	}
	c.SetupSecrets = map[string]string{}
	c.SetupSecretBindings = map[string]Binding{}
	for _, spec := range c.setupSecretSpecs {
		spec, b, bound, err := parseBound(spec)
		if err != nil {
			return fmt.Errorf("setting setup-secrets: %w", err)
		}
		name, file, isFile := strings.Cut(spec, "=")
		if !setupSecretName.MatchString(name) {
			return fmt.Errorf("setting setup-secrets: %q is not NAME or NAME=/path (NAME in capitals, digits and _)", name)
		}
		if _, dup := c.SetupSecrets[name]; dup {
			return fmt.Errorf("setting setup-secrets: %s is given twice", name)
		}
		if !bound {
			return fmt.Errorf("setting setup-secrets: %s is bound to no installation: add ;installations=ID+ID (or ;installations=* for every installation)", name)
		}
		var v string
		if isFile {
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("setting setup-secrets: %s: %w", name, err)
			}
			v = strings.TrimRight(string(b), "\r\n")
		} else {
			v = getenv("AGENTGATE_SETUP_SECRET_" + name)
			if v == "" {
				return fmt.Errorf("setting setup-secrets: %s: AGENTGATE_SETUP_SECRET_%s is not set", name, name)
			}
		}
		if v == "" || len(v) > maxSetupSecret || strings.ContainsRune(v, 0) {
			return fmt.Errorf("setting setup-secrets: %s: empty, longer than %d bytes or holds a NUL byte", name, maxSetupSecret)
		}
		c.SetupSecrets[name] = v
		c.SetupSecretBindings[name] = b
	}
	return nil
}

// allowedImages are the images tenant tn may run (agent.image, a preset's
// image, verify.image): the operator's agent image, and the agent-images
// bound to tn or to none (the presets' default images when the operator
// lists none).
func (c Config) allowedImages(tn Tenant) []string {
	var out []string
	for _, img := range c.AgentImages {
		if openTo(c.AgentImageBindings, img, tn) {
			out = append(out, img)
		}
	}
	if c.AgentImage != "" {
		out = append(out, c.AgentImage)
	}
	if len(c.AgentImages) == 0 {
		out = append(out, agents.ImageBuiltin, agents.ImageCodex, agents.ImageClaudeCode, agents.ImageAider)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// agentChosen reports whether the org's or the repository's file picks
// the agent (preset, image or command); otherwise the operator's stands.
func agentChosen(cs ...*policy.Config) bool {
	for _, c := range cs {
		if c != nil && c.Agent != nil && (c.Agent.Preset != "" || c.Agent.Image != "" || c.Agent.Command != nil) {
			return true
		}
	}
	return false
}

// checkChoices checks what the configuration picks against what the
// operator allows tenant tn: the agent's image, the verify
// image, and the setup secrets. A problem is a *policy.ConfigError
// located where the file (the repository's, or the org's when it made the
// choice) wrote the setting. A secret or image bound to other
// installations is refused as if it did not exist.
func (c Config) checkChoices(org, repo *policy.Config, eff policy.EffectiveConfig, tn Tenant) error {
	who := func(set func(*policy.Config) bool) *policy.Config {
		if repo != nil && set(repo) {
			return repo
		}
		if org != nil && set(org) {
			return org
		}
		return nil
	}
	if agentChosen(org, repo) {
		p, err := c.repoPreset(eff.Agent, nil)
		if err != nil {
			f := who(func(x *policy.Config) bool { return x.Agent != nil && x.Agent.Preset != "" })
			if f == nil {
				f = who(func(x *policy.Config) bool { return x.Agent != nil })
			}
			return f.ErrorAt("agent/preset", err.Error())
		}
		if allowed := c.allowedImages(tn); !slices.Contains(allowed, p.Image) {
			f := who(func(x *policy.Config) bool { return x.Agent != nil && x.Agent.Image != "" })
			path := "agent/image"
			if f == nil {
				f, path = who(func(x *policy.Config) bool { return x.Agent != nil && x.Agent.Preset != "" }), "agent/preset"
			}
			if f == nil {
				f, path = who(func(x *policy.Config) bool { return x.Agent != nil }), "agent"
			}
			return f.ErrorAt(path, fmt.Sprintf("image %q is not one this agentgate runs (allowed: %s)", p.Image, strings.Join(allowed, ", ")))
		}
	}
	if img := eff.Verify.Image; img != "" {
		if allowed := c.allowedImages(tn); !slices.Contains(allowed, img) {
			f := who(func(x *policy.Config) bool { return x.Verify != nil && x.Verify.Image != "" })
			return f.ErrorAt("verify/image", fmt.Sprintf("image %q is not one this agentgate runs (allowed: %s)", img, strings.Join(allowed, ", ")))
		}
	}
	if f := who(func(x *policy.Config) bool { return x.Setup != nil && x.Setup.Secrets != nil }); f != nil {
		for i, name := range f.Setup.Secrets {
			if !c.secretAllowed(name, tn) {
				return f.ErrorAt("setup/secrets/"+strconv.Itoa(i), fmt.Sprintf("%s is not a setup secret this agentgate provides to this installation", name))
			}
		}
	}
	return nil
}

// repoPreset resolves the agent the configuration picked, with the
// operator's model and the gateway's environment.
func (c Config) repoPreset(a policy.EffectiveAgent, gatewayEnv []string) (agents.Preset, error) {
	opts := agents.Options{Model: c.AgentModel, GatewayEnv: gatewayEnv, Image: a.Image}
	if a.Preset == agents.NameCustom {
		opts.Cmd = a.Command
	} else if len(a.Command) > 0 {
		return agents.Preset{}, fmt.Errorf("agent.command is only for the %q preset", agents.NameCustom)
	}
	return agents.Lookup(a.Preset, opts)
}

// applyChoices sets the run policy's agent and setup phase from the
// configuration.
func (c Config) applyChoices(p *sandbox.RunPolicy, rc *repoConfig) {
	if rc.AgentChosen {
		a := rc.Effective.Agent
		p.Agent = func(gatewayEnv []string) (agents.Preset, error) { return c.repoPreset(a, gatewayEnv) }
		p.AgentPick = &a
	}
	s := rc.Effective.Setup
	if len(s.Command) == 0 {
		return
	}
	plan := &sandbox.SetupPlan{Command: slices.Clone(s.Command), Timeout: s.Timeout, Inputs: slices.Clone(s.Inputs), OnUntrusted: s.OnUntrusted}
	if plan.Timeout <= 0 || plan.Timeout > p.Limits.Timeout {
		plan.Timeout = p.Limits.Timeout
	}
	// The operator's ceiling: its agent allowlist and its setup additions.
	ceiling := slices.Concat(c.Network.Allow, c.SetupAllow)
	allow := s.Allow
	if allow == nil {
		allow = []string{}
	}
	plan.Allow = egress.Policy{Allow: ceiling}.Narrow(egress.Policy{Allow: allow}).Allow
	if plan.Allow == nil {
		plan.Allow = []string{}
	}
	for _, name := range s.Secrets {
		if v, ok := c.SetupSecrets[name]; ok && c.secretAllowed(name, rc.Tenant) { // checkChoices refused the others
			plan.Secrets = append(plan.Secrets, name+"="+v)
			plan.SecretNames = append(plan.SecretNames, name)
		}
	}
	p.Setup = plan
}
