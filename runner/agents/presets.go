package agents

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Default images; operators build them from deploy/images/<preset>.
const (
	ImageBuiltin    = "agentgate/agent:dev"
	ImageCodex      = "agentgate/codex:dev"
	ImageClaudeCode = "agentgate/claude-code:dev"
	ImageAider      = "agentgate/aider:dev"
)

// The CLI versions each preset's command line and environment were checked
// against, from the CLI's own source; deploy/images/<preset>/Dockerfile
// installs exactly this version and records what the installed CLI reports
// in the image label VersionLabel.
const (
	// CodexVersion is @openai/codex. Its source was read at openai/codex
	// commit 02805335a40541933661cade68723897d5eedfd2: codex-rs/exec/src/
	// cli.rs, exec/src/lib.rs, utils/cli/src/shared_options.rs. The index
	// held other files only at nearby commits, read there:
	// utils/home-dir/src/lib.rs at 69a3f82e, arg0/src/lib.rs at 0489ee4f,
	// model-provider-info/src/lib.rs at 05673f5e, utils/cli/src/
	// config_override.rs at 251d7911, exec/src/exec_events.rs at 08a1f30c.
	// 02805335 still has the hidden --full-auto trap (removed in 0.147.0)
	// and already has --ephemeral (0.134.0), so it lies in 0.134–0.146;
	// 0.146.1 is the last release of that line. The release-to-commit
	// mapping is inferred, not read from a tag: the image's version label
	// and CheckVersion are there to catch a wrong guess.
	CodexVersion = "0.146.1"
	// ClaudeCodeVersion is @anthropic-ai/claude-code: the CLI bundled by
	// claude-agent-sdk-python 0.2.143 (src/claude_agent_sdk/_cli_version.py
	// at commit e8bde60164f9ef820068ec36ffe6b7be6bd8fd26), whose types and
	// tests define the stream-json messages the parser reads.
	ClaudeCodeVersion = "2.1.240"
	// AiderVersion is aider-chat, read at tag v0.86.2 (commit
	// 253f0368b873ba30d8ee26e463718f0c03614ddf).
	AiderVersion = "0.86.2"
)

// baseEnv is what every preset gets: a writable home (the root file system
// is read-only) and no colour codes in its output.
var baseEnv = []string{"HOME=/tmp", "NO_COLOR=1"}

// No preset adds hosts to the allowlist by default: every model call goes
// through the gateway, and the agent phase needs no package registry
// (dependencies are installed by the setup phase).

// builtin is agentgate's own agent (`agentgate agent`). It speaks the
// agentgate event format, reads its task from TaskFile and the model from
// AGENTGATE_MODEL.
func builtin(model string) Preset {
	env := slices.Clone(baseEnv)
	if model != "" {
		env = append(env, "AGENTGATE_MODEL="+model)
	}
	return Preset{
		Name:   NameBuiltin,
		Image:  ImageBuiltin,
		Cmd:    []string{"/usr/local/bin/agentgate", "agent"},
		Env:    env,
		Events: EventsAgentgate,
	}
}

// stdinScript is a fixed shell script that runs "$@" (the agent's argv,
// never task text) with the task file on standard input. The script text
// has no variable but "$@", so nothing a user wrote is ever parsed by the
// shell.
const stdinScript = `exec "$@" < ` + TaskFile

// Codex's directories. Both are on the run's tmpfs (/tmp), which starts
// empty, so codexScript creates them before Codex starts.
const (
	// CodexHome is CODEX_HOME. codex-rs/utils/home-dir/src/lib.rs:8-9 and
	// find_codex_home_from_env (line 34): a CODEX_HOME that is set must exist and be a
	// directory, or `codex exec` prints "Error finding codex home" and
	// exits 1 (codex-rs/exec/src/lib.rs, run_main).
	CodexHome = "/tmp/codex-home"
	// CodexTmpDir is TMPDIR. codex-rs/arg0/src/lib.rs,
	// prepend_path_entry_for_codex_aliases: release builds refuse to put
	// their helper links (apply_patch, codex-linux-sandbox) in CODEX_HOME
	// when it lies under std::env::temp_dir() ($TMPDIR, else /tmp); with
	// TMPDIR elsewhere /tmp/codex-home is not "under a temporary dir".
	CodexTmpDir = "/tmp/codex-tmp"
)

// codexScript is stdinScript after creating CodexHome and CodexTmpDir. It
// is fixed text: no variable but "$@".
const codexScript = `mkdir -p ` + CodexHome + ` ` + CodexTmpDir + ` && ` + stdinScript

// CodexProvider is the id of the model provider the codex preset defines
// on the command line for the gateway.
const CodexProvider = "agentgate"

// codex is OpenAI's Codex CLI, `codex exec`, as codex-rs/exec/src/cli.rs
// and codex-rs/utils/cli/src/shared_options.rs define it at CodexVersion:
//
//   - "-" as the prompt reads it from standard input (cli.rs, Cli.prompt);
//   - --json prints the JSONL events of codex-rs/exec/src/exec_events.rs;
//   - --dangerously-bypass-approvals-and-sandbox runs commands without
//     Codex's own sandbox and never asks for approval (shared_options.rs:
//     41-48, "Intended solely for running in environments that are
//     externally sandboxed";
//     lib.rs run_main maps it to SandboxMode::DangerFullAccess, approvals
//     Never). agentgate's container is the sandbox: Codex's own
//     (workspace-write, which the removed --full-auto meant) needs
//     bubblewrap and user namespaces, which the container (no
//     capabilities, no-new-privileges) does not grant, so commands would
//     silently not run;
//   - --skip-git-repo-check and -C /workspace (lib.rs, run_exec_session);
//   - -c key=value overrides config.toml (codex-rs/utils/cli/src/
//     config_override.rs; values parsed as TOML). OPENAI_BASE_URL is no
//     longer read, and the built-in openai provider takes its key from
//     CODEX_API_KEY or auth.json, not OPENAI_API_KEY, and tries a WebSocket
//     first (codex-rs/model-provider-info/src/lib.rs,
//     create_openai_provider: requires_openai_auth, supports_websockets).
//     So the preset defines its own provider, CodexProvider: base_url is
//     the gateway, env_key names OPENAI_API_KEY (the placeholder the
//     gateway hands out; ModelProviderInfo.api_key reads it),
//     wire_api = "responses" (the only one left: "chat" is refused) and
//     supports_websockets = false, so Codex speaks plain HTTP POST
//     /responses to the gateway.
//
// gatewayURL is the gateway's OpenAI base URL; "" (no gateway, as in
// configuration checks) leaves the provider out.
func codex(model, gatewayURL string) Preset {
	argv := []string{"codex", "exec", "--json",
		"--dangerously-bypass-approvals-and-sandbox",
		"--skip-git-repo-check", "-C", "/workspace"}
	if gatewayURL != "" {
		argv = append(argv,
			"-c", `model_provider="`+CodexProvider+`"`,
			"-c", `model_providers.`+CodexProvider+`={name="agentgate",base_url="`+gatewayURL+
				`",env_key="OPENAI_API_KEY",wire_api="responses",supports_websockets=false}`)
	}
	if model != "" {
		argv = append(argv, "--model", model)
	}
	argv = append(argv, "-")
	return Preset{
		Name:    NameCodex,
		Image:   ImageCodex,
		Cmd:     append([]string{"/bin/sh", "-c", codexScript, "agentgate-task"}, argv...),
		Env:     append(slices.Clone(baseEnv), "CODEX_HOME="+CodexHome, "TMPDIR="+CodexTmpDir),
		Events:  EventsCodex,
		Version: CodexVersion,
	}
}

// tomlURL checks that u is an http(s) URL that can sit inside a TOML basic
// string unescaped (no quote, backslash or control character).
func tomlURL(u string) error {
	if strings.ContainsAny(u, "\"\\'") || strings.IndexFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return fmt.Errorf("gateway URL %.60q holds a quote, backslash or control character", u)
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("gateway URL %.60q is not an http(s) URL", u)
	}
	return nil
}

// claudeCode is Anthropic's Claude Code in headless mode: `claude -p`
// with no prompt argument reads the prompt from standard input;
// stream-json (which needs --verbose) prints one JSON message per line;
// --dangerously-skip-permissions is the bypassPermissions mode (agentgate's
// container is the sandbox). It reads ANTHROPIC_BASE_URL and
// ANTHROPIC_API_KEY; the DISABLE_* switches turn off telemetry, error
// reporting and update checks. The flags are the ones
// claude-agent-sdk-python passes the CLI it bundles
// (src/claude_agent_sdk/_internal/transport/subprocess_cli.py at commit
// e8bde60, lines 566, 613, 627: "--output-format stream-json --verbose",
// "--model", "--permission-mode"; --dangerously-skip-permissions is the
// CLI's spelling of --permission-mode bypassPermissions, which the CLI
// refuses to root; the sandbox user is 65532).
func claudeCode(model string) Preset {
	argv := []string{"claude", "-p", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"}
	if model != "" {
		argv = append(argv, "--model", model)
	}
	return Preset{
		Name:  NameClaudeCode,
		Image: ImageClaudeCode,
		Cmd:   append([]string{"/bin/sh", "-c", stdinScript, "agentgate-task"}, argv...),
		Env: append(slices.Clone(baseEnv),
			"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
			"DISABLE_AUTOUPDATER=1",
			"DISABLE_ERROR_REPORTING=1",
			"DISABLE_TELEMETRY=1",
		),
		Events:  EventsClaudeCode,
		Version: ClaudeCodeVersion,
	}
}

// GitName and GitEmail are the identity the aider preset gives git, so
// that aider does not write placeholder names into the throwaway .git.
const (
	GitName  = "agentgate agent"
	GitEmail = "agent@agentgate.invalid"
)

// aider is Aider in scripting mode, as aider/args.py and aider/main.py
// define it at AiderVersion: --message-file runs one instruction from a
// file and exits. agentgate commits, so aider must not; it must not edit
// .gitignore or leave its history files in the work tree either.
//
//   - --no-show-release-notes (args.py:611, a BooleanOptionalAction
//     defaulting to None): HOME is a fresh tmpfs, so every run is a "first
//     run of a new version" (main.py:753) and main.py:1103-1108 would
//     offer the release notes.
//   - --yes-always (args.py:760) answers yes to every confirmation except
//     those asked with explicit_yes_required (io.py:866-867: `res = "n" if
//     explicit_yes_required else "y"`), and base_coder.py:2450-2461
//     handle_shell_commands asks "Run shell command?" with
//     explicit_yes_required=True: shell commands the model suggests are
//     declined, never run. Aider can only edit files here.
//   - The git identity comes from GIT_CONFIG_COUNT/KEY/VALUE (git's
//     command-line scope): main.py:101-152 setup_git reads `git config
//     --get user.name`/`user.email` and, when unset, writes "Your Name"
//     and "you@example.com" into the repository's .git/config.
//
// A model without a provider prefix is routed to the OpenAI-compatible
// gateway (litellm reads OPENAI_API_BASE).
func aider(model string) Preset {
	argv := []string{"aider",
		"--message-file", TaskFile,
		"--yes-always",
		"--no-auto-commits", "--no-dirty-commits", "--no-gitignore",
		"--no-check-update", "--no-show-release-notes", "--analytics-disable",
		"--no-pretty", "--no-fancy-input",
		"--no-restore-chat-history",
		"--chat-history-file", "/tmp/.aider.chat.history.md",
		"--input-history-file", "/tmp/.aider.input.history",
	}
	if model != "" {
		if !strings.Contains(model, "/") {
			model = "openai/" + model
		}
		argv = append(argv, "--model", model)
	}
	return Preset{
		Name:  NameAider,
		Image: ImageAider,
		Cmd:   argv,
		Env: append(slices.Clone(baseEnv), "AIDER_ANALYTICS=false", "AIDER_CHECK_UPDATE=false",
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=user.name", "GIT_CONFIG_VALUE_0="+GitName,
			"GIT_CONFIG_KEY_1=user.email", "GIT_CONFIG_VALUE_1="+GitEmail,
		),
		Events:  EventsAider,
		Version: AiderVersion,
	}
}

// custom is an operator's own image and command. It is told the model in
// AGENTGATE_MODEL and, unless told otherwise, is expected to print the
// agentgate event format.
func custom(opts Options) Preset {
	env := slices.Clone(baseEnv)
	if opts.Model != "" {
		env = append(env, "AGENTGATE_MODEL="+opts.Model)
	}
	events := opts.Events
	if events == "" {
		events = EventsAgentgate
	}
	return Preset{
		Name:   NameCustom,
		Image:  opts.Image,
		Cmd:    slices.Clone(opts.Cmd),
		Env:    env,
		Events: events,
	}
}
