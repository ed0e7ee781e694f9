package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/agentgate/agentgate/internal/testgh"
)

// CheckActionPayload is GitHub's check_run.requested_action example for a
// click by login on the button identifier of check run cr, pointed at
// this environment.
func (e *Env) CheckActionPayload(cr testgh.CheckRun, branch, identifier, login string) ([]byte, error) {
	return e.payload("check_run.requested_action.json", func(m map[string]any) {
		c := m["check_run"].(map[string]any)
		c["id"], c["head_sha"], c["external_id"], c["name"] = cr.ID, cr.HeadSHA, cr.ExternalID, cr.Name
		c["app"].(map[string]any)["id"] = AppID
		suite := c["check_suite"].(map[string]any)
		suite["head_branch"], suite["head_sha"] = branch, cr.HeadSHA
		m["requested_action"] = map[string]any{"identifier": identifier}
		repo := m["repository"].(map[string]any)
		repo["id"], repo["name"], repo["full_name"] = RepoID, Repo, Owner+"/"+Repo
		repo["owner"].(map[string]any)["login"] = Owner
		delete(m, "organization")
		s := m["sender"].(map[string]any)
		s["login"], s["type"], s["id"] = login, "User", UserID(login)
	})
}

// Click delivers a check_run.requested_action as GitHub would when login
// presses the button identifier on cr, and waits until the action job has
// recorded its decision (an approval.granted or approval.refused event
// beyond the ones already there).
func (e *Env) Click(ctx context.Context, cr testgh.CheckRun, branch, identifier, login string) (Delivery, error) {
	body, err := e.CheckActionPayload(cr, branch, identifier, login)
	if err != nil {
		return Delivery{}, err
	}
	before, err := e.decisions(ctx, cr.ExternalID)
	if err != nil {
		return Delivery{}, err
	}
	d, err := e.Deliver(ctx, "check_run", fmt.Sprintf("click-%d", time.Now().UnixNano()), body)
	if err != nil || d.Status != 202 {
		return d, err
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := e.decisions(ctx, cr.ExternalID)
		if err != nil {
			return d, err
		}
		var pending int
		if err := e.App.DB().SQL.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'agentgate.check_action' AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&pending); err != nil {
			return d, fmt.Errorf("action jobs: %w", err)
		}
		if n > before && pending == 0 {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return d, fmt.Errorf("click on %s was not decided: %w", identifier, ctx.Err())
		case <-t.C:
		}
	}
}

// decisions counts the run's approval decisions.
func (e *Env) decisions(ctx context.Context, runID string) (int, error) {
	evs, err := e.App.DB().Events(ctx, runID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ev := range evs {
		if ev.Kind == "approval.granted" || ev.Kind == "approval.refused" {
			n++
		}
	}
	return n, nil
}
