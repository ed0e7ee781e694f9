package telemetry

import (
	"time"
)

// Summary is what a run's events say about it, for the check run, the pull
// request body, the progress comment and `agentgate run`.
type Summary struct {
	RunID      string
	Outcome    string // "succeeded", "failed", "timed out", "no change", …; "" while running
	Reason     string // why a failed run failed (run.failed "reason")
	Duration   string // first to last event, rounded to 100ms, e.g. "1m3.2s"
	ExitCode   *int
	Files      []SummaryFile
	Added      int
	Removed    int
	LimitsHit  []string
	Flags      []string
	OutputTail string
	// Warnings are things the operator should know about the run, such as
	// an agent image whose CLI version is not the one its preset was
	// checked against (sandbox.started agent_version_warning).
	Warnings []string

	// AgentDuration is the sandbox's own run time (sandbox.exited duration_ms).
	AgentDuration string
	// OutputBytes is how much the agent wrote; DroppedBytes how much of it
	// the output limit discarded.
	OutputBytes  int
	DroppedBytes int

	// Network lists each destination the agent asked for, in first-seen order.
	Network []NetHost
	// LLM is the model traffic through the gateway.
	LLM LLMUsage
	// Commands are the commands the agent says it ran (agent.command), in
	// order.
	Commands []SummaryCommand
	// CommandsDropped counts agent commands beyond the ones kept.
	CommandsDropped int
	// Tools counts the model's tool calls by tool (agent.tool), in
	// first-seen order.
	Tools []ToolCount

	// RunURL is the run's page; Markdown links it, and points to it when
	// it has to truncate. Set by the caller, not by Summarize.
	RunURL string
	// Footer is trusted markdown Markdown ends with, inside the size limit
	// (e.g. the audit chain head). Set by the caller.
	Footer string
}

// SummaryFile is one changed file in a Summary.
type SummaryFile struct {
	Path    string
	Op      string
	Added   int
	Removed int
	Binary  bool
}

// Summarize folds a run's events into a Summary. Events are taken in the
// order given (the store returns them in Seq order). A file reported twice
// keeps its first position and its last counts; limits and flags are
// listed once each.
func Summarize(events []Event) Summary {
	var s Summary
	if len(events) == 0 {
		return s
	}
	s.RunID = events[0].RunID
	first, last := events[0].Time, events[len(events)-1].Time
	if !first.IsZero() && !last.IsZero() && !last.Before(first) {
		s.Duration = last.Sub(first).Round(100 * time.Millisecond).String()
	}
	fileIndex := map[string]int{}
	netIndex := map[string]int{}
	for _, ev := range events {
		a := ev.Attrs
		switch ev.Kind {
		case KindSandboxExited:
			if code, ok := IntAttr(a, "exit_code"); ok {
				s.ExitCode = &code
			}
			if boolAttr(a, "timed_out") {
				s.LimitsHit = addOnce(s.LimitsHit, "timeout")
			}
			if boolAttr(a, "oom_killed") {
				s.LimitsHit = addOnce(s.LimitsHit, "memory")
			}
			if ms, ok := IntAttr(a, "duration_ms"); ok && ms >= 0 {
				s.AgentDuration = (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
			}
			s.OutputBytes, _ = IntAttr(a, "output_bytes")
			s.DroppedBytes, _ = IntAttr(a, "dropped_bytes")
			if s.DroppedBytes > 0 {
				s.LimitsHit = addOnce(s.LimitsHit, "output")
			}
			if tail, ok := a["output_tail"].(string); ok {
				s.OutputTail = tail
			}
		case KindNetAllowed, KindNetDenied:
			s.addNet(ev, netIndex)
		case KindNetRequest:
			if allowed, _ := a["allowed"].(bool); !allowed {
				s.addNet(Event{Kind: KindNetDenied, Attrs: a}, netIndex)
			}
		case KindLLMRequest, KindLLMRefused:
			s.addLLM(ev)
		case KindLimitHit:
			if limit := stringAttr(a, "limit"); limit != "" {
				s.LimitsHit = addOnce(s.LimitsHit, limit)
			}
		case KindSandboxStarted:
			if w := stringAttr(a, "agent_version_warning"); w != "" {
				s.Warnings = addOnce(s.Warnings, w)
			}
		case KindAgentCommand:
			s.addCommand(a)
		case KindAgentTool:
			s.addTool(a)
		case KindFileChanged:
			if stringAttr(a, "source") == SourceAgent {
				break // the agent's claim; the work tree's diff is the record
			}
			f := SummaryFile{Path: stringAttr(a, "path"), Op: stringAttr(a, "op"), Binary: boolAttr(a, "binary")}
			f.Added, _ = IntAttr(a, "added")
			f.Removed, _ = IntAttr(a, "removed")
			if i, seen := fileIndex[f.Path]; seen {
				s.Files[i] = f
			} else {
				fileIndex[f.Path] = len(s.Files)
				s.Files = append(s.Files, f)
			}
		case KindPolicyFlagged:
			reason := stringAttr(a, "reason")
			if p := stringAttr(a, "path"); p != "" {
				reason = p + ": " + reason
			}
			if reason != "" {
				s.Flags = addOnce(s.Flags, reason)
			}
		case KindRunFinished:
			s.Outcome, s.Reason = stringAttr(a, "outcome"), ""
			if s.Outcome == "" {
				s.Outcome = "succeeded"
			}
		case KindRunFailed:
			s.Outcome, s.Reason = stringAttr(a, "outcome"), stringAttr(a, "reason")
			if s.Outcome == "" {
				s.Outcome = "failed"
			}
		}
	}
	for _, f := range s.Files {
		if !f.Binary {
			s.Added += f.Added
			s.Removed += f.Removed
		}
	}
	return s
}

// addOnce appends v to list unless it is there already.
func addOnce(list []string, v string) []string {
	for _, have := range list {
		if have == v {
			return list
		}
	}
	return append(list, v)
}
