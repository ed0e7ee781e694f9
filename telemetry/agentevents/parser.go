package agentevents

import (
	"math"

	"github.com/agentgate/agentgate/telemetry"
)

// Formats a Parser understands.
const (
	FormatAgentgate  = "agentgate"
	FormatCodex      = "codex"
	FormatClaudeCode = "claude-code"
)

// actor is the Actor of every event a Parser makes.
const actor = "agent"

// Parser turns one agent's output lines into events. It keeps a little
// state (commands started but not finished) and is not safe for
// concurrent use; runner.Run calls onLine from one goroutine.
type Parser struct {
	format  string
	pending map[string]string // started commands by id → command text
	order   []string          // pending ids in start order
	// declined holds the ids of Claude Code tool calls already reported
	// as declined, so the result's permission_denials does not repeat them.
	declined map[string]bool
	model    string // the model Claude Code's system/init named
}

// NewParser returns a parser for format ("agentgate", "codex" or
// "claude-code"); any other format (such as "" for plain-text agents)
// yields a parser that makes no events.
func NewParser(format string) *Parser {
	return &Parser{format: format, pending: map[string]string{}, declined: map[string]bool{}}
}

// Line turns one line of the agent's standard output into zero or more
// events. It never fails: lines it does not understand yield nothing.
func (p *Parser) Line(line string) []telemetry.Event {
	o, ok := decode(line)
	if !ok {
		return nil
	}
	switch p.format {
	case FormatAgentgate:
		return agentgateLine(o)
	case FormatCodex:
		return p.codexLine(o)
	case FormatClaudeCode:
		return p.claudeLine(o)
	}
	return nil
}

// Flush reports the commands that were started but never finished (the
// agent was stopped mid-command) as agent.command events without an exit
// code, and forgets them. Call it once the agent has exited.
func (p *Parser) Flush() []telemetry.Event {
	var evs []telemetry.Event
	for _, id := range p.order {
		if cmd, ok := p.pending[id]; ok {
			evs = append(evs, event(telemetry.KindAgentCommand, map[string]any{"command": cmd, "finished": false}))
		}
	}
	p.pending, p.order = map[string]string{}, nil
	return evs
}

// start remembers a started command.
func (p *Parser) start(id, cmd string) {
	if id == "" || len(p.pending) >= maxPending {
		return
	}
	if _, seen := p.pending[id]; !seen {
		p.order = append(p.order, id)
	}
	p.pending[id] = cmd
}

// finish forgets a started command and returns its text.
func (p *Parser) finish(id string) (string, bool) {
	cmd, ok := p.pending[id]
	if ok {
		delete(p.pending, id)
		for i, have := range p.order {
			if have == id {
				p.order = append(p.order[:i], p.order[i+1:]...)
				break
			}
		}
	}
	return cmd, ok
}

// event makes one agent event.
func event(kind string, attrs map[string]any) telemetry.Event {
	return telemetry.Event{Kind: kind, Actor: actor, Attrs: attrs}
}

// commandEvent makes an agent.command event; exit codes and durations are
// taken from o's fields exitKey and durKey when they are whole numbers in
// range.
func commandEvent(cmd string, o obj, exitKey, durKey string) telemetry.Event {
	a := map[string]any{"command": cmd}
	if code, ok := o.int(exitKey, math.MinInt32, math.MaxInt32); ok {
		a["exit_code"] = int(code)
	}
	if ms, ok := o.int(durKey, 0, math.MaxInt32); ok {
		a["duration_ms"] = int(ms)
	}
	return event(telemetry.KindAgentCommand, a)
}

// usageEvent makes an llm.usage event from o's token fields; ok is false
// when o holds no usable count. input_tokens is every input token the
// model processed: Anthropic's usage counts cache writes
// (cache_creation_input_tokens) and cache reads (cache_read_input_tokens)
// apart from input_tokens, so they are added, and kept as attributes too;
// OpenAI's cached_input_tokens (Codex) are already part of input_tokens
// and are only kept as an attribute.
func usageEvent(o obj, model string) (telemetry.Event, bool) {
	in, okIn := o.int("input_tokens", 0, maxTokens)
	out, okOut := o.int("output_tokens", 0, maxTokens)
	cw, okW := o.int("cache_creation_input_tokens", 0, maxTokens)
	cr, okR := o.int("cache_read_input_tokens", 0, maxTokens)
	if !okIn && !okOut && !okW && !okR {
		return telemetry.Event{}, false
	}
	a := map[string]any{"input_tokens": int(in + cw + cr), "output_tokens": int(out)}
	if okW {
		a["cache_creation_input_tokens"] = int(cw)
	}
	if okR {
		a["cache_read_input_tokens"] = int(cr)
	}
	if cached, ok := o.int("cached_input_tokens", 0, maxTokens); ok {
		a["cached_input_tokens"] = int(cached)
	}
	if model != "" {
		a["model"] = model
	}
	return event(telemetry.KindLLMUsage, a), true
}

// fileEvent makes a file.changed event the agent reported.
func fileEvent(path, op string) (telemetry.Event, bool) {
	if path == "" {
		return telemetry.Event{}, false
	}
	switch op {
	case "added", "modified", "deleted", "renamed":
	default:
		op = "modified"
	}
	return event(telemetry.KindFileChanged, map[string]any{"path": path, "op": op, "source": telemetry.SourceAgent}), true
}
