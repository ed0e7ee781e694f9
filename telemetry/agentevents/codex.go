package agentevents

import (
	"strings"

	"github.com/agentgate/agentgate/telemetry"
)

// codexLine parses one line of `codex exec --json`: the ThreadEvent enum of
// codex-rs/exec/src/exec_events.rs (see testdata/README.md).
func (p *Parser) codexLine(o obj) []telemetry.Event {
	switch o.str("type", maxName) {
	case "item.started", "item.updated":
		if it := o.sub("item"); codexItemType(it) == "command_execution" {
			if id := it.str("id", maxName); id != "" {
				if _, seen := p.pending[id]; !seen {
					p.start(id, it.str("command", maxCommand))
				}
			}
		}
	case "item.completed":
		return p.codexItem(o.sub("item"))
	case "turn.completed":
		if ev, ok := usageEvent(o.sub("usage"), ""); ok {
			return []telemetry.Event{ev}
		}
	case "turn.failed":
		return errorMessage(o.sub("error").str("message", maxText))
	case "error":
		return errorMessage(o.str("message", maxText))
	}
	return nil
}

// codexItemType is an item's type; early releases called it item_type.
func codexItemType(it obj) string {
	if t := it.str("type", maxName); t != "" {
		return t
	}
	return it.str("item_type", maxName)
}

// codexItem turns a completed item into events.
func (p *Parser) codexItem(it obj) []telemetry.Event {
	switch codexItemType(it) {
	case "command_execution":
		cmd, _ := p.finish(it.str("id", maxName))
		if c := it.str("command", maxCommand); c != "" {
			cmd = c
		}
		if cmd == "" {
			return nil
		}
		// CommandExecutionStatus: in_progress, completed, failed, declined.
		// A declined command did not run: it has no exit code.
		if it.str("status", maxName) == "declined" {
			return []telemetry.Event{event(telemetry.KindAgentCommand, map[string]any{"command": cmd, "declined": true})}
		}
		ev := commandEvent(cmd, it, "exit_code", "duration_ms")
		if it.str("status", maxName) == "failed" {
			ev.Attrs["failed"] = true
		}
		return []telemetry.Event{ev}
	case "file_change":
		// PatchApplyStatus: a failed patch changed nothing.
		var paths []string
		var out []telemetry.Event
		failed := it.str("status", maxName) == "failed"
		for i, c := range it.list("changes") {
			if i == maxFilesPerLine {
				break
			}
			ch, _ := c.(map[string]any)
			path := obj(ch).str("path", maxPath)
			if failed {
				if path != "" && len(paths) < 20 {
					paths = append(paths, path)
				}
				continue
			}
			op := map[string]string{"add": "added", "delete": "deleted", "update": "modified"}[obj(ch).str("kind", maxName)]
			if ev, ok := fileEvent(path, op); ok {
				out = append(out, ev)
			}
		}
		if failed {
			return errorMessage(bound("patch failed: "+strings.Join(paths, ", "), maxText))
		}
		return out
	case "agent_message", "assistant_message":
		if text := it.str("text", maxText); text != "" {
			return []telemetry.Event{event(telemetry.KindAgentMessage, map[string]any{"text": text})}
		}
	case "todo_list":
		return codexTodo(it)
	case "error":
		return errorMessage(it.str("message", maxText))
	}
	return nil
}

// codexTodo renders the agent's final to-do list as one message, a
// Markdown task list, marked "todo".
func codexTodo(it obj) []telemetry.Event {
	var b strings.Builder
	for i, t := range it.list("items") {
		if i == maxFilesPerLine {
			break
		}
		m, _ := t.(map[string]any)
		todo := obj(m)
		text := strings.ReplaceAll(todo.str("text", maxText), "\n", " ")
		if text == "" {
			continue
		}
		mark := "[ ]"
		if todo.boolean("completed") {
			mark = "[x]"
		}
		b.WriteString("- " + mark + " " + text + "\n")
	}
	if b.Len() == 0 {
		return nil
	}
	return []telemetry.Event{event(telemetry.KindAgentMessage, map[string]any{"text": bound(strings.TrimSuffix(b.String(), "\n"), maxText), "todo": true})}
}

// errorMessage is an agent.message marked as an error, or nothing for "".
func errorMessage(text string) []telemetry.Event {
	if text == "" {
		return nil
	}
	return []telemetry.Event{event(telemetry.KindAgentMessage, map[string]any{"text": text, "error": true})}
}
