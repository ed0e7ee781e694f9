package telemetry

import (
	"fmt"
	"strings"
	"testing"
)

func TestSummaryCommands(t *testing.T) {
	evs := []Event{
		{Kind: KindAgentCommand, Attrs: map[string]any{"command": "go test ./...", "exit_code": 1}},
		{Kind: KindAgentCommand, Attrs: map[string]any{"command": "ls | wc `x`", "exit_code": float64(0)}},
		{Kind: KindAgentCommand, Attrs: map[string]any{"command": "make", "failed": true}},
		{Kind: KindAgentCommand, Attrs: map[string]any{"command": "sleep 9", "finished": false}},
		{Kind: KindAgentCommand, Attrs: map[string]any{"command": 7}},
		{Kind: KindAgentCommand, Attrs: map[string]any{"command": "rm -rf /", "declined": true}},
		{Kind: KindFileChanged, Attrs: map[string]any{"path": "claimed.go", "op": "modified", "source": SourceAgent}},
		{Kind: KindFileChanged, Attrs: map[string]any{"path": "real.go", "op": "modified", "added": 1}},
	}
	s := Summarize(evs)
	if len(s.Commands) != 5 {
		t.Fatalf("got %d commands, want 5: %+v", len(s.Commands), s.Commands)
	}
	if len(s.Files) != 1 || s.Files[0].Path != "real.go" {
		t.Errorf("agent-claimed file changes must not enter Files: %+v", s.Files)
	}
	md := s.Markdown()
	for _, want := range []string{
		"| Command | Exit code |",
		"| ` go test ./... ` | 1 |",
		"| `` ls \\| wc `x` `` | 0 |",
		"| ` make ` | failed |",
		"| ` sleep 9 ` | – |",
		"| ` rm -rf / ` | declined, not run |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestSummaryCommandsBounded(t *testing.T) {
	var evs []Event
	for i := range maxCommands + 5 {
		evs = append(evs, Event{Kind: KindAgentCommand, Attrs: map[string]any{"command": fmt.Sprintf("cmd-%d", i), "exit_code": 0}})
	}
	s := Summarize(evs)
	if len(s.Commands) != maxCommands || s.CommandsDropped != 5 {
		t.Fatalf("kept %d dropped %d, want %d and 5", len(s.Commands), s.CommandsDropped, maxCommands)
	}
	md := s.Markdown()
	if strings.Contains(md, fmt.Sprintf("cmd-%d ", maxCommandRows)) || !strings.Contains(md, fmt.Sprintf("cmd-%d ", maxCommandRows-1)) {
		t.Errorf("table not cut at %d rows", maxCommandRows)
	}
	if want := fmt.Sprintf("… and %d more commands", maxCommands+5-maxCommandRows); !strings.Contains(md, want) {
		t.Errorf("markdown lacks %q", want)
	}
}

func TestSummaryTools(t *testing.T) {
	var evs []Event
	for _, name := range []string{"run", "apply_patch", "run", "@admin `x`", "finish"} {
		evs = append(evs, Event{Kind: KindAgentTool, Attrs: map[string]any{"name": name}})
	}
	evs = append(evs, Event{Kind: KindAgentTool, Attrs: map[string]any{"name": 7}})
	for i := range maxTools + 3 {
		evs = append(evs, Event{Kind: KindAgentTool, Attrs: map[string]any{"name": fmt.Sprintf("t%d", i)}})
	}
	s := Summarize(evs)
	if len(s.Tools) != maxTools+1 || s.Tools[0] != (ToolCount{"run", 2}) || s.Tools[maxTools] != (ToolCount{"…", 7}) {
		t.Errorf("tools = %+v", s.Tools)
	}
	md := s.Markdown()
	if !strings.Contains(md, "**Tool calls:** 28 (`run` ×2, `apply_patch` ×1, `` @\u200badmin `x` `` ×1, `finish` ×1, ") {
		t.Errorf("markdown lacks the tool calls:\n%s", md)
	}
}
