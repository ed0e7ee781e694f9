package agents

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Event stream formats a preset's standard output speaks; see
// telemetry/agentevents.
const (
	EventsAgentgate  = "agentgate"
	EventsCodex      = "codex"
	EventsClaudeCode = "claude-code"
	EventsAider      = "" // plain text: no structured events
)

// TaskFile is where the sandbox puts the task for the agent.
const TaskFile = "/agentgate/task.md"

// Preset is everything the sandbox needs to start one kind of agent.
type Preset struct {
	Name   string
	Image  string   // image to run (never pulled; built by the operator)
	Cmd    []string // argv; the task is read from TaskFile, never placed here
	Env    []string // KEY=VALUE: gateway URLs, placeholder keys, switches
	Allow  []string // default allowlist additions (hosts), beyond the gateway
	Events string   // stdout event format: "codex", "claude-code", "agentgate" or "" (plain)
	// Version is the CLI version the command line and environment were
	// checked against ("" for builtin and custom); see CheckVersion.
	Version string
}

// Options adjusts a preset for a run.
type Options struct {
	// Image overrides the preset's image (required for custom).
	Image string
	// Cmd is the command of a custom preset (required for custom,
	// rejected for the others).
	Cmd []string
	// Model is the model the agent asks for; "" leaves the agent's default.
	Model string
	// GatewayEnv is what the LLM gateway hands the agent
	// (OPENAI_BASE_URL=..., OPENAI_API_KEY=<placeholder>, ANTHROPIC_...).
	GatewayEnv []string
	// Events overrides the event format of a custom preset (default
	// "agentgate").
	Events string
}

// Preset names.
const (
	NameBuiltin    = "builtin"
	NameCodex      = "codex"
	NameClaudeCode = "claude-code"
	NameAider      = "aider"
	NameCustom     = "custom"
)

// Names lists the preset names Lookup accepts, sorted.
func Names() []string {
	return []string{NameAider, NameBuiltin, NameClaudeCode, NameCodex, NameCustom}
}

// Bounds on options, so a hostile repository config cannot smuggle
// anything odd into argv or the environment.
const (
	maxModel   = 128
	maxCmdArgs = 64
	maxArg     = 4096
)

// modelRE is what a model name may look like: no leading dash (it would be
// read as a flag), no spaces, quotes or shell metacharacters.
var modelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$`)

// envKeyRE is what an environment variable name may look like.
var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Lookup returns the preset called name, adjusted by opts. An unknown name
// is an error that lists the known ones; custom requires opts.Image and
// opts.Cmd.
func Lookup(name string, opts Options) (Preset, error) {
	if err := validate(name, opts); err != nil {
		return Preset{}, fmt.Errorf("agent preset %q: %w", name, err)
	}
	var p Preset
	switch name {
	case NameBuiltin:
		p = builtin(opts.Model)
	case NameCodex:
		p = codex(opts.Model, envValue(opts.GatewayEnv, "OPENAI_BASE_URL"))
	case NameClaudeCode:
		p = claudeCode(opts.Model)
	case NameAider:
		p = aider(opts.Model)
	case NameCustom:
		p = custom(opts)
	default:
		return Preset{}, fmt.Errorf("agent preset %q: unknown; use one of %s", name, strings.Join(Names(), ", "))
	}
	if opts.Image != "" {
		p.Image = opts.Image
	}
	p.Env = append(p.Env, gatewayEnv(opts.GatewayEnv)...)
	return p, nil
}

// validate checks opts against name.
func validate(name string, opts Options) error {
	if opts.Model != "" && (len(opts.Model) > maxModel || !modelRE.MatchString(opts.Model)) {
		return fmt.Errorf("model name %.40q is not allowed (letters, digits and . _ : / @ + - only)", opts.Model)
	}
	if strings.ContainsAny(opts.Image, " \t\r\n\x00") || strings.HasPrefix(opts.Image, "-") {
		return fmt.Errorf("image %.60q is not a valid image reference", opts.Image)
	}
	for _, kv := range opts.GatewayEnv {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envKeyRE.MatchString(k) || strings.ContainsRune(kv, 0) {
			return fmt.Errorf("gateway env entry %.40q is not KEY=VALUE", kv)
		}
	}
	if u := envValue(opts.GatewayEnv, "OPENAI_BASE_URL"); u != "" && name == NameCodex {
		if err := tomlURL(u); err != nil {
			return err
		}
	}
	switch opts.Events {
	case "", EventsAgentgate, EventsCodex, EventsClaudeCode:
	default:
		return fmt.Errorf("unknown event format %q", opts.Events)
	}
	if name != NameCustom {
		if len(opts.Cmd) > 0 {
			return fmt.Errorf("a command can only be given to the %q preset", NameCustom)
		}
		return nil
	}
	if opts.Image == "" {
		return fmt.Errorf("the custom preset needs an image")
	}
	if len(opts.Cmd) == 0 {
		return fmt.Errorf("the custom preset needs a command")
	}
	if len(opts.Cmd) > maxCmdArgs {
		return fmt.Errorf("command has %d arguments, at most %d allowed", len(opts.Cmd), maxCmdArgs)
	}
	for _, a := range opts.Cmd {
		if len(a) > maxArg || strings.ContainsRune(a, 0) {
			return fmt.Errorf("command argument %.40q is too long or holds a NUL byte", a)
		}
	}
	return nil
}

// envValue is the value of the last key=... entry of env, or "".
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, _ := strings.Cut(kv, "="); k == key {
			v = val
		}
	}
	return v
}

// gatewayEnv is the gateway's variables plus the aliases some agents read
// instead: OPENAI_API_BASE (aider / litellm, older OpenAI SDKs) for
// OPENAI_BASE_URL.
func gatewayEnv(env []string) []string {
	out := slices.Clone(env)
	have := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		have[k] = v
	}
	if v, ok := have["OPENAI_BASE_URL"]; ok {
		if _, set := have["OPENAI_API_BASE"]; !set {
			out = append(out, "OPENAI_API_BASE="+v)
		}
	}
	return out
}

// VersionLabel is the image label deploy/images/<preset>/Dockerfile sets to
// the version the installed CLI reported (`<cli> --version`) at build.
const VersionLabel = "org.agentgate.agent.version"

// CheckVersion compares the version an image reports in its labels with
// the one p was checked against. reported is the label's value ("" when
// the image has none); warning is "" when they agree or p records no
// version, and otherwise says what differs, for the check run's summary.
func CheckVersion(p Preset, labels map[string]string) (reported, warning string) {
	reported = bound(labels[VersionLabel], 64)
	switch {
	case p.Version == "":
		return reported, ""
	case reported == "":
		return "", fmt.Sprintf("the %s image %s reports no CLI version (label %s); agentgate checked its %s command line against version %s",
			p.Name, p.Image, VersionLabel, p.Name, p.Version)
	case !slices.ContainsFunc(strings.Fields(reported), func(f string) bool {
		return strings.TrimPrefix(f, "v") == p.Version
	}):
		return reported, fmt.Sprintf("the %s image %s reports CLI version %q; agentgate checked its %s command line against version %s, so the agent may not start or may behave differently",
			p.Name, p.Image, reported, p.Name, p.Version)
	}
	return reported, ""
}

// bound cuts s to n bytes of printable ASCII, for a label value shown to
// users.
func bound(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > n {
		s = s[:n]
	}
	return s
}
