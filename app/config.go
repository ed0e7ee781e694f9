package app

import (
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/agents"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
)

// Config is agentgate's operator configuration. Each setting can come from
// a flag (--app-id), an environment variable (AGENTGATE_APP_ID) or a key in
// the YAML file named by --config / AGENTGATE_CONFIG (app-id: 123); flags
// win over the environment, which wins over the file.
type Config struct {
	AppID         int64
	AppSlug       string // the app's slug; its comments come from "<slug>[bot]"
	PrivateKey    []byte // PEM; never logged
	WebhookSecret []byte // never logged; required
	GitHubAPIURL  string // https://api.github.com/ or https://HOST/api/v3/ (GHES)

	Listen      string // address of the webhook listener (internet-facing)
	AdminListen string // address of the operator listener (run pages, /admin); "" = off
	// DatabaseURL is a SQLite path or URL, or a Postgres URL; "" =
	// DataDir/agentgate.db. LoadConfig makes a SQLite path absolute.
	DatabaseURL string
	// DataDir holds run directories (DataDir/runs), the mirrors and the
	// audit key; "" = DefaultDataDir. LoadConfig makes it absolute.
	DataDir string
	// AuditKeyFile is the Ed25519 key (PEM) that signs the audit chain's
	// head and checkpoints; "" = DataDir/audit.key, created when missing.
	AuditKeyFile string
	// AuditPublicKeys are files holding the public keys (PEM) of earlier
	// audit keys: checkpoints, the chain head and provenance records
	// signed with them still verify after a rotation.
	AuditPublicKeys []string

	DockerHost   string // empty = the environment's (DOCKER_HOST) or the local socket
	WorkerID     string // labels this worker's Docker objects; default the host name
	Role         string // RoleAll (default), RoleIntake or RoleWorker
	WorkerCPUs   int64  // sandbox CPU budget of this worker (1e-9 CPUs); 0 = none
	WorkerMemory int64  // sandbox memory budget of this worker (bytes); 0 = none

	Mention       string
	Label         string
	MinPermission string // read, triage, write, maintain, admin
	// EditTriggerWindow is how long after a comment on an issue is written
	// an edit that adds the mention still triggers (once); 0 = never.
	EditTriggerWindow time.Duration

	// AgentPreset picks a known agent (builtin, codex, claude-code, aider,
	// custom); "" runs AgentImage with AgentCmd and reads the agentgate
	// event format from its output.
	AgentPreset  string
	AgentModel   string
	AgentImage   string
	AgentCmd     []string
	AgentRuntime string // "" (runc) or "runsc"
	Limits       runner.Limits

	WorkspaceBytes  int64
	WorkspaceInodes int64
	Concurrency     int
	DraftPRs        bool
	// MirrorMaxBytes bounds the per-repository mirror cache under
	// DataDir/mirrors; 0 turns the cache off (a shallow clone per run).
	MirrorMaxBytes int64
	// MirrorOverlay is how a run's work tree is made from the mirror
	// cache: "auto" (an overlay over a checkout cached per commit tree,
	// when the worker may mount: root on Linux) or "off" (every file
	// written per run).
	MirrorOverlay string
	// MirrorCheckouts is how many cached checkouts each repository keeps
	// (their bytes count against MirrorMaxBytes).
	MirrorCheckouts int64

	Network sandbox.NetworkConfig
	// Controls are the risk controls (controls.go).
	Controls Controls
	// Ops are the rotation and retention settings (ops.go).
	Ops OpsConfig

	// Run pages (app/runpage) on the operator listener.
	PublicURL         string // base URL people reach the operator listener at; "" = http://<admin-listen> when loopback
	OAuthClientID     string // the GitHub App's client id, for sign-in with GitHub
	OAuthClientSecret string // never logged
	AdminToken        string // Bearer token that sees every run; never logged

	// MetricsListen is the address of the listener that serves only GET
	// /metrics, for Prometheus; "" = metrics are not served. Never the
	// operator listener: that one serves run pages to people.
	MetricsListen string
	// LogFormat ("text" or "json"), LogLevel ("debug" … "error") and
	// DatabasePoolSize (Postgres connections; 0 = default) are the
	// operational settings (logging.go).
	LogFormat, LogLevel string
	DatabasePoolSize    int

	// AgentImages are the images a repository's configuration may pick
	// (agent.image, or a preset's default image), besides AgentImage; empty
	// means AgentImage and the presets' default images only.
	AgentImages []string
	// SetupAllow is what a setup phase may reach besides Network.Allow
	// (package registries); a repository's setup.allow is narrowed to both.
	SetupAllow []string
	// SetupSecrets are the secrets a repository's setup phase may ask for
	// by name (setup.secrets); never logged, never handed to an agent.
	SetupSecrets map[string]string
	// setupSecretSpecs is the setup-secrets setting as given, resolved by
	// LoadConfig.
	setupSecretSpecs []string
	// SetupSecretBindings are the installations (and repositories) each
	// setup secret is for (setup-secrets:
	// NAME=/path;installations=ID+ID;repositories=ID+ID); a secret without
	// one is refused to every installation.
	SetupSecretBindings map[string]Binding
	// AgentImageBindings and PrivateBindings bind items of AgentImages and
	// Network.AllowPrivate to installations (ITEM;installations=ID+ID); an
	// item without one is for every installation.
	AgentImageBindings map[string]Binding
	PrivateBindings    map[string]Binding

	// Deploy is how the process behaves across deploys (deploy.go).
	Deploy DeployConfig
	// EgressCredentials are credentials the egress proxy adds to inspected
	// hosts' requests where a policy binds them (network.allow inject);
	// never logged, never in the sandbox. EgressCredentialBindings are the
	// installations each is for (egress-credentials, as setup-secrets).
	EgressCredentials        map[string]string
	EgressCredentialBindings map[string]Binding
	egressCredentialSpecs    []string
}

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		AppSlug:           "agentgate",
		GitHubAPIURL:      "https://api.github.com/",
		Listen:            ":8080",
		Role:              RoleAll,
		Mention:           "@agentgate",
		Label:             "agentgate",
		EditTriggerWindow: 10 * time.Minute, // webhook.DefaultEditWindow
		MinPermission:     "write",
		AgentImage:        "agentgate/testagent:dev",
		WorkspaceBytes:    2 << 30,
		Network: sandbox.NetworkConfig{
			Mode:         "relay",
			RelayImage:   "agentgate/relay:dev",
			MaxBytes:     1 << 30,
			MaxConns:     32,
			OpenAIURL:    "https://api.openai.com",
			AnthropicURL: "https://api.anthropic.com",
		},
		WorkspaceInodes: 200_000,
		Concurrency:     2,
		MirrorMaxBytes:  10 << 30,
		MirrorOverlay:   "auto",
		MirrorCheckouts: 3,
		Controls:        DefaultControls(),
		Deploy:          DeployConfig{RedeliverInterval: defaultRedeliverInterval, RedeliverWindow: defaultRedeliverWindow},
		LogFormat:       "text",
		LogLevel:        "info",
		Limits: runner.Limits{
			Timeout:     30 * time.Minute,
			MemoryBytes: 2 << 30,
			NanoCPUs:    1e9,
			Pids:        256,
			TmpfsBytes:  256 << 20,
			OutputBytes: 1 << 20,
		},
	}
}

// setting is one configuration key and how it is applied.
type setting struct {
	key    string // flag name and YAML key; env is AGENTGATE_ + upper(key)
	help   string
	secret bool
	apply  func(c *Config, v string) error
}

// Env is the environment variable of the setting.
func (s setting) env() string {
	return "AGENTGATE_" + strings.ToUpper(strings.ReplaceAll(s.key, "-", "_"))
}

func settings() []setting {
	str := func(p func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *p(c) = v; return nil }
	}
	i64 := func(p func(*Config) *int64) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("not an integer: %q", v)
			}
			*p(c) = n
			return nil
		}
	}
	size := func(p func(*Config) *int64) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := parseSize(v)
			if err != nil {
				return err
			}
			*p(c) = n
			return nil
		}
	}
	list := func(p func(*Config) *[]string) func(*Config, string) error {
		return func(c *Config, v string) error {
			*p(c) = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
			return nil
		}
	}
	fileStr := func(p func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error {
			b, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			*p(c) = strings.TrimSpace(string(b))
			return nil
		}
	}
	return append([]setting{
		{key: "app-id", help: "GitHub App id", apply: i64(func(c *Config) *int64 { return &c.AppID })},
		{key: "app-slug", help: "GitHub App slug (its bot is <slug>[bot])", apply: str(func(c *Config) *string { return &c.AppSlug })},
		{key: "private-key", help: "GitHub App private key (PEM)", secret: true, apply: func(c *Config, v string) error { c.PrivateKey = []byte(v); return nil }},
		{key: "private-key-file", help: "file holding the GitHub App private key", apply: func(c *Config, v string) error {
			b, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			c.PrivateKey = b
			return nil
		}},
		{key: "webhook-secret", help: "webhook secret (required)", secret: true, apply: func(c *Config, v string) error { c.WebhookSecret = []byte(v); return nil }},
		{key: "webhook-secret-file", help: "file holding the webhook secret", apply: func(c *Config, v string) error {
			b, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			c.WebhookSecret = []byte(strings.TrimRight(string(b), "\r\n"))
			return nil
		}},
		{key: "github-api-url", help: "GitHub REST API base URL (GHES: https://HOST/api/v3/)", apply: str(func(c *Config) *string { return &c.GitHubAPIURL })},
		{key: "listen", help: "HTTP listen address", apply: str(func(c *Config) *string { return &c.Listen })},
		{key: "admin-listen", help: "operator listener: run pages and /admin (never the webhook's); empty disables", apply: str(func(c *Config) *string { return &c.AdminListen })},
		{key: "metrics-listen", help: "listener serving only GET /metrics, unauthenticated: keep it internal; empty disables", apply: str(func(c *Config) *string { return &c.MetricsListen })},
		{key: "database-url", help: "database: a SQLite path or sqlite:// URL, or postgres://… (default <data-dir>/agentgate.db)", apply: str(func(c *Config) *string { return &c.DatabaseURL })},
		{key: "data-dir", help: "directory for run work trees, mirrors and the audit key (default $XDG_STATE_HOME/agentgate, /var/lib/agentgate as root, else ~/.local/state/agentgate)", apply: str(func(c *Config) *string { return &c.DataDir })},
		{key: "audit-key-file", help: "Ed25519 key (PEM) signing the audit chain (default <data-dir>/audit.key, created only on SQLite with an empty trail)", apply: str(func(c *Config) *string { return &c.AuditKeyFile })},
		{key: "audit-public-keys", help: "files holding earlier audit public keys (PEM) whose signatures still verify after a rotation, space or comma separated", apply: list(func(c *Config) *[]string { return &c.AuditPublicKeys })},
		{key: "docker-host", help: "Docker engine address (default: DOCKER_HOST or the local socket)", apply: str(func(c *Config) *string { return &c.DockerHost })},
		{key: "worker-id", help: "worker identity for labels and the start-up sweep (default: host name)", apply: str(func(c *Config) *string { return &c.WorkerID })},
		{key: "mention", help: "comment prefix that triggers a run", apply: str(func(c *Config) *string { return &c.Mention })},
		{key: "label", help: "issue label that triggers a run", apply: str(func(c *Config) *string { return &c.Label })},
		{key: "edit-trigger-window", help: "how long after a comment is written an edit adding the mention still triggers, once (0: never)", apply: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("not a duration of 0 or more: %q", v)
			}
			c.EditTriggerWindow = d
			return nil
		}},
		{key: "min-permission", help: "least repository permission to trigger: read, triage, write, maintain, admin", apply: str(func(c *Config) *string { return &c.MinPermission })},
		{key: "agent-preset", help: "agent preset: builtin, codex, claude-code, aider, custom (empty: agent-image with agent-cmd)", apply: str(func(c *Config) *string { return &c.AgentPreset })},
		{key: "agent-model", help: "model the agent asks the gateway for", apply: str(func(c *Config) *string { return &c.AgentModel })},
		{key: "agent-image", help: "agent image (built locally; never pulled)", apply: str(func(c *Config) *string { return &c.AgentImage })},
		{key: "agent-cmd", help: "agent command, split on spaces (default: the image's)", apply: func(c *Config, v string) error { c.AgentCmd = strings.Fields(v); return nil }},
		{key: "agent-runtime", help: "OCI runtime: runc (default) or runsc", apply: func(c *Config, v string) error {
			if v == "runc" {
				v = ""
			}
			c.AgentRuntime = v
			return nil
		}},
		{key: "timeout", help: "wall-clock limit of the agent", apply: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("not a duration: %q", v)
			}
			c.Limits.Timeout = d
			return nil
		}},
		{key: "memory", help: "agent memory limit (e.g. 2GiB)", apply: size(func(c *Config) *int64 { return &c.Limits.MemoryBytes })},
		{key: "cpus", help: "agent CPU limit (e.g. 1.5)", apply: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("not a number: %q", v)
			}
			c.Limits.NanoCPUs = int64(f * 1e9)
			return nil
		}},
		{key: "pids", help: "agent process limit", apply: i64(func(c *Config) *int64 { return &c.Limits.Pids })},
		{key: "tmp-size", help: "size of the agent's /tmp", apply: size(func(c *Config) *int64 { return &c.Limits.TmpfsBytes })},
		{key: "output-limit", help: "agent output kept per run", apply: size(func(c *Config) *int64 { return &c.Limits.OutputBytes })},
		{key: "workspace-size", help: "work tree limit in bytes", apply: size(func(c *Config) *int64 { return &c.WorkspaceBytes })},
		{key: "workspace-inodes", help: "work tree limit in files and directories", apply: i64(func(c *Config) *int64 { return &c.WorkspaceInodes })},
		{key: "concurrency", help: "runs at once on this worker", apply: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not an integer: %q", v)
			}
			c.Concurrency = n
			return nil
		}},
		{key: "network", help: "sandbox network: relay (allowlisted egress and the LLM gateway) or none", apply: str(func(c *Config) *string { return &c.Network.Mode })},
		{key: "relay-image", help: "relay image (built by `agentgate images`)", apply: str(func(c *Config) *string { return &c.Network.RelayImage })},
		{key: "agent-images", help: "images a repository's configuration may pick (agent.image, verify.image); comma or space separated; IMAGE;installations=ID+ID binds one to installations", apply: func(c *Config, v string) error {
			return boundList(v, &c.AgentImages, &c.AgentImageBindings)
		}},
		{key: "setup-egress-allow", help: "hosts a repository's setup phase may reach besides egress-allow (package registries)", apply: list(func(c *Config) *[]string { return &c.SetupAllow })},
		{key: "setup-secrets", help: "setup secrets: NAME=/path/to/file, or NAME alone to read AGENTGATE_SETUP_SECRET_<NAME>, each followed by ;installations=ID+ID (or ;installations=*), the installations that may use it; comma or space separated", apply: list(func(c *Config) *[]string { return &c.setupSecretSpecs })},
		{key: "egress-allow", help: "hosts the agent may reach: host, *.suffix, optional :port; comma or space separated", apply: list(func(c *Config) *[]string { return &c.Network.Allow })},
		{key: "egress-allow-private", help: "destinations that may resolve to private addresses (an internal mirror): host names or CIDRs; DEST;installations=ID+ID binds one to installations", apply: func(c *Config, v string) error {
			return boundList(v, &c.Network.AllowPrivate, &c.PrivateBindings)
		}},
		{key: "egress-credentials", help: "credentials the egress proxy adds for inspected hosts (network.allow inject): NAME=/path/to/file, or NAME alone to read AGENTGATE_EGRESS_CREDENTIAL_<NAME>, each followed by ;installations=ID+ID (or ;installations=*); comma or space separated", apply: list(func(c *Config) *[]string { return &c.egressCredentialSpecs })},
		{key: "egress-upstream-ca", help: "PEM file of CAs the egress proxy trusts, besides the system roots, when it inspects an internal host", apply: str(func(c *Config) *string { return &c.Network.UpstreamCAFile })},
		{key: "egress-max-bytes", help: "per-run egress byte budget", apply: size(func(c *Config) *int64 { return &c.Network.MaxBytes })},
		{key: "egress-max-conns", help: "per-run concurrent egress connections", apply: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("not an integer: %q", v)
			}
			c.Network.MaxConns = n
			return nil
		}},
		{key: "openai-url", help: "OpenAI-compatible upstream base URL for the LLM gateway", apply: str(func(c *Config) *string { return &c.Network.OpenAIURL })},
		{key: "openai-key", help: "OpenAI API key (host only; the sandbox gets a placeholder)", secret: true, apply: str(func(c *Config) *string { return &c.Network.OpenAIKey })},
		{key: "openai-key-file", help: "file holding the OpenAI API key", apply: fileStr(func(c *Config) *string { return &c.Network.OpenAIKey })},
		{key: "anthropic-url", help: "Anthropic upstream base URL for the LLM gateway", apply: str(func(c *Config) *string { return &c.Network.AnthropicURL })},
		{key: "anthropic-key", help: "Anthropic API key (host only; the sandbox gets a placeholder)", secret: true, apply: str(func(c *Config) *string { return &c.Network.AnthropicKey })},
		{key: "anthropic-key-file", help: "file holding the Anthropic API key", apply: fileStr(func(c *Config) *string { return &c.Network.AnthropicKey })},
		{key: "llm-token-budget", help: "input+output tokens per run through the gateway (0 = unlimited)", apply: i64(func(c *Config) *int64 { return &c.Network.TokenBudget })},
		{key: "llm-prices", help: "price table for cost estimates: model=IN/OUT USD per million tokens, comma separated", apply: func(c *Config, v string) error {
			p, err := parsePrices(v)
			if err != nil {
				return err
			}
			c.Network.Prices = p
			return nil
		}},
		{key: "mirror-max-bytes", help: "bound of the per-repository git mirror cache in <data-dir>/mirrors, cached checkouts included; 0 disables it", apply: size(func(c *Config) *int64 { return &c.MirrorMaxBytes })},
		{key: "mirror-overlay", help: "auto: a run's work tree is an overlay over a checkout cached per commit (root on Linux); off: every file is written per run", apply: func(c *Config, v string) error {
			switch v {
			case "auto", "off":
				c.MirrorOverlay = v
				return nil
			}
			return fmt.Errorf("want auto or off, not %q", v)
		}},
		{key: "mirror-checkouts", help: "cached checkouts kept per repository for overlay work trees (at least 1)", apply: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 || n > 1000 {
				return fmt.Errorf("want a number from 1 to 1000, not %q", v)
			}
			c.MirrorCheckouts = n
			return nil
		}},
		{key: "public-url", help: "base URL of the operator listener as people reach it (run pages, sign-in callback, check run links)", apply: str(func(c *Config) *string { return &c.PublicURL })},
		{key: "oauth-client-id", help: "GitHub App client id, for signing in to the run pages", apply: str(func(c *Config) *string { return &c.OAuthClientID })},
		{key: "oauth-client-secret", help: "GitHub App client secret", secret: true, apply: str(func(c *Config) *string { return &c.OAuthClientSecret })},
		{key: "oauth-client-secret-file", help: "file holding the GitHub App client secret", apply: fileStr(func(c *Config) *string { return &c.OAuthClientSecret })},
		{key: "admin-token", help: "Bearer token of the operator: sees every run page", secret: true, apply: str(func(c *Config) *string { return &c.AdminToken })},
		{key: "admin-token-file", help: "file holding the admin token", apply: fileStr(func(c *Config) *string { return &c.AdminToken })},
		{key: "draft", help: "open pull requests as drafts (true/false)", apply: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("not a boolean: %q", v)
			}
			c.DraftPRs = b
			return nil
		}},
	}, append(controlSettings(), gatewaySettings()...)...)
}

// parsePrices reads "gpt-4o=2.5/10,claude-sonnet=3/15".
func parsePrices(v string) (map[string][2]float64, error) {
	out := map[string][2]float64{}
	for _, item := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		model, pair, ok := strings.Cut(item, "=")
		in, outp, ok2 := strings.Cut(pair, "/")
		if !ok || !ok2 || model == "" {
			return nil, fmt.Errorf("price %q is not model=IN/OUT", item)
		}
		fi, err1 := strconv.ParseFloat(in, 64)
		fo, err2 := strconv.ParseFloat(outp, 64)
		if err1 != nil || err2 != nil || fi < 0 || fo < 0 {
			return nil, fmt.Errorf("price %q is not model=IN/OUT", item)
		}
		out[model] = [2]float64{fi, fo}
	}
	return out, nil
}

// parseSize reads "512", "64KiB", "10MiB", "2GiB" (also KB/MB/GB as powers of 1024, and k/m/g).
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	lower := strings.ToLower(s)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(lower, u.suffix) {
			mult = u.m
			s = strings.TrimSpace(s[:len(s)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size: %q", v)
	}
	return n * mult, nil
}

// allSettings are every operator setting LoadConfig knows, in the order
// `-h` lists them (docs/operating.md's table of operator settings has a
// row for each: TestOperatorSettingsTable).
func allSettings() []setting {
	return append(append(append(settings(), roleSettings()...), deploySettings()...), rotationSettings()...)
}

// LoadConfig builds a Config from defaults, the YAML file, the environment
// and the flags in args, in rising precedence, then validates it for role
// ("serve", "run" or "demo"). Errors name the setting.
func LoadConfig(name string, args []string, getenv func(string) string, extra func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	all := allSettings()
	flagVals := map[string]*string{}
	for _, s := range all {
		flagVals[s.key] = fs.String(s.key, "", s.help+" (env "+s.env()+")")
	}
	showDefaults(fs)
	cfgFile := fs.String("config", "", "YAML configuration file (env AGENTGATE_CONFIG)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, fs, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	path := *cfgFile
	if path == "" {
		path = getenv("AGENTGATE_CONFIG")
	}
	if path != "" {
		if err := applyFile(&cfg, all, path); err != nil {
			return cfg, fs, err
		}
	}
	for _, s := range all {
		if v := getenv(s.env()); v != "" {
			if err := s.apply(&cfg, v); err != nil {
				return cfg, fs, fmt.Errorf("setting %s (%s): %w", s.key, s.env(), err)
			}
		}
	}
	for _, s := range all {
		if set[s.key] {
			if err := s.apply(&cfg, *flagVals[s.key]); err != nil {
				return cfg, fs, fmt.Errorf("setting %s (--%s): %w", s.key, s.key, err)
			}
		}
	}
	if err := cfg.loadSetupSecrets(getenv); err != nil {
		return cfg, fs, err
	}
	if err := cfg.resolvePaths(getenv); err != nil {
		return cfg, fs, err
	}
	if cfg.DockerHost == "" {
		cfg.DockerHost = getenv("DOCKER_HOST")
	}
	if cfg.WorkerID == "" {
		h, _ := os.Hostname()
		cfg.WorkerID = h
	}
	if err := cfg.loadEgressCredentials(getenv); err != nil {
		return cfg, fs, err
	}
	return cfg, fs, nil
}

func applyFile(cfg *Config, all []setting, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]setting{}
	for _, s := range all {
		known[s.key] = s
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := known[strings.ReplaceAll(k, "_", "-")]
		if !ok {
			return fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		var v string
		switch x := m[k].(type) {
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			v = strings.Join(parts, " ")
		default:
			v = fmt.Sprint(x)
		}
		if err := s.apply(cfg, v); err != nil {
			return fmt.Errorf("config file %s: setting %s: %w", path, s.key, err)
		}
	}
	return nil
}

// ValidateServe checks what `agentgate serve` needs, naming each bad setting.
func (c Config) ValidateServe() error {
	var errs []error
	req := func(ok bool, key, why string) {
		if !ok {
			errs = append(errs, fmt.Errorf("setting %s (AGENTGATE_%s): %s", key, strings.ToUpper(strings.ReplaceAll(key, "-", "_")), why))
		}
	}
	req(len(c.WebhookSecret) > 0, "webhook-secret", "required: agentgate never accepts unverified webhooks")
	req(c.AppID > 0 || !c.works(), "app-id", "required: the GitHub App's numeric id")
	req(len(c.PrivateKey) > 0 || !c.works(), "private-key", "required: the GitHub App's PEM private key (or private-key-file)")
	if len(c.PrivateKey) > 0 {
		if _, err := parseKey(c.PrivateKey); err != nil {
			errs = append(errs, fmt.Errorf("setting private-key (AGENTGATE_PRIVATE_KEY): %w", err))
		}
	}
	if u, err := url.Parse(c.GitHubAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		req(false, "github-api-url", fmt.Sprintf("not an http(s) URL: %q", c.GitHubAPIURL))
	}
	req(c.DatabaseURL != "", "database-url", "required")
	// Without admin-listen the OAuth client is unused (a start-up
	// warning): agentgate setup writes it into a file serve takes as is.
	if c.OAuthClientID != "" && c.AdminListen != "" {
		req(c.OAuthClientSecret != "", "oauth-client-secret", "required with oauth-client-id and admin-listen")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			req(false, "public-url", fmt.Sprintf("not an http(s) URL: %q", c.PublicURL))
		}
	}
	errs = append(errs, c.validateRun()...)
	errs = append(errs, c.validateDeploy()...)
	return errors.Join(errs...)
}

func (c Config) validateRun() []error {
	var errs []error
	bad := func(key, why string) {
		errs = append(errs, fmt.Errorf("setting %s (AGENTGATE_%s): %s", key, strings.ToUpper(strings.ReplaceAll(key, "-", "_")), why))
	}
	if c.AgentImage == "" && c.AgentPreset == "" {
		bad("agent-image", "required")
	}
	if c.AgentPreset != "" {
		if _, err := c.preset(nil); err != nil {
			bad("agent-preset", err.Error())
		}
	}
	if !policy.ValidPermission(c.MinPermission) {
		bad("min-permission", fmt.Sprintf("%q is not one of read, triage, write, maintain, admin", c.MinPermission))
	}
	if c.Mention == "" || strings.ContainsAny(c.Mention, " \t\r\n") {
		bad("mention", "must be one word such as @agentgate")
	}
	if c.Label == "" {
		bad("label", "required")
	}
	if c.Limits.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if c.Limits.MemoryBytes < 16<<20 {
		bad("memory", "must be at least 16MiB")
	}
	if c.Limits.NanoCPUs <= 0 {
		bad("cpus", "must be positive")
	}
	if c.Limits.Pids <= 0 {
		bad("pids", "must be positive")
	}
	if c.Limits.OutputBytes <= 0 {
		bad("output-limit", "must be positive")
	}
	if c.WorkspaceBytes < 1<<20 {
		bad("workspace-size", "must be at least 1MiB")
	}
	if c.WorkspaceInodes < 100 {
		bad("workspace-inodes", "must be at least 100")
	}
	if c.Concurrency < 1 {
		bad("concurrency", "must be at least 1")
	}
	if c.AgentRuntime != "" && c.AgentRuntime != "runsc" {
		bad("agent-runtime", fmt.Sprintf("%q is not runc or runsc", c.AgentRuntime))
	}
	if c.DataDir == "" {
		bad("data-dir", "required")
	}
	switch c.Network.Mode {
	case "relay":
		if c.Network.RelayImage == "" {
			bad("relay-image", "required when network is relay")
		}
	case "none":
	default:
		bad("network", fmt.Sprintf("%q is not relay or none", c.Network.Mode))
	}
	for _, u := range []struct{ key, v string }{{"openai-url", c.Network.OpenAIURL}, {"anthropic-url", c.Network.AnthropicURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad(u.key, fmt.Sprintf("not an http(s) URL: %q", u.v))
		}
	}
	return errs
}

// ValidateRun checks what `agentgate run` needs.
func (c Config) ValidateRun() error { return errors.Join(c.validateRun()...) }

// preset resolves the configured agent preset with the gateway's
// environment; with no preset it is the configured image and command,
// speaking the agentgate event format.
func (c Config) preset(gatewayEnv []string) (agents.Preset, error) {
	if c.AgentPreset == "" {
		return agents.Preset{Name: "configured", Image: c.AgentImage, Cmd: c.AgentCmd, Env: gatewayEnv, Events: agents.EventsAgentgate}, nil
	}
	opts := agents.Options{Model: c.AgentModel, GatewayEnv: gatewayEnv}
	if c.AgentPreset == agents.NameCustom {
		opts.Image, opts.Cmd = c.AgentImage, c.AgentCmd
	}
	return agents.Lookup(c.AgentPreset, opts)
}

// DefaultDataDir is the data directory when data-dir is not set:
// $XDG_STATE_HOME/agentgate when that is an absolute path, else
// /var/lib/agentgate as root, else ~/.local/state/agentgate. With no home
// directory it is agentgate-data in the working directory.
func DefaultDataDir(getenv func(string) string) string {
	return defaultDataDir(getenv, os.Geteuid())
}

func defaultDataDir(getenv func(string) string, euid int) string {
	if x := getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "agentgate")
	}
	if euid == 0 {
		return "/var/lib/agentgate"
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	if !filepath.IsAbs(home) {
		return "agentgate-data"
	}
	return filepath.Join(home, ".local", "state", "agentgate")
}

// resolvePaths fills in the default data directory and database and makes
// every path setting absolute against the working directory, once, so
// that nothing later depends on where agentgate was started. It does not
// touch the file system; MakeDirs does.
func (c *Config) resolvePaths(getenv func(string) string) error {
	abs := func(key, p string) (string, error) {
		a, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("setting %s: %w", key, err)
		}
		return a, nil
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir(getenv)
	}
	var err error
	if c.DataDir, err = abs("data-dir", c.DataDir); err != nil {
		return err
	}
	if c.AuditKeyFile != "" {
		if c.AuditKeyFile, err = abs("audit-key-file", c.AuditKeyFile); err != nil {
			return err
		}
	}
	switch lower := strings.ToLower(c.DatabaseURL); {
	case c.DatabaseURL == "":
		c.DatabaseURL = filepath.Join(c.DataDir, "agentgate.db")
	case strings.HasPrefix(lower, "sqlite://"):
		p, err := abs("database-url", c.DatabaseURL[len("sqlite://"):])
		if err != nil {
			return err
		}
		c.DatabaseURL = "sqlite://" + p
	case !strings.Contains(c.DatabaseURL, "://"):
		if c.DatabaseURL, err = abs("database-url", c.DatabaseURL); err != nil {
			return err
		}
	}
	return nil
}

// sqliteFile is the file of a SQLite database URL, "" for any other.
func sqliteFile(dbURL string) string {
	lower := strings.ToLower(dbURL)
	switch {
	case strings.HasPrefix(lower, "sqlite://"):
		return dbURL[len("sqlite://"):]
	case strings.Contains(dbURL, "://"):
		return ""
	}
	return dbURL
}

// MakeDirs creates, mode 0700, the directory of a SQLite database and,
// with data set, the data directory, before anything opens them.
func (c Config) MakeDirs(data bool) error {
	if f := sqliteFile(c.DatabaseURL); f != "" {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			return fmt.Errorf("setting database-url: %w", err)
		}
	}
	if data {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return fmt.Errorf("setting data-dir: %w", err)
		}
	}
	return nil
}

// AuditKeyPath is where the audit signing key is.
func (c Config) AuditKeyPath() string {
	if c.AuditKeyFile != "" {
		return c.AuditKeyFile
	}
	return filepath.Join(c.DataDir, "audit.key")
}

// AuditTrustedKeys reads the audit-public-keys files.
func (c Config) AuditTrustedKeys() ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for _, f := range c.AuditPublicKeys {
		k, err := store.LoadAuditPublicKey(f)
		if err != nil {
			return nil, fmt.Errorf("setting audit-public-keys: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// RunURL is the run page of runID, "" when there is no public URL.
func (c Config) RunURL(runID string) string {
	if c.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(c.PublicURL, "/") + "/runs/" + url.PathEscape(runID)
}

// BotLogin is the login of the app's bot user.
func (c Config) BotLogin() string { return c.AppSlug + "[bot]" }
