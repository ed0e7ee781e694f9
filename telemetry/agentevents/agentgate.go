package agentevents

import "github.com/agentgate/agentgate/telemetry"

// agentgateLine parses one line of the agentgate event format.
func agentgateLine(o obj) []telemetry.Event {
	switch o.str("type", maxName) {
	case "command":
		if cmd := o.str("command", maxCommand); cmd != "" {
			return []telemetry.Event{commandEvent(cmd, o, "exit_code", "duration_ms")}
		}
	case "message":
		if text := o.str("text", maxText); text != "" {
			a := map[string]any{"text": text}
			if o.boolean("error") {
				a["error"] = true
			}
			return []telemetry.Event{event(telemetry.KindAgentMessage, a)}
		}
	case "file_change":
		if ev, ok := fileEvent(o.str("path", maxPath), o.str("op", maxName)); ok {
			return []telemetry.Event{ev}
		}
	case "usage":
		if ev, ok := usageEvent(o, o.str("model", maxName)); ok {
			return []telemetry.Event{ev}
		}
	case "tool":
		if name := o.str("name", maxName); name != "" {
			return []telemetry.Event{event(telemetry.KindAgentTool, map[string]any{"name": name})}
		}
	}
	return nil
}
