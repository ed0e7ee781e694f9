package telemetry

import (
	"context"
	"fmt"
	"time"
)

// Event is one entry of a run's audit trail. Every package reports what it
// did as events; the store assigns Seq (1, 2, … within a run) and Time when
// the event is appended.
type Event struct {
	RunID string         `json:"run_id"`
	Seq   int64          `json:"seq"`
	Time  time.Time      `json:"time"`
	Kind  string         `json:"kind"`
	Actor string         `json:"actor"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

// Event kinds used across agentgate.
const (
	KindWebhookReceived = "webhook.received"
	KindRunQueued       = "run.queued"
	KindRunAuthorized   = "run.authorized"
	KindRunDenied       = "run.denied"
	KindRunBusy         = "run.busy"
	KindWorkspaceReady  = "workspace.ready"
	KindSandboxStarted  = "sandbox.started"
	KindSandboxExited   = "sandbox.exited"
	KindLimitHit        = "sandbox.limit"
	KindAgentOutput     = "agent.output"
	KindFileChanged     = "file.changed"
	KindPolicyFlagged   = "policy.flagged"
	KindGitCommitted    = "git.committed"
	KindGitPushed       = "git.pushed"
	KindPROpened        = "pr.opened"
	KindCheckCreated    = "check.created"
	KindRunFinished     = "run.finished"
	KindRunFailed       = "run.failed"
)

// Recorder appends events to the audit trail. Append returns the event as
// stored, with Seq and Time filled in.
type Recorder interface {
	Append(ctx context.Context, ev Event) (Event, error)
}

// Record appends one event of kind by actor to runID's trail through rec.
// It is the one way agentgate writes an audit event; its error names the
// kind.
func Record(ctx context.Context, rec Recorder, runID, kind, actor string, attrs map[string]any) error {
	if _, err := rec.Append(ctx, Event{RunID: runID, Kind: kind, Actor: actor, Attrs: attrs}); err != nil {
		return fmt.Errorf("audit %s: %w", kind, err)
	}
	return nil
}

// Reader reads back a run's events in Seq order.
type Reader interface {
	Events(ctx context.Context, runID string) ([]Event, error)
}
