package telemetry

import (
	"fmt"
	"strings"
)

// maxCommandRows is how many agent commands the summary lists.
const maxCommandRows = 100

// maxCommands is how many agent commands a Summary keeps; the rest are
// only counted.
const maxCommands = 1000

// SummaryCommand is one command the agent reported running.
type SummaryCommand struct {
	Command  string
	ExitCode *int // nil when the agent reported none
	Failed   bool // the agent reported failure without an exit code
	Declined bool // the agent's CLI declined it: it did not run
}

// addCommand folds an agent.command event's attrs into s.
func (s *Summary) addCommand(a map[string]any) {
	cmd := stringAttr(a, "command")
	if cmd == "" {
		return
	}
	if len(s.Commands) >= maxCommands {
		s.CommandsDropped++
		return
	}
	c := SummaryCommand{Command: cmd, Failed: boolAttr(a, "failed"), Declined: boolAttr(a, "declined")}
	if code, ok := IntAttr(a, "exit_code"); ok {
		c.ExitCode = &code
	}
	s.Commands = append(s.Commands, c)
}

// maxTools is how many distinct tool names a Summary counts; calls of
// others are counted under "…".
const maxTools = 20

// ToolCount is how many times the model called one tool.
type ToolCount struct {
	Name  string
	Count int
}

// addTool folds an agent.tool event's attrs into s.
func (s *Summary) addTool(a map[string]any) {
	name := stringAttr(a, "name")
	if name == "" {
		return
	}
	for i := range s.Tools {
		if s.Tools[i].Name == name {
			s.Tools[i].Count++
			return
		}
	}
	if len(s.Tools) >= maxTools {
		name = "…"
		for i := range s.Tools {
			if s.Tools[i].Name == name {
				s.Tools[i].Count++
				return
			}
		}
	}
	s.Tools = append(s.Tools, ToolCount{Name: name, Count: 1})
}

// writeTools renders the tool calls as one line.
func writeTools(b *strings.Builder, tools []ToolCount) {
	if len(tools) == 0 {
		return
	}
	total := 0
	parts := make([]string, len(tools))
	for i, t := range tools {
		total += t.Count
		parts[i] = fmt.Sprintf("%s ×%d", CodeText(t.Name), t.Count)
	}
	fmt.Fprintf(b, "\n**Tool calls:** %d (%s)\n", total, strings.Join(parts, ", "))
}

// writeCommands renders the agent's commands as a table with exit codes.
func writeCommands(b *strings.Builder, cmds []SummaryCommand, dropped int) {
	if len(cmds) == 0 {
		return
	}
	b.WriteString("\n**Commands the agent ran**\n\n| Command | Exit code |\n| --- | ---: |\n")
	for i, c := range cmds {
		if i == maxCommandRows {
			fmt.Fprintf(b, "\n… and %d more commands\n", len(cmds)-maxCommandRows+dropped)
			break
		}
		exit := "–"
		switch {
		case c.Declined:
			exit = "declined, not run"
		case c.ExitCode != nil:
			exit = fmt.Sprint(*c.ExitCode)
		case c.Failed:
			exit = "failed"
		}
		fmt.Fprintf(b, "| %s | %s |\n", codeSpan(c.Command), exit)
	}
}
