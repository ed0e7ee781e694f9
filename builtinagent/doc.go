// Package builtinagent is agentgate's built-in coding agent (`agentgate
// agent`, the agent preset "builtin", in the image agentgate/agent:dev): a
// plain tool-using loop against an OpenAI-compatible chat completions API
// (in a run, the gateway). The model gets tools to list, read, search and
// write files, apply a unified diff, run a shell command and finish; every
// path is confined to the workspace with os.Root, every output is bounded,
// and the number of model calls is budgeted.
//
// The agent prints the agentgate event format on its stdout, one JSON
// object a line:
//
//	{"type":"message","text":"..."}
//	{"type":"command","command":"go test ./...","exit_code":0}
//	{"type":"file_change","path":"main.go","op":"update"}
//	{"type":"usage","input_tokens":10,"output_tokens":5,"model":"gpt-4o-mini"}
//	{"type":"tool","name":"apply_patch"}
//
// and writes the run's summary (finish's summary, else the model's last
// message) to summary.md in its output directory.
package builtinagent
