// Package agents holds agentgate's agent presets: for each coding agent a
// user can pick by name in configuration (codex, claude-code, aider,
// builtin, or custom), the image, the command line for an unattended run
// that reads its task from /agentgate/task.md, the environment it needs to
// reach its model through the LLM gateway, its default allowlist additions
// and the event format its standard output speaks (see
// telemetry/agentevents).
//
// Task text is written by whoever filed the issue and is hostile: no preset
// ever places it in a command line. Presets that need a shell use a fixed
// script that redirects the task file to the agent's standard input or
// names the file in a flag; the only variable ever handed to that script is
// the validated model name, as a positional parameter ("$1").
package agents
