package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// claudeFlags are options of the claude CLI at @anthropic-ai/claude-code
// 2.1.240 (those claude-agent-sdk-python's subprocess_cli.py passes at
// commit e8bde60, and the headless-mode ones agentgate's preset uses);
// commander refuses others.
var claudeFlags = []flagSpec{
	{long: "print", short: "p"},
	{long: "output-format", value: true, choices: []string{"text", "json", "stream-json"}},
	{long: "input-format", value: true, choices: []string{"text", "stream-json"}},
	{long: "verbose"},
	{long: "debug", short: "d"},
	{long: "dangerously-skip-permissions"},
	{long: "permission-mode", value: true, choices: []string{"acceptEdits", "bypassPermissions", "default", "dontAsk", "plan", "auto"}},
	{long: "model", value: true},
	{long: "fallback-model", value: true},
	{long: "max-turns", value: true},
	{long: "max-budget-usd", value: true},
	{long: "system-prompt", value: true},
	{long: "append-system-prompt", value: true},
	{long: "allowedTools", aliases: []string{"allowed-tools"}, value: true},
	{long: "disallowedTools", aliases: []string{"disallowed-tools"}, value: true},
	{long: "tools", value: true},
	{long: "mcp-config", value: true},
	{long: "strict-mcp-config"},
	{long: "settings", value: true},
	{long: "setting-sources", value: true},
	{long: "add-dir", value: true},
	{long: "include-partial-messages"},
	{long: "no-session-persistence"},
	{long: "session-id", value: true},
	{long: "continue", short: "c"},
	{long: "resume", short: "r", value: true},
}

// claudeContract is `claude -p` as the CLI starts: its parser, the
// stream-json/--verbose rule, bypassPermissions refused to root, a
// prompt, an API key and a base URL. It then runs one turn against the
// Messages API (count_tokens, then a streamed /v1/messages) when the task
// asks for an edit, and prints stream-json messages.
func claudeContract(r *run) error {
	p, err := parseFlags(r.args, claudeFlags)
	var ue usageError
	if errors.As(err, &ue) && ue.arg != "" {
		return exitError{1, fmt.Sprintf("error: unknown option '%s'", ue.arg)}
	}
	if err != nil {
		return exitError{1, err.Error()}
	}
	if !p.has("print") {
		return exitError{1, "stub claude: only headless mode (-p) is emulated"}
	}
	format := p.last("output-format")
	if format == "" {
		format = "text"
	}
	if format == "stream-json" && !p.has("verbose") {
		return exitError{1, "Error: When using --print, --output-format=stream-json requires --verbose"}
	}
	bypass := p.has("dangerously-skip-permissions") || p.last("permission-mode") == "bypassPermissions"
	if bypass && r.uid == 0 && r.env["IS_SANDBOX"] != "1" {
		return exitError{1, "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons"}
	}
	prompt := strings.Join(p.args, " ")
	if prompt == "" {
		prompt = strings.TrimSpace(r.stdin)
	}
	if prompt == "" {
		return exitError{1, "Error: Input must be provided either through stdin or as a prompt argument when using --print"}
	}
	// The CLI keeps its state in $HOME/.claude and $HOME/.claude.json.
	if err := os.MkdirAll(filepath.Join(r.env["HOME"], ".claude"), 0o700); err != nil {
		return exitError{1, "stub claude: HOME is not writable: " + err.Error()}
	}
	base := strings.TrimRight(r.env["ANTHROPIC_BASE_URL"], "/")
	if base == "" {
		return exitError{1, "stub claude: no ANTHROPIC_BASE_URL: the CLI would call https://api.anthropic.com"}
	}
	key := r.env["ANTHROPIC_API_KEY"]
	if key == "" && r.env["ANTHROPIC_AUTH_TOKEN"] == "" {
		emit(r.out, map[string]any{"type": "result", "subtype": "success", "is_error": true, "result": "Invalid API key · Please run /login", "num_turns": 0, "session_id": "s"})
		return exitError{1, ""}
	}
	model := p.last("model")
	if model == "" {
		model = "claude-sonnet-4-5"
	}
	mode := "default"
	if bypass {
		mode = "bypassPermissions"
	}
	session := "fdf2d90a-fd9e-4736-ae35-806edd13643f"
	cwd, _ := os.Getwd()
	emit(r.out, map[string]any{"type": "system", "subtype": "init", "cwd": cwd, "session_id": session,
		"tools": []string{"Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write", "TodoWrite"}, "mcp_servers": []any{},
		"model": model, "permissionMode": mode, "apiKeySource": "ANTHROPIC_API_KEY", "claude_code_version": "2.1.240", "output_style": "default"})
	target, err := editTarget(prompt)
	if err != nil {
		return exitError{1, err.Error()}
	}
	if target == "" {
		emit(r.out, map[string]any{"type": "result", "subtype": "success", "is_error": false, "num_turns": 1, "result": "Nothing to do.", "session_id": session,
			"usage": map[string]any{"input_tokens": 0, "output_tokens": 0}, "permission_denials": []any{}})
		return nil
	}
	headers := map[string]string{"x-api-key": key, "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219", "x-app": "cli"}
	if key == "" {
		headers["Authorization"] = "Bearer " + r.env["ANTHROPIC_AUTH_TOKEN"]
	}
	messages := []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": prompt}}}}
	var counted struct {
		InputTokens int `json:"input_tokens"`
	}
	if err := postJSON(base+"/v1/messages/count_tokens?beta=true", headers, map[string]any{"model": model, "messages": messages}, &counted); err != nil {
		return claudeFail(r, session, err)
	}
	evs, err := postStream(base+"/v1/messages?beta=true", headers, map[string]any{
		"model": model, "max_tokens": 32000, "stream": true, "messages": messages,
		"system":   []any{map[string]any{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}},
		"tools":    []any{map[string]any{"name": "Write", "description": "Writes a file to the local filesystem.", "input_schema": map[string]any{"type": "object", "properties": map[string]any{"file_path": map[string]any{"type": "string"}, "content": map[string]any{"type": "string"}}, "required": []string{"file_path", "content"}}}},
		"metadata": map[string]any{"user_id": "user_agentgate_session_" + session},
	})
	if err != nil {
		return claudeFail(r, session, err)
	}
	var text strings.Builder
	usage := map[string]any{}
	stopped := false
	for _, ev := range evs {
		var d struct {
			Type    string `json:"type"`
			Message struct {
				Usage map[string]any `json:"usage"`
			} `json:"message"`
			Delta struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"delta"`
			Usage map[string]any `json:"usage"`
		}
		if json.Unmarshal([]byte(ev.data), &d) != nil {
			continue
		}
		switch d.Type {
		case "message_start":
			for k, v := range d.Message.Usage {
				usage[k] = v
			}
		case "content_block_delta":
			if d.Delta.Type == "text_delta" {
				text.WriteString(d.Delta.Text)
			}
		case "message_delta":
			for k, v := range d.Usage {
				usage[k] = v
			}
		case "message_stop":
			stopped = true
		}
	}
	if !stopped {
		return claudeFail(r, session, fmt.Errorf("stream ended without message_stop"))
	}
	abs := filepath.Join(cwd, target)
	emit(r.out, map[string]any{"type": "assistant", "session_id": session, "parent_tool_use_id": nil, "message": map[string]any{
		"id": "msg_01", "type": "message", "role": "assistant", "model": model, "stop_reason": "tool_use", "usage": usage,
		"content": []any{
			map[string]any{"type": "text", "text": "I'll update " + target + "."},
			map[string]any{"type": "tool_use", "id": "toolu_01", "name": "Write", "input": map[string]any{"file_path": abs, "content": text.String()}},
		}}})
	if err := writeWork(target, text.String()); err != nil {
		return exitError{1, err.Error()}
	}
	emit(r.out, map[string]any{"type": "user", "session_id": session, "parent_tool_use_id": nil, "message": map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "tool_result", "tool_use_id": "toolu_01", "content": "File created successfully at: " + abs}}}})
	emit(r.out, map[string]any{"type": "result", "subtype": "success", "is_error": false, "duration_ms": 1200, "duration_api_ms": 1000, "num_turns": 2,
		"result": "Updated " + target + ".", "stop_reason": "end_turn", "session_id": session, "usage": usage, "permission_denials": []any{}, "terminal_reason": "completed"})
	return nil
}

// claudeFail prints the result an API failure ends a -p session with:
// subtype success, is_error, the text in result.
func claudeFail(r *run, session string, err error) error {
	emit(r.out, map[string]any{"type": "result", "subtype": "success", "is_error": true, "num_turns": 1, "session_id": session,
		"result": "API Error: " + err.Error(), "errors": []any{}, "terminal_reason": "api_error"})
	return exitError{1, ""}
}
