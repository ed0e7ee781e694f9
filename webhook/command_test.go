package webhook

import "testing"

func TestParseCommand(t *testing.T) {
	const id = "0d9c2f8e-5b1a-4c3e-9f70-1a2b3c4d5e6f"
	tests := []struct {
		name string
		body string
		want Command
		ok   bool
	}{
		{"help", "@agentgate help", Command{Name: CmdHelp}, true},
		{"upper case", "@AgentGate HELP", Command{Name: CmdHelp}, true},
		{"surrounding space", "  \n@agentgate   status \n", Command{Name: CmdStatus}, true},
		{"cancel", "@agentgate cancel", Command{Name: CmdCancel}, true},
		{"retry", "@agentgate retry", Command{Name: CmdRetry}, true},
		{"approve", "@agentgate approve", Command{Name: CmdApprove}, true},
		{"revert", "@agentgate Revert", Command{Name: CmdRevert}, true},
		{"revert takes no run id", "@agentgate revert " + id, Command{Text: "revert " + id}, true},
		{"revert in a sentence", "@agentgate revert the logging change", Command{Text: "revert the logging change"}, true},
		{"approve with run id", "@agentgate approve " + id, Command{Name: CmdApprove, RunID: id}, true},
		{"run id lower-cased", "@agentgate cancel 0D9C2F8E-5B1A-4C3E-9F70-1A2B3C4D5E6F", Command{Name: CmdCancel, RunID: id}, true},
		{"help takes no argument", "@agentgate help " + id, Command{Text: "help " + id}, true},
		{"sentence is a task", "@agentgate help me write the docs", Command{Text: "help me write the docs"}, true},
		{"cancel in a sentence", "@agentgate cancel the timer in main.go", Command{Text: "cancel the timer in main.go"}, true},
		{"two words", "@agentgate approve this", Command{Text: "approve this"}, true},
		{"bad run id", "@agentgate approve 1234", Command{Text: "approve 1234"}, true},
		{"punctuation", "@agentgate cancel!", Command{Text: "cancel!"}, true},
		{"multi-line", "@agentgate retry\nplease", Command{Text: "retry\nplease"}, true},
		{"unknown word", "@agentgate merge", Command{Text: "merge"}, true},
		{"bare mention", "@agentgate", Command{Text: ""}, true},
		{"task", "@agentgate fix the flaky test", Command{Text: "fix the flaky test"}, true},
		{"not a mention", "please @agentgate cancel", Command{}, false},
		{"other app", "@agentgatex cancel", Command{}, false},
		{"quoted", "> @agentgate approve", Command{}, false},
		{"unicode fold", "@agentgate \u212Aancel", Command{Text: "\u212Aancel"}, true},
		{"fullwidth", "@agentgate ａpprove", Command{Text: "ａpprove"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseCommand(tt.body, "@agentgate")
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, %v", tt.body, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMentionsAnywhere(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{"@agentgate please rename the variable", true},
		{"Looks wrong. @agentgate: use a map here.", true},
		{"cc @AgentGate", true},
		{"@agentgatex please", false},
		{"me@agentgate.dev", false},
		{"@agentgate/team", false},
		{"no mention here", false},
		{"", false},
		{"use `@agentgate` in code", false},
		{"> @agentgate said this\n\nI disagree", false},
		{"```\n@agentgate\n```", false},
		{"```\n@agentgate\n```\nand @agentgate here", true},
		{"Thanks!\n\n* nit: @agentgate rename it", true},
	}
	for _, tt := range tests {
		if got := MentionsAnywhere(tt.body, "@agentgate"); got != tt.want {
			t.Errorf("MentionsAnywhere(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
