package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// codexFlags are the options of `codex exec` at @openai/codex 0.146.1
// (codex-rs/exec/src/cli.rs and codex-rs/utils/cli/src/shared_options.rs,
// config_override.rs at openai/codex 02805335): clap refuses anything else
// with exit code 2.
var codexFlags = []flagSpec{
	{long: "config", short: "c", value: true},
	{long: "image", short: "i", value: true},
	{long: "model", short: "m", value: true},
	{long: "oss"},
	{long: "local-provider", value: true},
	{long: "profile", short: "p", value: true},
	{long: "sandbox", short: "s", value: true, choices: []string{"read-only", "workspace-write", "danger-full-access"}},
	{long: "dangerously-bypass-approvals-and-sandbox", aliases: []string{"yolo"}},
	{long: "not-so-yolo"},
	{long: "cd", short: "C", value: true},
	{long: "add-dir", value: true},
	{long: "skip-git-repo-check"},
	{long: "ephemeral"},
	{long: "ignore-user-config"},
	{long: "ignore-rules"},
	{long: "full-auto"}, // hidden: the "removed" flag's compatibility trap
	{long: "output-schema", value: true},
	{long: "color", value: true, choices: []string{"always", "never", "auto"}},
	{long: "json", aliases: []string{"experimental-json"}},
	{long: "output-last-message", short: "o", value: true},
}

// codexProvider is a model_providers entry (model-provider-info/src/lib.rs
// ModelProviderInfo).
type codexProvider struct {
	Name               string `toml:"name"`
	BaseURL            string `toml:"base_url"`
	EnvKey             string `toml:"env_key"`
	WireAPI            string `toml:"wire_api"`
	SupportsWebsockets bool   `toml:"supports_websockets"`
	RequiresOpenAIAuth bool   `toml:"requires_openai_auth"`
}

// codexContract is `codex exec` as its source at the pinned version
// starts: the argument parser, CODEX_HOME, the -c overrides, the model
// provider and its key, the sandbox, the prompt. It then runs one turn
// against the provider with the Responses API and prints the exec --json
// events of codex-rs/exec/src/exec_events.rs.
func codexContract(r *run) error {
	if len(r.args) == 0 || r.args[0] != "exec" {
		return exitError{2, "stub codex: only `codex exec` is emulated"}
	}
	p, err := parseFlags(r.args[1:], codexFlags)
	if err != nil {
		return exitError{2, err.Error()}
	}
	if len(p.args) > 1 {
		return exitError{2, fmt.Sprintf("error: unexpected argument '%s' found", p.args[1])}
	}
	if p.has("full-auto") && (p.has("dangerously-bypass-approvals-and-sandbox") || p.has("not-so-yolo")) {
		return exitError{2, "error: the argument '--full-auto' cannot be used with '--dangerously-bypass-approvals-and-sandbox'"}
	}
	if p.has("dangerously-bypass-approvals-and-sandbox") && p.has("not-so-yolo") {
		return exitError{2, "error: the argument '--not-so-yolo' cannot be used with '--dangerously-bypass-approvals-and-sandbox'"}
	}
	if p.has("full-auto") {
		fmt.Fprintln(r.errOut, "warning: `--full-auto` is deprecated; use `--sandbox workspace-write` instead.")
	}
	// -c overrides (config_override.rs parse_overrides): key=value, the
	// value parsed as TOML, else taken as a string.
	cfg := map[string]any{}
	for _, kv := range p.flags["config"] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return exitError{1, "Error parsing -c overrides: Invalid override (missing '='): " + kv}
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" {
			return exitError{1, "Error parsing -c overrides: Empty key in override: " + kv}
		}
		var doc map[string]any
		var val any
		if _, err := toml.Decode("_x_ = "+v, &doc); err == nil {
			val = doc["_x_"]
		} else {
			val = strings.Trim(v, `"'`)
		}
		setPath(cfg, strings.Split(k, "."), val)
	}
	// CODEX_HOME (utils/home-dir find_codex_home).
	home := r.env["CODEX_HOME"]
	if home != "" {
		fi, err := os.Stat(home)
		switch {
		case os.IsNotExist(err):
			return exitError{1, fmt.Sprintf("Error finding codex home: CODEX_HOME points to %q, but that path does not exist", home)}
		case err != nil:
			return exitError{1, fmt.Sprintf("Error finding codex home: failed to read CODEX_HOME %q: %v", home, err)}
		case !fi.IsDir():
			return exitError{1, fmt.Sprintf("Error finding codex home: CODEX_HOME points to %q, but that path is not a directory", home)}
		}
	} else {
		home = filepath.Join(r.env["HOME"], ".codex")
	}
	// arg0: helper links are refused under the temporary directory.
	tmp := r.env["TMPDIR"]
	if tmp == "" {
		tmp = "/tmp"
	}
	if rel, err := filepath.Rel(filepath.Clean(tmp), filepath.Clean(home)); err == nil && !strings.HasPrefix(rel, "..") {
		fmt.Fprintf(r.errOut, "WARNING: proceeding, even though we could not update PATH: Refusing to create helper binaries under temporary dir %q (codex_home: %q)\n", tmp, home)
	} else if err := os.MkdirAll(filepath.Join(home, "tmp", "path2"), 0o700); err != nil {
		return exitError{1, "stub codex: CODEX_HOME is not writable: " + err.Error()}
	}
	// The working root (-C) must exist.
	cwd := p.last("cd")
	if cwd != "" {
		if err := os.Chdir(cwd); err != nil {
			return exitError{1, "Error: " + err.Error()}
		}
	}
	// Sandbox: agentgate's container has no user namespaces and no
	// capabilities, so Codex's own sandbox (bubblewrap for workspace-write
	// and read-only) cannot start and commands would not run.
	sandbox := p.last("sandbox")
	switch {
	case p.has("dangerously-bypass-approvals-and-sandbox"):
		sandbox = "danger-full-access"
	case p.has("full-auto"), p.has("not-so-yolo"):
		sandbox = "workspace-write"
	case sandbox == "":
		if s, ok := cfg["sandbox_mode"].(string); ok {
			sandbox = s
		} else {
			sandbox = "read-only"
		}
	}
	if sandbox != "danger-full-access" {
		return exitError{1, "stub codex: sandbox " + sandbox + " needs bubblewrap and user namespaces, which the container does not have: every command the model runs would fail"}
	}
	// Git check (lib.rs run_exec_session).
	if !p.has("skip-git-repo-check") && !p.has("dangerously-bypass-approvals-and-sandbox") {
		if _, err := os.Stat(".git"); err != nil {
			return exitError{1, "Not inside a trusted directory and --skip-git-repo-check was not specified."}
		}
	}
	// The model provider (config/mod.rs, model-provider-info/src/lib.rs).
	providerID, _ := cfg["model_provider"].(string)
	if providerID == "" {
		providerID = "openai"
	}
	var prov codexProvider
	switch providerID {
	case "openai":
		// The built-in provider: OPENAI_BASE_URL is not read; the base URL
		// is openai_base_url or api.openai.com, and the key is
		// CODEX_API_KEY or auth.json; OPENAI_API_KEY is not read.
		base, _ := cfg["openai_base_url"].(string)
		if base == "" {
			return exitError{1, "stub codex: the built-in openai provider would call https://api.openai.com/v1 (OPENAI_BASE_URL is not read; set openai_base_url or a model provider)"}
		}
		if r.env["CODEX_API_KEY"] == "" {
			if _, err := os.Stat(filepath.Join(home, "auth.json")); err != nil {
				return exitError{1, "stub codex: no CODEX_API_KEY and no auth.json: the openai provider has no key (OPENAI_API_KEY is not read)"}
			}
		}
		return exitError{1, "stub codex: the built-in openai provider supports WebSockets and would try one to /responses first"}
	case "ollama", "lmstudio", "amazon-bedrock":
		return exitError{1, "stub codex: provider " + providerID + " is not emulated"}
	default:
		raw, ok := cfg["model_providers"].(map[string]any)[providerID]
		if !ok {
			return exitError{1, fmt.Sprintf("Error loading config.toml: Model provider `%s` not found", providerID)}
		}
		b, _ := json.Marshal(raw)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if err := decodeProvider(m, &prov); err != nil {
			return exitError{1, "Error loading config.toml: " + err.Error()}
		}
	}
	if prov.WireAPI == "chat" {
		return exitError{1, "Error loading config.toml: `wire_api = \"chat\"` is no longer supported."}
	}
	if prov.WireAPI != "" && prov.WireAPI != "responses" {
		return exitError{1, fmt.Sprintf("Error loading config.toml: unknown variant `%s`, expected `responses`", prov.WireAPI)}
	}
	if prov.SupportsWebsockets {
		return exitError{1, "stub codex: the provider supports_websockets: Codex would open a WebSocket to /responses first, which the gateway does not serve"}
	}
	if prov.BaseURL == "" {
		return exitError{1, "stub codex: the provider has no base_url: Codex would call https://api.openai.com/v1"}
	}
	key := ""
	if prov.EnvKey != "" {
		key = strings.TrimSpace(r.env[prov.EnvKey])
		if key == "" {
			return exitError{1, fmt.Sprintf("Missing environment variable: `%s`.", prov.EnvKey)}
		}
	}
	// The prompt: "-" or none reads standard input.
	prompt := ""
	if len(p.args) == 1 && p.args[0] != "-" {
		prompt = p.args[0]
	} else {
		prompt = strings.TrimSpace(r.stdin)
		if prompt == "" {
			return exitError{1, "No prompt provided via stdin."}
		}
	}
	return codexTurn(r, prov, key, p.last("model"), prompt)
}

// decodeProvider reads a model_providers entry, refusing unknown fields as
// Codex's config does.
func decodeProvider(m map[string]any, prov *codexProvider) error {
	known := map[string]bool{"name": true, "base_url": true, "env_key": true, "env_key_instructions": true,
		"experimental_bearer_token": true, "auth": true, "aws": true, "wire_api": true, "query_params": true,
		"http_headers": true, "env_http_headers": true, "request_max_retries": true, "stream_max_retries": true,
		"stream_idle_timeout_ms": true, "websocket_connect_timeout_ms": true, "requires_openai_auth": true,
		"supports_websockets": true}
	for k := range m {
		if !known[k] {
			return fmt.Errorf("unknown field `%s` in model provider", k)
		}
	}
	b, _ := json.Marshal(m)
	var j struct {
		Name               string `json:"name"`
		BaseURL            string `json:"base_url"`
		EnvKey             string `json:"env_key"`
		WireAPI            string `json:"wire_api"`
		SupportsWebsockets bool   `json:"supports_websockets"`
		RequiresOpenAIAuth bool   `json:"requires_openai_auth"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("model provider: %w", err)
	}
	*prov = codexProvider(j)
	return nil
}

// setPath sets a dotted path in a nested map, creating tables.
func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// codexTurn prints thread.started and turn.started, calls the provider's
// /responses (streaming, as codex-rs/core's client does) when the task
// asks for an edit, writes the reply and prints the items and usage.
func codexTurn(r *run, prov codexProvider, key, model, prompt string) error {
	emit(r.out, map[string]any{"type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"})
	emit(r.out, map[string]any{"type": "turn.started"})
	target, err := editTarget(prompt)
	if err != nil {
		return exitError{1, err.Error()}
	}
	if target == "" {
		emit(r.out, map[string]any{"type": "item.completed", "item": map[string]any{"id": "item_0", "type": "agent_message", "text": "Nothing to do."}})
		emit(r.out, map[string]any{"type": "turn.completed", "usage": map[string]any{"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}})
		return nil
	}
	if model == "" {
		model = "gpt-5-codex"
	}
	headers := map[string]string{"OpenAI-Beta": "responses=experimental", "originator": "codex_exec"}
	if key != "" {
		headers["Authorization"] = "Bearer " + key
	}
	body := map[string]any{
		"model":        model,
		"instructions": "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI on a user's computer.",
		"input": []any{map[string]any{"type": "message", "role": "user", "content": []any{
			map[string]any{"type": "input_text", "text": prompt}}}},
		"tools":               []any{map[string]any{"type": "function", "name": "shell", "description": "Runs a shell command and returns its output.", "strict": false, "parameters": map[string]any{"type": "object", "properties": map[string]any{"command": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}, "required": []string{"command"}}}},
		"tool_choice":         "auto",
		"parallel_tool_calls": false,
		"reasoning":           map[string]any{"effort": "medium", "summary": "auto"},
		"store":               false,
		"stream":              true,
		"include":             []string{"reasoning.encrypted_content"},
		"prompt_cache_key":    "0199a213-81c0-7800-8aa1-bbab2a035a53",
	}
	evs, err := postStream(strings.TrimRight(prov.BaseURL, "/")+"/responses", headers, body)
	if err != nil {
		emit(r.out, map[string]any{"type": "turn.failed", "error": map[string]any{"message": err.Error()}})
		return exitError{1, err.Error()}
	}
	var text strings.Builder
	var usage map[string]any
	for _, ev := range evs {
		var d struct {
			Type     string `json:"type"`
			Delta    string `json:"delta"`
			Response struct {
				Usage struct {
					InputTokens        int `json:"input_tokens"`
					InputTokensDetails struct {
						CachedTokens int `json:"cached_tokens"`
					} `json:"input_tokens_details"`
					OutputTokens int `json:"output_tokens"`
				} `json:"usage"`
			} `json:"response"`
		}
		if json.Unmarshal([]byte(ev.data), &d) != nil {
			continue
		}
		switch d.Type {
		case "response.output_text.delta":
			text.WriteString(d.Delta)
		case "response.completed":
			u := d.Response.Usage
			usage = map[string]any{"input_tokens": u.InputTokens, "cached_input_tokens": u.InputTokensDetails.CachedTokens, "output_tokens": u.OutputTokens}
		}
	}
	if usage == nil {
		msg := "stream disconnected before completion: stream closed before response.completed"
		emit(r.out, map[string]any{"type": "turn.failed", "error": map[string]any{"message": msg}})
		return exitError{1, msg}
	}
	cmd := "bash -lc 'cat " + target + "'"
	emit(r.out, map[string]any{"type": "item.started", "item": map[string]any{"id": "item_1", "type": "command_execution", "command": cmd, "aggregated_output": "", "exit_code": nil, "status": "in_progress"}})
	emit(r.out, map[string]any{"type": "item.completed", "item": map[string]any{"id": "item_1", "type": "command_execution", "command": cmd, "aggregated_output": "", "exit_code": 0, "status": "completed"}})
	kind := "update"
	if _, err := os.Stat(target); err != nil {
		kind = "add"
	}
	if err := writeWork(target, text.String()); err != nil {
		return exitError{1, err.Error()}
	}
	emit(r.out, map[string]any{"type": "item.completed", "item": map[string]any{"id": "item_2", "type": "file_change", "changes": []any{map[string]any{"path": target, "kind": kind}}, "status": "completed"}})
	emit(r.out, map[string]any{"type": "item.completed", "item": map[string]any{"id": "item_3", "type": "agent_message", "text": "Updated " + target + "."}})
	emit(r.out, map[string]any{"type": "turn.completed", "usage": usage})
	return nil
}
