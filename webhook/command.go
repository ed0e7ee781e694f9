package webhook

import (
	"slices"
	"strings"
)

// Command names a comment can carry after the mention.
const (
	CmdHelp    = "help"
	CmdStatus  = "status"
	CmdCancel  = "cancel"
	CmdRetry   = "retry"
	CmdApprove = "approve"
	// CmdRevert, on a merged pull request agentgate opened, opens a pull
	// request that reverts it (made by agentgate, no agent runs).
	CmdRevert = "revert"
)

// commands are the words ParseCommand recognises, and whether each may
// carry a run id.
var commands = map[string]bool{
	CmdHelp:    false,
	CmdStatus:  true,
	CmdCancel:  true,
	CmdRetry:   true,
	CmdApprove: true,
	CmdRevert:  false,
}

// Commands lists the command words, sorted.
func Commands() []string {
	out := make([]string, 0, len(commands))
	for c := range commands {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Command is what a comment that starts with the mention asks for.
type Command struct {
	// Name is one of the Cmd constants, or "" when the comment is a task
	// (on an issue) or feedback (on a pull request).
	Name string
	// RunID is the run a command names ("@agentgate approve <run-id>");
	// empty means the pending, active or latest run.
	RunID string
	// Text is the comment after the mention, for a task or feedback.
	Text string
}

// ParseCommand parses a comment: ok is false when body does not start with
// mention (see ParseMention). A command is the command word alone, in any
// ASCII case, optionally followed by one run id for the commands that take
// one; anything else after the mention ("@agentgate help me write the
// docs", "@agentgate cancel the timer in main.go") is a task, never a
// command, so a sentence cannot be misread as a command. ParseCommand is
// pure: who may run a command is decided by the worker.
func ParseCommand(body, mention string) (cmd Command, ok bool) {
	text, ok := ParseMention(body, mention)
	if !ok {
		return Command{}, false
	}
	fields := strings.FieldsFunc(text, isSpace)
	if len(fields) == 0 || len(fields) > 2 {
		return Command{Text: text}, true
	}
	word := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, fields[0])
	takesID, known := commands[word]
	if !known {
		return Command{Text: text}, true
	}
	if len(fields) == 2 {
		if !takesID || !validRunID(fields[1]) {
			return Command{Text: text}, true
		}
		return Command{Name: word, RunID: strings.ToLower(fields[1])}, true
	}
	return Command{Name: word}, true
}

// validRunID accepts the shape of the run ids agentgate assigns (UUIDs):
// 36 characters of hex digits and dashes at the usual places.
func validRunID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// loginChar reports whether c can be part of a GitHub login.
func loginChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
