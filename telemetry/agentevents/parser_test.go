package agentevents

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentgate/agentgate/telemetry"
)

// brief renders events compactly for comparison: kind and sorted attrs.
func brief(evs []telemetry.Event) string {
	var parts []string
	for _, ev := range evs {
		if ev.Actor != "agent" {
			return "bad actor " + ev.Actor
		}
		a, _ := json.Marshal(ev.Attrs)
		parts = append(parts, ev.Kind+" "+string(a))
	}
	return strings.Join(parts, "\n")
}

func TestParserLines(t *testing.T) {
	cases := []struct {
		name   string
		format string
		lines  []string
		want   string
	}{
		{"agentgate command", FormatAgentgate, []string{`{"type":"command","command":"go test ./...","exit_code":1,"duration_ms":5120}`},
			`agent.command {"command":"go test ./...","duration_ms":5120,"exit_code":1}`},
		{"agentgate message", FormatAgentgate, []string{`{"type":"message","text":"done","error":true}`},
			`agent.message {"error":true,"text":"done"}`},
		{"agentgate file change", FormatAgentgate, []string{`{"type":"file_change","path":"a.go","op":"modified"}`},
			`file.changed {"op":"modified","path":"a.go","source":"agent"}`},
		{"agentgate unknown op", FormatAgentgate, []string{`{"type":"file_change","path":"a.go","op":"<script>"}`},
			`file.changed {"op":"modified","path":"a.go","source":"agent"}`},
		{"agentgate usage", FormatAgentgate, []string{`{"type":"usage","input_tokens":1,"output_tokens":2,"model":"m"}`},
			`llm.usage {"input_tokens":1,"model":"m","output_tokens":2}`},
		{"agentgate tool", FormatAgentgate, []string{`{"type":"tool","name":"apply_patch"}`, `{"type":"tool","name":7}`, `{"type":"tool"}`},
			`agent.tool {"name":"apply_patch"}`},
		{"plain text", FormatAgentgate, []string{"running tests...", "", "{", "[1,2]", `"str"`}, ``},
		{"malformed json", FormatAgentgate, []string{`{"type":"command","command":"x"`, `{"type":"command"} trailing`}, ``},
		{"wrong types", FormatAgentgate, []string{
			`{"type":"command","command":["rm"],"exit_code":0}`,
			`{"type":7}`,
			`{"type":"message","text":{"a":1}}`,
			`{"type":"usage","input_tokens":"9","output_tokens":-3}`,
		}, ``},
		{"bad exit codes dropped", FormatAgentgate, []string{
			`{"type":"command","command":"a","exit_code":1.5}`,
			`{"type":"command","command":"b","exit_code":1e300}`,
			`{"type":"command","command":"c","exit_code":"0","duration_ms":-1}`,
		}, `agent.command {"command":"a"}` + "\n" + `agent.command {"command":"b"}` + "\n" + `agent.command {"command":"c"}`},
		{"unknown type", FormatAgentgate, []string{`{"type":"shell","command":"x"}`}, ``},
		{"no format", "", []string{`{"type":"command","command":"x"}`}, ``},
		{"codex command", FormatCodex, []string{
			`{"type":"thread.started","thread_id":"0199"}`,
			`{"type":"turn.started"}`,
			`{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc ls","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
			`{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc ls","aggregated_output":"a.go\n","exit_code":0,"status":"completed"}}`,
		}, `agent.command {"command":"bash -lc ls","exit_code":0}`},
		{"codex failed command", FormatCodex, []string{
			`{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"go test","aggregated_output":"FAIL","exit_code":1,"status":"failed"}}`,
		}, `agent.command {"command":"go test","exit_code":1,"failed":true}`},
		{"codex file change", FormatCodex, []string{
			`{"type":"item.completed","item":{"id":"item_3","type":"file_change","changes":[{"path":"/workspace/a.go","kind":"update"},{"path":"b.go","kind":"add"},{"path":"c.go","kind":"delete"},{"path":7,"kind":"add"}],"status":"completed"}}`,
		}, `file.changed {"op":"modified","path":"/workspace/a.go","source":"agent"}` + "\n" +
			`file.changed {"op":"added","path":"b.go","source":"agent"}` + "\n" +
			`file.changed {"op":"deleted","path":"c.go","source":"agent"}`},
		{"codex message and reasoning", FormatCodex, []string{
			`{"type":"item.completed","item":{"id":"item_4","type":"reasoning","text":"**thinking**"}}`,
			`{"type":"item.completed","item":{"id":"item_5","type":"agent_message","text":"Done."}}`,
			`{"type":"item.completed","item":{"id":"itm_0","item_type":"assistant_message","text":"Old shape."}}`,
		}, `agent.message {"text":"Done."}` + "\n" + `agent.message {"text":"Old shape."}`},
		{"codex usage and errors", FormatCodex, []string{
			`{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}`,
			`{"type":"turn.failed","error":{"message":"stream disconnected"}}`,
			`{"type":"error","message":"retrying"}`,
			`{"type":"item.completed","item":{"id":"e","type":"error","message":"bad patch"}}`,
		}, `llm.usage {"cached_input_tokens":24448,"input_tokens":24763,"output_tokens":122}` + "\n" +
			`agent.message {"error":true,"text":"stream disconnected"}` + "\n" +
			`agent.message {"error":true,"text":"retrying"}` + "\n" +
			`agent.message {"error":true,"text":"bad patch"}`},
		{"codex wrong item type", FormatCodex, []string{`{"type":"item.completed","item":"command_execution"}`, `{"type":"item.completed","item":{"type":"command_execution","command":""}}`}, ``},
		{"claude session", FormatClaudeCode, []string{
			`{"type":"system","subtype":"init","session_id":"s","tools":["Bash","Edit"],"model":"claude-sonnet-4-5"}`,
			`{"type":"assistant","message":{"model":"claude-sonnet-4-5","content":[{"type":"text","text":"Running tests."},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"go test ./..."}}],"usage":{"input_tokens":10,"output_tokens":5}}}`,
			`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","is_error":true,"content":"FAIL"}]}}`,
			`{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_2","name":"Edit","input":{"file_path":"/workspace/a.go","old_string":"x","new_string":"y"}}]}}`,
			`{"type":"result","subtype":"success","is_error":false,"result":"ok","usage":{"input_tokens":100,"output_tokens":50},"total_cost_usd":0.01}`,
		}, `agent.message {"text":"Running tests."}` + "\n" +
			`agent.command {"command":"go test ./...","failed":true}` + "\n" +
			`file.changed {"op":"modified","path":"/workspace/a.go","source":"agent"}` + "\n" +
			`llm.usage {"input_tokens":100,"model":"claude-sonnet-4-5","output_tokens":50}`},
		{"claude result for unknown tool id", FormatClaudeCode, []string{
			`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"nope","content":"x"}]}}`,
		}, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(tc.format)
			var evs []telemetry.Event
			for _, l := range tc.lines {
				evs = append(evs, p.Line(l)...)
			}
			if got := brief(evs); got != tc.want {
				t.Errorf("events:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestParserBounds(t *testing.T) {
	p := NewParser(FormatAgentgate)
	huge := strings.Repeat("é", 5000) + "\xff"
	evs := p.Line(`{"type":"message","text":"` + huge + `"}`)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	text := evs[0].Attrs["text"].(string)
	if len(text) > maxText || !strings.HasSuffix(text, "…") || !strings.HasPrefix(text, "éé") {
		t.Errorf("text not bounded to %d bytes on a rune boundary: %d bytes, suffix %q", maxText, len(text), text[len(text)-8:])
	}
	over := `{"type":"message","text":"` + strings.Repeat("a", MaxLine) + `"}`
	if evs := p.Line(over); evs != nil {
		t.Errorf("a line over MaxLine made %d events", len(evs))
	}
	if evs := p.Line("{\"type\":\"message\",\"text\":\"bad \xff utf8\"}"); len(evs) != 1 || evs[0].Attrs["text"] != "bad \uFFFD utf8" {
		t.Errorf("invalid UTF-8 not replaced: %+v", evs)
	}
}

func TestParserFlush(t *testing.T) {
	p := NewParser(FormatCodex)
	p.Line(`{"type":"item.started","item":{"id":"a","type":"command_execution","command":"sleep 999"}}`)
	p.Line(`{"type":"item.started","item":{"id":"b","type":"command_execution","command":"true"}}`)
	p.Line(`{"type":"item.completed","item":{"id":"b","type":"command_execution","command":"true","exit_code":0}}`)
	got := brief(p.Flush())
	if want := `agent.command {"command":"sleep 999","finished":false}`; got != want {
		t.Errorf("Flush = %s, want %s", got, want)
	}
	if again := p.Flush(); len(again) != 0 {
		t.Errorf("second Flush returned %d events", len(again))
	}
	// The pending set is bounded however many commands start.
	for i := 0; i < maxPending+10; i++ {
		p.Line(`{"type":"item.started","item":{"id":"` + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + `-` + string(rune(i)) + `","type":"command_execution","command":"c"}}`)
	}
	if n := len(p.Flush()); n > maxPending {
		t.Errorf("Flush returned %d events, want at most %d", n, maxPending)
	}
}
