package agentevents

import "github.com/agentgate/agentgate/telemetry"

// claudeFileTools are Claude Code's tools that write the file named by
// their file_path input.
var claudeFileTools = map[string]bool{"Edit": true, "MultiEdit": true, "Write": true, "NotebookEdit": true}

// claudeLine parses one line of `claude -p --output-format stream-json`.
func (p *Parser) claudeLine(o obj) []telemetry.Event {
	switch o.str("type", maxName) {
	case "assistant":
		return p.claudeAssistant(o.sub("message"))
	case "user":
		return p.claudeResults(o.sub("message"))
	case "result":
		var evs []telemetry.Event
		if o.boolean("is_error") {
			evs = errorMessage(o.str("result", maxText))
		}
		if ev, ok := usageEvent(o.sub("usage"), ""); ok {
			evs = append(evs, ev)
		}
		return evs
	}
	return nil
}

// claudeAssistant turns an assistant message's text and tool_use blocks
// into events; a Bash tool_use is remembered until its result arrives.
func (p *Parser) claudeAssistant(msg obj) []telemetry.Event {
	var evs []telemetry.Event
	for i, b := range msg.list("content") {
		if i == maxFilesPerLine {
			break
		}
		m, _ := b.(map[string]any)
		blk := obj(m)
		switch blk.str("type", maxName) {
		case "text":
			if text := blk.str("text", maxText); text != "" {
				evs = append(evs, event(telemetry.KindAgentMessage, map[string]any{"text": text}))
			}
		case "tool_use":
			name, in := blk.str("name", maxName), blk.sub("input")
			switch {
			case name == "Bash":
				p.start(blk.str("id", maxName), in.str("command", maxCommand))
			case claudeFileTools[name]:
				op := "modified"
				if name == "Write" {
					op = "added"
				}
				path := in.str("file_path", maxPath)
				if path == "" {
					path = in.str("notebook_path", maxPath)
				}
				if ev, ok := fileEvent(path, op); ok {
					evs = append(evs, ev)
				}
			}
		}
	}
	return evs
}

// claudeResults turns tool_result blocks answering Bash calls into
// agent.command events. Claude Code reports no exit code, only is_error.
func (p *Parser) claudeResults(msg obj) []telemetry.Event {
	var evs []telemetry.Event
	for _, b := range msg.list("content") {
		m, _ := b.(map[string]any)
		blk := obj(m)
		if blk.str("type", maxName) != "tool_result" {
			continue
		}
		cmd, ok := p.finish(blk.str("tool_use_id", maxName))
		if !ok || cmd == "" {
			continue
		}
		a := map[string]any{"command": cmd}
		if blk.boolean("is_error") {
			a["failed"] = true
		}
		evs = append(evs, event(telemetry.KindAgentCommand, a))
	}
	return evs
}
