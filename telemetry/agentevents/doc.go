// Package agentevents turns the JSON lines a coding agent prints into audit
// events, so the trail shows the commands the agent ran (with exit codes),
// its messages, the files it says it changed and its token usage.
//
// A Parser reads one format, chosen by the agent preset:
//
//   - "agentgate": the agentgate event format below, for agentgate's own
//     agent and any agent or wrapper that wants its actions on the record;
//   - "codex": the JSONL stream of `codex exec --json` (thread.*, turn.*,
//     item.* with command_execution, file_change, agent_message, todo_list
//     and error items, usage on turn.completed); a command with status
//     "declined" is recorded as declined, not as a command that ran;
//   - "claude-code": the stream-json output of `claude -p` (system/init,
//     assistant messages with text and tool_use blocks, user messages with
//     tool_result blocks, a final result with usage, errors[] and
//     permission_denials); a Bash call refused permission is declined, and
//     usage counts cache writes and reads as input.
//
// testdata/ holds an event stream per format built from the CLI's own
// type definitions and tests at the pinned version, with its provenance
// and what a correct parse gives (testdata/README.md).
//
// Output is hostile. A line that is not JSON, is over MaxLine bytes, or has
// an unknown type or wrong field types yields no event (the caller keeps it
// as plain output); it is never an error. Every string is made valid UTF-8
// and bounded; numbers must be whole and in range.
//
// # The agentgate event format
//
// One JSON object per line on standard output; any other line is plain
// output. The "type" field says what happened:
//
//	{"type":"command","command":"go test ./...","exit_code":0,"duration_ms":5120}
//	{"type":"message","text":"Fixed the off-by-one in parse.go."}
//	{"type":"file_change","path":"parse.go","op":"modified"}
//	{"type":"usage","input_tokens":1200,"output_tokens":340,"model":"gpt-4.1"}
//	{"type":"tool","name":"apply_patch"}
//
// command: a shell command the agent ran; exit_code (integer) and
// duration_ms (integer) are optional. message: text for the reader
// (kept up to 4 KiB); "error": true marks a failure report. file_change:
// a path relative to /workspace and op, one of "added", "modified",
// "deleted", "renamed". usage: token counts of model calls since the
// previous usage line (integers) and the model name. tool: the name of a
// tool the model called, one line per call (the shell tool too; what it
// ran is a command line). Unknown fields are ignored, so the format can
// grow.
//
// Events produced: telemetry.KindAgentCommand, KindAgentMessage,
// KindFileChanged (with source "agent"; agentgate still computes the real
// changes from the work tree), KindLLMUsage and KindAgentTool, all with
// actor "agent".
package agentevents
