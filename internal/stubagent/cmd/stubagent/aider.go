package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// aiderBool are aider's argparse.BooleanOptionalAction options at
// aider-chat 0.86.2 (aider/args.py at tag v0.86.2) that the stub knows:
// each accepts --x and --no-x.
var aiderBool = []string{"auto-commits", "dirty-commits", "gitignore", "check-update", "show-release-notes",
	"pretty", "fancy-input", "restore-chat-history", "stream", "git", "suggest-shell-commands", "attribute-author",
	"attribute-committer", "git-commit-verify", "auto-lint", "auto-test", "analytics", "notifications", "show-diffs",
	"detect-urls", "verify-ssl", "add-gitignore-files"}

// aiderFlags are the other options the stub knows.
var aiderFlags = func() []flagSpec {
	specs := []flagSpec{
		{long: "message-file", short: "f", value: true},
		{long: "message", short: "m", aliases: []string{"msg"}, value: true},
		{long: "yes-always"},
		{long: "analytics-disable"},
		{long: "chat-history-file", value: true},
		{long: "input-history-file", value: true},
		{long: "model", value: true},
		{long: "edit-format", aliases: []string{"chat-mode"}, value: true},
		{long: "map-tokens", value: true},
		{long: "config", short: "c", value: true},
		{long: "env-file", value: true},
		{long: "verbose", short: "v"},
		{long: "read", value: true},
		{long: "file", value: true},
	}
	for _, b := range aiderBool {
		specs = append(specs, flagSpec{long: b}, flagSpec{long: "no-" + b})
	}
	return specs
}()

// aiderContract is aider in scripting mode as aider/main.py at v0.86.2
// starts: argparse, the message file, the release-notes offer on a first
// run, the git identity setup_git writes when git has none, litellm's
// OpenAI settings. It then sends the message as a streamed chat completion
// when the task asks for an edit and writes the reply; a suggested shell
// command is declined, as --yes-always does.
func aiderContract(r *run) error {
	p, err := parseFlags(r.args, aiderFlags)
	var ue usageError
	if errors.As(err, &ue) && ue.arg != "" {
		return exitError{2, "usage: aider [-h] ...\naider: error: unrecognized arguments: " + ue.arg}
	}
	if err != nil {
		return exitError{2, "usage: aider [-h] ...\naider: " + err.Error()}
	}
	if len(p.args) > 0 {
		// Positionals are files to edit; agentgate's preset names none.
		return exitError{1, fmt.Sprintf("stub aider: the command line names files %q", p.args)}
	}
	yes := p.has("yes-always")
	answer := func(q string, explicitYes bool) bool {
		res := yes && !explicitYes // io.py confirm_ask
		a := "n"
		if res {
			a = "y"
		}
		fmt.Fprintf(r.out, "%s (Y)es/(N)o [Yes]: %s\n", q, a)
		return res
	}
	message := p.last("message")
	if f := p.last("message-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return exitError{1, fmt.Sprintf("Error reading message file: %v", err)}
		}
		message = string(b)
	}
	home := r.env["HOME"]
	if err := os.MkdirAll(filepath.Join(home, ".aider"), 0o755); err != nil {
		return exitError{1, "stub aider: HOME is not writable: " + err.Error()}
	}
	// A fresh HOME is a first run of this version (is_first_run_of_new_version).
	if !p.has("no-show-release-notes") && !p.has("show-release-notes") {
		answer("Would you like to see what's new in this version?", false)
	}
	// setup_git: `git config --get user.name/user.email`, placeholders when unset.
	if _, err := os.Stat(".git"); err == nil {
		name, email := gitIdentity(r.env)
		if name == "" || email == "" {
			f, err := os.OpenFile(filepath.Join(".git", "config"), os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				fmt.Fprintf(f, "[user]\n\tname = Your Name\n\temail = you@example.com\n")
				f.Close()
			}
			fmt.Fprintln(r.out, `Update git name with: git config user.name "Your Name"`)
			fmt.Fprintln(r.out, `Update git email with: git config user.email "you@example.com"`)
		}
	}
	model := p.last("model")
	if model == "" {
		model = "gpt-4o"
	}
	provider, name, ok := strings.Cut(model, "/")
	if !ok {
		provider, name = "openai", model
	}
	if provider != "openai" {
		return exitError{1, "stub aider: only litellm's openai provider is emulated, not " + provider}
	}
	base := r.env["OPENAI_API_BASE"]
	if base == "" {
		base = r.env["OPENAI_BASE_URL"]
	}
	key := r.env["OPENAI_API_KEY"]
	if key == "" {
		return exitError{1, "litellm.AuthenticationError: OpenAIException - The api_key client option must be set"}
	}
	if base == "" {
		return exitError{1, "stub aider: no OPENAI_API_BASE: litellm would call https://api.openai.com/v1"}
	}
	fmt.Fprintf(r.out, "Aider v0.86.2\nModel: %s with diff edit format\nGit repo: .git\n", model)
	target, err := editTarget(message)
	if err != nil {
		return exitError{1, err.Error()}
	}
	if strings.TrimSpace(message) == "" || target == "" {
		return nil
	}
	evs, err := postStream(strings.TrimRight(base, "/")+"/chat/completions", map[string]string{"Authorization": "Bearer " + key}, map[string]any{
		"model": name, "stream": true, "temperature": 0,
		"messages": []any{
			map[string]any{"role": "system", "content": "Act as an expert software developer."},
			map[string]any{"role": "user", "content": message},
		},
	})
	if err != nil {
		return exitError{1, "litellm.APIError: " + err.Error()}
	}
	var text strings.Builder
	for _, ev := range evs {
		if ev.data == "[DONE]" {
			break
		}
		var d struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(ev.data), &d) == nil && len(d.Choices) > 0 {
			text.WriteString(d.Choices[0].Delta.Content)
		}
	}
	if err := writeWork(target, text.String()); err != nil {
		return exitError{1, err.Error()}
	}
	fmt.Fprintf(r.out, "Applied edit to %s\n", target)
	// base_coder.py handle_shell_commands: explicit_yes_required=True.
	fmt.Fprintf(r.out, "cat %s\n", target)
	answer("Run shell command?", true)
	return nil
}

// gitIdentity is user.name and user.email from git's command-line scope
// in the environment (GIT_CONFIG_COUNT, GIT_CONFIG_KEY_n, GIT_CONFIG_VALUE_n).
func gitIdentity(env map[string]string) (name, email string) {
	var n int
	if _, err := fmt.Sscanf(env["GIT_CONFIG_COUNT"], "%d", &n); err != nil {
		return "", ""
	}
	for i := 0; i < n && i < 100; i++ {
		switch strings.ToLower(env[fmt.Sprintf("GIT_CONFIG_KEY_%d", i)]) {
		case "user.name":
			name = env[fmt.Sprintf("GIT_CONFIG_VALUE_%d", i)]
		case "user.email":
			email = env[fmt.Sprintf("GIT_CONFIG_VALUE_%d", i)]
		}
	}
	return name, email
}
