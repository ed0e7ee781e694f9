// Package stubagent builds agentgate/stub:dev, an image whose "agents"
// (codex, claude, aider and stubagent itself) record how the sandbox
// started them: argv, environment, user, working directory, the mounts
// they can see and what arrived on standard input. Tests run every agent
// preset's command line in the real sandbox with it, to prove that the
// sandbox passes exactly the preset's command and environment and nothing
// else. The recorder is cmd/stubagent; Record is what it writes.
//
// As codex, claude and aider the stub is also a contract stub: it enforces
// what the real CLI requires at the version the preset was checked
// against (its flags, CODEX_HOME, the model provider and key, --verbose
// with stream-json, and so on) and exits as the CLI would when a preset
// gets it wrong. When the task holds WriteDirective it runs one turn
// through the gateway with the CLI's request shape (Responses API for
// Codex, streamed Messages API for Claude Code, streamed chat completions
// for Aider), writes the reply and prints the CLI's event stream. Upstream
// is a fake model API that answers all three.
package stubagent
