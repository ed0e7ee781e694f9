package agentevents

import (
	"strings"

	"github.com/agentgate/agentgate/telemetry"
)

// claudeFileTools are Claude Code's tools that write the file named by
// their file_path input.
var claudeFileTools = map[string]bool{"Edit": true, "MultiEdit": true, "Write": true, "NotebookEdit": true}

// claudeDenials are how Claude Code words a tool_result for a tool call it
// did not run because permission was refused: in -p mode when a rule or
// mode denies it ("Claude requested permissions to use Bash, but you
// haven't granted it yet.") or when a user or hook rejects it.
var claudeDenials = []string{
	"Claude requested permissions to ",
	"The user doesn't want to proceed with this tool use",
	"Permission to use ",
}

// claudeLine parses one line of `claude -p --output-format stream-json`,
// whose message types claude-agent-sdk-python's types.py and
// message_parser.py define (see testdata/README.md).
func (p *Parser) claudeLine(o obj) []telemetry.Event {
	switch o.str("type", maxName) {
	case "system":
		if o.str("subtype", maxName) == "init" {
			p.model = o.str("model", maxName)
		}
	case "assistant":
		return p.claudeAssistant(o.sub("message"))
	case "user":
		return p.claudeResults(o.sub("message"))
	case "result":
		return p.claudeResult(o)
	}
	return nil
}

// claudeResult turns the final result into an error message (when
// is_error), declined commands from permission_denials, and usage.
// Results with an error_* subtype (error_max_turns,
// error_during_execution, error_max_budget_usd, ...) carry their text in
// errors[] and have no result field; an API failure is subtype "success"
// with is_error and its text in result.
func (p *Parser) claudeResult(o obj) []telemetry.Event {
	var evs []telemetry.Event
	subtype := o.str("subtype", maxName)
	if o.boolean("is_error") || strings.HasPrefix(subtype, "error") {
		var texts []string
		for i, e := range o.list("errors") {
			if i == maxFilesPerLine {
				break
			}
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				texts = append(texts, s)
			}
		}
		text := strings.Join(texts, "; ")
		if text == "" {
			text = o.str("result", maxText)
		}
		if text == "" && subtype != "" && subtype != "success" {
			text = subtype
		}
		if ev := errorMessage(bound(text, maxText)); ev != nil {
			if subtype != "" {
				ev[0].Attrs["subtype"] = subtype
			}
			evs = append(evs, ev...)
		}
	}
	for i, d := range o.list("permission_denials") {
		if i == maxFilesPerLine {
			break
		}
		m, _ := d.(map[string]any)
		den := obj(m)
		id := den.str("tool_use_id", maxName)
		if den.str("tool_name", maxName) != "Bash" || p.declined[id] {
			continue
		}
		cmd := den.sub("tool_input").str("command", maxCommand)
		if c, ok := p.finish(id); ok && c != "" {
			cmd = c
		}
		if cmd != "" {
			evs = append(evs, event(telemetry.KindAgentCommand, map[string]any{"command": cmd, "declined": true}))
		}
	}
	if ev, ok := usageEvent(o.sub("usage"), p.model); ok {
		evs = append(evs, ev)
	}
	return evs
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
// agent.command events. Claude Code reports no exit code, only is_error; a
// result saying permission was refused is a declined command, which did
// not run.
func (p *Parser) claudeResults(msg obj) []telemetry.Event {
	var evs []telemetry.Event
	for _, b := range msg.list("content") {
		m, _ := b.(map[string]any)
		blk := obj(m)
		if blk.str("type", maxName) != "tool_result" {
			continue
		}
		id := blk.str("tool_use_id", maxName)
		cmd, ok := p.finish(id)
		if !ok || cmd == "" {
			continue
		}
		a := map[string]any{"command": cmd}
		switch {
		case blk.boolean("is_error") && claudeDenied(blk):
			a["declined"] = true
			if len(p.declined) < maxPending {
				p.declined[id] = true
			}
		case blk.boolean("is_error"):
			a["failed"] = true
		}
		evs = append(evs, event(telemetry.KindAgentCommand, a))
	}
	return evs
}

// claudeDenied reports whether a tool_result's content (a string or a list
// of text blocks) says the call was refused permission.
func claudeDenied(blk obj) bool {
	text := blk.str("content", maxText)
	if text == "" {
		for _, c := range blk.list("content") {
			m, _ := c.(map[string]any)
			if t := obj(m).str("text", maxText); t != "" {
				text = t
				break
			}
		}
	}
	for _, d := range claudeDenials {
		if strings.HasPrefix(text, d) {
			return true
		}
	}
	return false
}
