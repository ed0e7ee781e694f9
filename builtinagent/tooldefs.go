package builtinagent

import "encoding/json"

// toolDef is a function tool offered to the model.
type toolDef struct {
	Type     string      `json:"type"`
	Function functionDef `json:"function"`
}

type functionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

func fn(name, desc, params string) toolDef {
	return toolDef{Type: "function", Function: functionDef{Name: name, Description: desc, Parameters: json.RawMessage(params)}}
}

// toolDefs are the tools the agent offers, as JSON schema functions.
var toolDefs = []toolDef{
	fn("list_files", "List the entries of a directory in /workspace (directories end with /).",
		`{"type":"object","properties":{"path":{"type":"string","description":"directory, relative to /workspace; default ."}},"additionalProperties":false}`),
	fn("read_file", "Read a text file in /workspace, with line numbers. Large files are cut; use start_line and end_line to page.",
		`{"type":"object","properties":{"path":{"type":"string"},"start_line":{"type":"integer","minimum":1},"end_line":{"type":"integer","minimum":1}},"required":["path"],"additionalProperties":false}`),
	fn("search", "Search files under a path in /workspace for a regular expression (Go RE2 syntax); returns file:line: text matches.",
		`{"type":"object","properties":{"pattern":{"type":"string"},"path":{"type":"string","description":"file or directory; default ."}},"required":["pattern"],"additionalProperties":false}`),
	fn("write_file", "Create or replace a file in /workspace with the given content.",
		`{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"],"additionalProperties":false}`),
	fn("apply_patch", "Apply a unified diff (as produced by git diff or diff -u) to files in /workspace. Paths are relative to /workspace; a/ and b/ prefixes are accepted. Either every hunk applies or nothing changes.",
		`{"type":"object","properties":{"diff":{"type":"string"}},"required":["diff"],"additionalProperties":false}`),
	fn("run", "Run a shell command (sh -c) in /workspace and return its exit code and output. There is no network.",
		`{"type":"object","properties":{"command":{"type":"string"},"timeout_seconds":{"type":"integer","minimum":1}},"required":["command"],"additionalProperties":false}`),
	fn("finish", "Call when the task is done (or cannot be done), with a short summary of the change for the pull request.",
		`{"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"],"additionalProperties":false}`),
}

// systemPrompt tells the model where it is and what to do.
const systemPrompt = `You are a careful software engineer working on a task in a repository checked out at /workspace.
You have no network access except to this model. You can only act through the tools: list_files, read_file, search, write_file, apply_patch, run and finish.
Work in small steps: look at the relevant files, make the change with write_file or apply_patch, run the project's tests or build with run when that is useful, and fix what fails.
All paths are relative to /workspace; you cannot read or write anything outside it.
Do not commit, push or create branches: the change you leave in /workspace becomes a pull request.
When you are done, call finish with a short summary of what you changed and why (a few sentences or bullets, in Markdown).`
