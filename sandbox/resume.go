package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/agentgate/agentgate/gitops"
)

// ErrBaseMoved means the branch a kept change was harvested on has moved
// since: the change is not resumed, the agent runs anew.
var ErrBaseMoved = errors.New("the branch moved since the change was kept")

// ResumeTask is a change an earlier attempt harvested and kept, to be
// made ready to push again without the agent: its base and the content
// of its new blobs, already checked by the caller.
type ResumeTask struct {
	RunID    string
	CloneURL string
	Branch   string
	Token    string // read-only clone token; may be empty
	// WorkspaceBytes bounds the clone (the run's policy's); 0: the
	// sandbox's own.
	WorkspaceBytes int64
	Base           string            // the commit the change was harvested on
	Blobs          map[string][]byte // hex hash → content
}

// Resume makes the workspace a kept change is pushed from: a fresh clone
// of t.Branch (no setup, no agent) that must still be at t.Base, with
// t.Blobs written into its repository. The Attempt holds the workspace
// and nothing else (the caller sets the change and judges it); its Close
// releases the run directory. A blob stored under another hash ends the
// attempt as OutcomeRejected; a moved branch is ErrBaseMoved.
func (s *Sandbox) Resume(ctx context.Context, t ResumeTask) (_ *Attempt, err error) {
	att := &Attempt{}
	defer func() {
		if err != nil {
			_ = att.Close()
		}
	}()
	dir := s.runDir(t.RunID)
	if err := removeRunDir(dir); err != nil {
		return nil, fmt.Errorf("clean run directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	att.cleanup.push(func() error { return removeRunDir(dir) })
	maxBytes := t.WorkspaceBytes
	if maxBytes == 0 {
		maxBytes = s.WorkspaceBytes
	}
	ws, err := s.clone(ctx, gitops.CloneOptions{
		URL: t.CloneURL, Branch: t.Branch, Token: t.Token, Root: dir,
		MaxTreeBytes: maxBytes, MaxTreeEntries: s.WorkspaceInodes,
	})
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	att.Workspace = ws
	att.cleanup.push(func() error { _ = ws.Close(); return nil })
	if ws.BaseCommit != t.Base {
		return nil, fmt.Errorf("%w: kept on %s, now %s", ErrBaseMoved, t.Base, ws.BaseCommit)
	}
	for h, content := range t.Blobs {
		got, err := ws.WriteBlob(content)
		if err != nil {
			return nil, err
		}
		if got != h {
			att.Outcome, att.Reason = OutcomeRejected, fmt.Sprintf("blob %s stored as %s", h, got)
			return att, nil
		}
	}
	return att, nil
}
