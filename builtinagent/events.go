package builtinagent

import (
	"encoding/json"
	"io"
	"sync"
)

// Event is one line of the agentgate event format.
type Event struct {
	Type         string `json:"type"` // message, command, file_change, usage, tool
	Text         string `json:"text,omitempty"`
	Command      string `json:"command,omitempty"`
	ExitCode     *int   `json:"exit_code,omitempty"`
	TimedOut     bool   `json:"timed_out,omitempty"`
	Path         string `json:"path,omitempty"`
	Op           string `json:"op,omitempty"` // create, update, delete
	InputTokens  int    `json:"input_tokens,omitempty"`
	OutputTokens int    `json:"output_tokens,omitempty"`
	Model        string `json:"model,omitempty"`
	Name         string `json:"name,omitempty"` // tool: the tool called
}

// maxEventText bounds the text fields of one event.
const maxEventText = 8 << 10

// emitter prints events as JSON lines.
type emitter struct {
	mu sync.Mutex
	w  io.Writer
}

func (e *emitter) emit(ev Event) {
	ev.Text = truncate(ev.Text, maxEventText)
	ev.Command = truncate(ev.Command, maxEventText)
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(append(b, '\n'))
}

// truncate cuts s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "\n[... truncated]"
	if n <= len(mark) {
		return s[:n]
	}
	return s[:n-len(mark)] + mark
}
