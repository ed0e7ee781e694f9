package agentevents

import "github.com/agentgate/agentgate/telemetry"

// codexLine parses one line of `codex exec --json`.
func (p *Parser) codexLine(o obj) []telemetry.Event {
	switch o.str("type", maxName) {
	case "item.started":
		if it := o.sub("item"); codexItemType(it) == "command_execution" {
			p.start(it.str("id", maxName), it.str("command", maxCommand))
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
		ev := commandEvent(cmd, it, "exit_code", "duration_ms")
		if it.str("status", maxName) == "failed" {
			ev.Attrs["failed"] = true
		}
		return []telemetry.Event{ev}
	case "file_change":
		var evs []telemetry.Event
		for i, c := range it.list("changes") {
			if i == maxFilesPerLine {
				break
			}
			ch, _ := c.(map[string]any)
			op := map[string]string{"add": "added", "delete": "deleted", "update": "modified"}[obj(ch).str("kind", maxName)]
			if ev, ok := fileEvent(obj(ch).str("path", maxPath), op); ok {
				evs = append(evs, ev)
			}
		}
		return evs
	case "agent_message", "assistant_message":
		if text := it.str("text", maxText); text != "" {
			return []telemetry.Event{event(telemetry.KindAgentMessage, map[string]any{"text": text})}
		}
	case "error":
		return errorMessage(it.str("message", maxText))
	}
	return nil
}

// errorMessage is an agent.message marked as an error, or nothing for "".
func errorMessage(text string) []telemetry.Event {
	if text == "" {
		return nil
	}
	return []telemetry.Event{event(telemetry.KindAgentMessage, map[string]any{"text": text, "error": true})}
}
