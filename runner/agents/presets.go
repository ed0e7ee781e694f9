package agents

import (
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

// codex is OpenAI's Codex CLI: `codex exec` runs one task unattended; with
// "-" as the prompt it reads the prompt from standard input; --json prints
// its JSONL event stream; --full-auto lets it edit the work tree without
// asking. It honours OPENAI_BASE_URL for the built-in openai provider.
func codex(model string) Preset {
	argv := []string{"codex", "exec", "--json", "--full-auto", "--skip-git-repo-check", "-C", "/workspace"}
	if model != "" {
		argv = append(argv, "--model", model)
	}
	argv = append(argv, "-")
	return Preset{
		Name:   NameCodex,
		Image:  ImageCodex,
		Cmd:    append([]string{"/bin/sh", "-c", stdinScript, "agentgate-task"}, argv...),
		Env:    append(slices.Clone(baseEnv), "CODEX_HOME=/tmp/.codex"),
		Events: EventsCodex,
	}
}

// claudeCode is Anthropic's Claude Code in headless mode: `claude -p`
// with no prompt argument reads the prompt from standard input;
// stream-json (which needs --verbose) prints one JSON message per line.
// It reads ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY; the DISABLE_* switches
// turn off telemetry, error reporting and update checks.
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
		Events: EventsClaudeCode,
	}
}

// aider is Aider in scripting mode: --message-file runs one instruction
// from a file and exits. agentgate commits, so aider must not; it must not
// edit .gitignore or leave its history files in the work tree either. A
// model without a provider prefix is routed to the OpenAI-compatible
// gateway (litellm reads OPENAI_API_BASE).
func aider(model string) Preset {
	argv := []string{"aider",
		"--message-file", TaskFile,
		"--yes-always",
		"--no-auto-commits", "--no-dirty-commits", "--no-gitignore",
		"--no-check-update", "--analytics-disable",
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
		Name:   NameAider,
		Image:  ImageAider,
		Cmd:    argv,
		Env:    append(slices.Clone(baseEnv), "AIDER_ANALYTICS=false", "AIDER_CHECK_UPDATE=false"),
		Events: EventsAider,
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
