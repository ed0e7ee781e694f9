package webhook

import (
	"strings"
	"testing"
)

// FuzzParseCommand checks the comment-command parser, a security boundary:
// whatever the comment, a command is only ever one of the known words, a
// run id only ever has the shape agentgate assigns, and text that is not a
// command is passed on as task text, never dropped or turned into one.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"@agentgate help", "@agentgate STATUS", "@agentgate cancel",
		"@agentgate approve 0b7c5f5e-6a33-4f0e-9d7e-1e2f3a4b5c6d",
		"@agentgate retry now please", "@agentgate fix the flaky test",
		"@agentgate\u200bapprove", "@agentgate approve ../../etc", "hello @agentgate help",
		"@agentgate help\n\n@agentgate approve", "@AgentGate  cancel  ",
	} {
		f.Add(s)
	}
	known := map[string]bool{"": true, CmdHelp: true, CmdStatus: true, CmdCancel: true, CmdRetry: true, CmdApprove: true}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, ok := ParseCommand(body, "@agentgate")
		_, mentioned := ParseMention(body, "@agentgate")
		if ok != mentioned {
			t.Fatalf("ParseCommand ok=%v but ParseMention ok=%v for %q", ok, mentioned, body)
		}
		if !ok {
			if cmd != (Command{}) {
				t.Fatalf("no mention but a command %+v", cmd)
			}
			return
		}
		if !known[cmd.Name] {
			t.Fatalf("unknown command name %q from %q", cmd.Name, body)
		}
		if cmd.RunID != "" && (!validRunID(cmd.RunID) || cmd.RunID != strings.ToLower(cmd.RunID)) {
			t.Fatalf("run id %q is not a lower-case run id", cmd.RunID)
		}
		if cmd.Name != "" && cmd.Text != "" {
			t.Fatalf("a command also carries task text: %+v", cmd)
		}
		if cmd.Name == "" && cmd.RunID != "" {
			t.Fatalf("task text with a run id: %+v", cmd)
		}
	})
}
