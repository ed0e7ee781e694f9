package telemetry

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// ev builds an event at offset d from a fixed start.
func ev(kind string, d time.Duration, attrs map[string]any) Event {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return Event{RunID: "run-1", Kind: kind, Time: start.Add(d), Attrs: attrs}
}

// viaJSON round-trips events through JSON, as the store does, so numbers
// become float64.
func viaJSON(t *testing.T, events []Event) []Event {
	t.Helper()
	b, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func intPtr(i int) *int { return &i }

func TestSummarize(t *testing.T) {
	succeeded := []Event{
		ev(KindRunQueued, 0, nil),
		ev(KindSandboxExited, 62*time.Second, map[string]any{
			"exit_code": 0, "timed_out": false, "oom_killed": false, "duration_ms": int64(61234),
			"output_bytes": 120, "dropped_bytes": 0, "output_tail": "done\n",
		}),
		ev(KindFileChanged, 62*time.Second, map[string]any{"path": "a.go", "op": "modified", "added": 3, "removed": 1, "binary": false, "size": 100}),
		ev(KindFileChanged, 62*time.Second, map[string]any{"path": "logo.png", "op": "added", "added": 0, "removed": 0, "binary": true, "size": 5000}),
		ev(KindFileChanged, 62*time.Second, map[string]any{"path": "b.go", "op": "added", "added": 10, "removed": 0}),
		ev(KindRunFinished, 63*time.Second+240*time.Millisecond, map[string]any{"outcome": "succeeded"}),
	}
	wantSucceeded := Summary{
		RunID: "run-1", Outcome: "succeeded", Duration: "1m3.2s", ExitCode: intPtr(0),
		Files: []SummaryFile{
			{Path: "a.go", Op: "modified", Added: 3, Removed: 1},
			{Path: "logo.png", Op: "added", Binary: true},
			{Path: "b.go", Op: "added", Added: 10},
		},
		Added: 13, Removed: 1, OutputTail: "done\n", AgentDuration: "1m1.2s", OutputBytes: 120,
	}
	timedOut := []Event{
		ev(KindRunQueued, 0, nil),
		ev(KindLimitHit, time.Second, map[string]any{"limit": "timeout"}),
		ev(KindLimitHit, time.Second, map[string]any{"limit": "output"}),
		ev(KindSandboxExited, 2*time.Second, map[string]any{
			"exit_code": float64(137), "timed_out": true, "oom_killed": true, "dropped_bytes": float64(10), "output_bytes": float64(1000),
		}),
		ev(KindPolicyFlagged, 2*time.Second, map[string]any{"reason": "binary file"}),
		ev(KindPolicyFlagged, 2*time.Second, map[string]any{"reason": "binary file"}),
		ev(KindRunFailed, 2*time.Second, map[string]any{"outcome": "timed out", "reason": "wall clock limit 30m"}),
	}
	wantTimedOut := Summary{
		RunID: "run-1", Outcome: "timed out", Reason: "wall clock limit 30m", Duration: "2s", ExitCode: intPtr(137),
		LimitsHit: []string{"timeout", "output", "memory"}, Flags: []string{"binary file"},
		OutputBytes: 1000, DroppedBytes: 10,
	}
	tests := []struct {
		name   string
		events []Event
		json   bool
		want   Summary
	}{
		{name: "empty", events: nil, want: Summary{}},
		{name: "succeeded go values", events: succeeded, want: wantSucceeded},
		{name: "succeeded from JSON", events: succeeded, json: true, want: wantSucceeded},
		{name: "timed out from JSON", events: timedOut, json: true, want: wantTimedOut},
		{name: "still running", events: succeeded[:2], want: Summary{
			RunID: "run-1", Duration: "1m2s", ExitCode: intPtr(0), OutputTail: "done\n", AgentDuration: "1m1.2s", OutputBytes: 120,
		}},
		{name: "same file twice keeps last counts", events: []Event{
			ev(KindFileChanged, 0, map[string]any{"path": "a", "op": "added", "added": 1}),
			ev(KindFileChanged, 0, map[string]any{"path": "b", "op": "added", "added": 2}),
			ev(KindFileChanged, 0, map[string]any{"path": "a", "op": "added", "added": 5}),
		}, want: Summary{RunID: "run-1", Duration: "0s", Added: 7, Files: []SummaryFile{
			{Path: "a", Op: "added", Added: 5}, {Path: "b", Op: "added", Added: 2},
		}}},
		{name: "hostile attr types ignored", events: []Event{
			ev(KindSandboxExited, 0, map[string]any{"exit_code": "0", "timed_out": "yes", "output_tail": 5}),
			ev(KindFileChanged, 0, map[string]any{"path": "x", "added": 1.5, "removed": "3"}),
			ev(KindRunFailed, 0, map[string]any{}),
		}, want: Summary{RunID: "run-1", Duration: "0s", Outcome: "failed", Files: []SummaryFile{{Path: "x"}}}},
		{name: "flag with path", events: []Event{
			ev(KindPolicyFlagged, 0, map[string]any{"reason": "protected path", "path": ".github/workflows/ci.yml"}),
		}, want: Summary{RunID: "run-1", Duration: "0s", Flags: []string{".github/workflows/ci.yml: protected path"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := tt.events
			if tt.json {
				events = viaJSON(t, events)
			}
			got := Summarize(events)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Summarize:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestIntAttr(t *testing.T) {
	tests := []struct {
		v    any
		want int
		ok   bool
	}{
		{3, 3, true}, {int64(-4), -4, true}, {int32(5), 5, true}, {float64(137), 137, true},
		{json.Number("12"), 12, true}, {1.5, 0, false}, {"7", 0, false}, {nil, 0, false}, {1e300, 0, false},
	}
	for _, tt := range tests {
		got, ok := IntAttr(map[string]any{"k": tt.v}, "k")
		if got != tt.want || ok != tt.ok {
			t.Errorf("IntAttr(%#v) = %d, %v; want %d, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
