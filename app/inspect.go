package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// loadEgressCredentials resolves the egress-credentials setting, as
// loadSetupSecrets does setup-secrets: NAME=/path reads the file, NAME
// alone reads AGENTGATE_EGRESS_CREDENTIAL_<NAME>; each must be bound to
// installations. Errors never hold a value.
func (c *Config) loadEgressCredentials(getenv func(string) string) error {
	if len(c.egressCredentialSpecs) == 0 {
		return nil
	}
	c.EgressCredentials = map[string]string{}
	c.EgressCredentialBindings = map[string]Binding{}
	for _, spec := range c.egressCredentialSpecs {
		spec, b, bound, err := parseBound(spec)
		if err != nil {
			return fmt.Errorf("setting egress-credentials: %w", err)
		}
		name, file, isFile := strings.Cut(spec, "=")
		if !setupSecretName.MatchString(name) {
			return fmt.Errorf("setting egress-credentials: %q is not NAME or NAME=/path (NAME in capitals, digits and _)", name)
		}
		if _, dup := c.EgressCredentials[name]; dup {
			return fmt.Errorf("setting egress-credentials: %s is given twice", name)
		}
		if !bound {
			return fmt.Errorf("setting egress-credentials: %s is bound to no installation: add ;installations=ID+ID (or ;installations=*)", name)
		}
		var v string
		if isFile {
			raw, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("setting egress-credentials: %s: %w", name, err)
			}
			v = strings.TrimRight(string(raw), "\r\n")
		} else if v = getenv("AGENTGATE_EGRESS_CREDENTIAL_" + name); v == "" {
			return fmt.Errorf("setting egress-credentials: %s: AGENTGATE_EGRESS_CREDENTIAL_%s is not set", name, name)
		}
		if len(v) < secretforms.MinDerived || len(v) > maxSetupSecret || strings.ContainsAny(v, "\x00\r\n") {
			return fmt.Errorf("setting egress-credentials: %s: shorter than %d bytes, longer than %d, or holds a NUL or line break",
				name, secretforms.MinDerived, maxSetupSecret)
		}
		c.EgressCredentials[name] = v
		c.EgressCredentialBindings[name] = b
	}
	return nil
}

// checkCredentials refuses a configuration that binds a credential the
// operator does not provide to this installation (the policy's merge has
// already kept repositories to the org's network.credentials).
func (c Config) checkCredentials(org, repo *policy.Config, eff policy.EffectiveConfig, tn Tenant) error {
	for _, h := range eff.Network.Hosts {
		if h.Inject == nil {
			continue
		}
		name := h.Inject.Credential
		if _, ok := c.EgressCredentials[name]; ok && c.EgressCredentialBindings[name].Allows(tn) {
			continue
		}
		f := repo
		if f == nil || f.Network == nil || !bindsCredential(f.Network.Hosts(), name) {
			f = org
		}
		if f == nil {
			return fmt.Errorf("credential %s is not one this agentgate provides to this installation", name)
		}
		return f.ErrorAt("network/allow", fmt.Sprintf("credential %s (for %s) is not one this agentgate provides to this installation", name, h.Host))
	}
	return nil
}

func bindsCredential(hs []policy.HostRules, name string) bool {
	for _, h := range hs {
		if h.Inject != nil && h.Inject.Credential == name {
			return true
		}
	}
	return false
}

// knownSecrets are the real secrets this worker holds, by name: a run's
// request that carries one is refused and stops the run.
func (c Config) knownSecrets() []secretforms.Secret {
	out := []secretforms.Secret{
		{Name: "agentgate:webhook-secret", Value: string(c.WebhookSecret)},
		{Name: "agentgate:app-private-key", Value: string(c.PrivateKey)},
		{Name: "agentgate:openai-key", Value: c.Network.OpenAIKey},
		{Name: "agentgate:anthropic-key", Value: c.Network.AnthropicKey},
		{Name: "agentgate:oauth-client-secret", Value: c.OAuthClientSecret},
		{Name: "agentgate:admin-token", Value: c.AdminToken},
	}
	for name, v := range c.SetupSecrets {
		out = append(out, secretforms.Secret{Name: "setup-secret:" + name, Value: v})
	}
	for name, v := range c.EgressCredentials {
		out = append(out, secretforms.Secret{Name: "credential:" + name, Value: v})
	}
	return out
}

// canarySeed is the run's canary seed, made once and kept in the effects
// journal (never in the audit trail or on a page).
func (r *run) canarySeed(ctx context.Context) ([]byte, error) {
	v, err := r.once(ctx, journal.CanarySeed, func() (string, error) {
		return hex.EncodeToString(sandbox.NewCanarySeed()), nil
	})
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(v)
	if err != nil || len(seed) != sandbox.CanarySeedSize {
		return nil, fmt.Errorf("canary seed of run %s: not %d hex bytes", r.args.RunID, sandbox.CanarySeedSize)
	}
	return seed, nil
}

// exfiltrationCheck marks the commit the stopped run started from with an
// action_required `agentgate` check run that says, plainly, what
// happened: nothing was pushed and no pull request will be opened, so
// what follows is a maintainer's decision. Best effort: the issue comment
// says the same.
func (r *run) exfiltrationCheck(ctx context.Context, sha, reason string) {
	if r.gh == nil || sha == "" {
		return
	}
	a := r.args
	_, err := r.once(ctx, journal.ExfiltrationCheck, func() (string, error) {
		opts := github.CreateCheckRunOptions{
			Name:        "agentgate",
			HeadSHA:     sha,
			ExternalID:  github.String(a.RunID),
			Status:      github.String("completed"),
			Conclusion:  github.String("action_required"),
			CompletedAt: &github.Timestamp{Time: time.Now().UTC()},
			Output: &github.CheckRunOutput{
				Title: github.String("agentgate stopped a run: a request carried a secret"),
				Summary: github.String(telemetry.CutMarkdown(fmt.Sprintf("Run `%s` (for #%d), started from this commit, was stopped.\n\n%s.\n\n"+
					"Nothing was pushed and no pull request was opened. The run's audit trail has an `egress.exfiltration` event "+
					"naming where the value was found (never the value). Decide whether the issue's instructions can be trusted "+
					"before anyone asks agentgate to run on it again.", a.RunID, a.IssueNumber, reason), telemetry.MaxMarkdown)),
			},
		}
		if u := r.w.Config.RunURL(a.RunID); u != "" {
			opts.DetailsURL = github.String(u)
		}
		c, _, err := r.gh.Checks.CreateCheckRun(ctx, a.Owner, a.Repo, opts)
		if err != nil {
			return "", fmt.Errorf("exfiltration check run: %w", err)
		}
		return strconv.FormatInt(c.GetID(), 10), nil
	})
	if err != nil {
		r.log.Warn("exfiltration check run", "err", err)
	}
}
