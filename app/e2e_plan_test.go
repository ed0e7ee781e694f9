package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/telemetry"
)

// planTrigger asks for a run whose plan (the agent's summary) is itself a
// test-agent directive: only a task that carries the approved plan
// writes PLANNED.md. The plan phase also writes DURING.md, which must be
// thrown away.
const planTrigger = "@agentgate agentgate-test: summary agentgate-test: write PLANNED.md from the plan\nagentgate-test: write DURING.md plan phase"

// botSaid waits until one of agentgate's comments on the example issue
// contains every part and returns it.
func botSaid(t *testing.T, env *harness.Env, what string, parts ...string) string {
	t.Helper()
	var said string
	eventually(t, time.Minute, what, func() bool {
		for _, c := range botComments(env) {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(c, p)
			}
			if all {
				said = c
				return true
			}
		}
		return false
	})
	return said
}

// settled waits until the queue holds no job that has yet to run or
// finish (scheduled follow-ups aside): whatever the deliveries so far
// started has happened, so a test can assert that nothing did.
func settled(t *testing.T, env *harness.Env) {
	t.Helper()
	eventually(t, 3*time.Minute, "the queue to settle", func() bool {
		var n int
		err := env.App.DB().SQL.QueryRowContext(context.Background(),
			`SELECT count(*) FROM river_job WHERE state IN ('available', 'pending', 'running', 'retryable')`).Scan(&n)
		return err == nil && n == 0
	})
}

// startPlanned starts a run under mode: plan and waits for its plan.
func startPlanned(t *testing.T, env *harness.Env) string {
	t.Helper()
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("mode: plan\n"))
	env.GH.SetPermission(harness.Owner, harness.Repo, "maint", "maintain")
	d := comment(t, env, planTrigger, harness.Requester)
	if s := wait(t, env, d.RunID); s != "planned" {
		t.Fatalf("state = %q, want planned; comments %q", s, botComments(env))
	}
	c := botComments(env)
	if len(c) != 1 || !strings.Contains(c[0], "\nagentgate-test: write PLANNED.md from the plan\n") ||
		!strings.Contains(c[0], "`@agentgate approve`") || !strings.Contains(c[0], "**write** permission") {
		t.Fatalf("want one comment quoting the plan and naming the approve command, got %q", c)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Fatalf("pull requests after the plan phase = %d, want none", len(prs))
	}
	for _, ev := range kinds(t, env, d.RunID) {
		if ev.Kind == telemetry.KindFileChanged || ev.Kind == telemetry.KindPROpened {
			t.Fatalf("plan phase recorded %s %v: nothing may be harvested", ev.Kind, ev.Attrs)
		}
	}
	return d.RunID
}

// Under mode: plan the agent first plans on a throwaway work tree; the
// plan is posted, nothing is pushed; a maintainer's approval starts the
// real run with the plan in its task, the approval naming the plan's
// digest and the policy in force.
func TestEndToEndPlanApproved(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	runID := startPlanned(t, env)
	planned, _ := findEvent(kinds(t, env, runID), telemetry.KindRunPlanned)

	comment(t, env, "@agentgate approve", "maint")
	eventually(t, 3*time.Minute, "the approved run to finish", func() bool {
		s := doneState(env, runID)
		return s != "" && s != "planned"
	})
	if s := doneState(env, runID); s != "finished" {
		t.Fatalf("approved run state = %q; comments %q", s, botComments(env))
	}
	prs := env.GH.PullRequests(harness.Owner, harness.Repo)
	if len(prs) != 1 {
		t.Fatalf("pull requests = %d, want 1", len(prs))
	}
	evs := kinds(t, env, runID)
	var files []string
	for _, ev := range evs {
		if ev.Kind == telemetry.KindFileChanged {
			files = append(files, ev.Attrs["path"].(string))
		}
	}
	if !strings.Contains(strings.Join(files, " "), "PLANNED.md") {
		t.Errorf("changed files %q: the task did not carry the approved plan", files)
	}
	ap, ok := findEvent(evs, telemetry.KindRunPlanApproved)
	if !ok || ap.Actor != "maint" {
		t.Fatalf("plan approval event = %+v, %v", ap, ok)
	}
	if ap.Attrs["plan_sha256"] == nil || ap.Attrs["plan_sha256"] != planned.Attrs["plan_sha256"] ||
		ap.Attrs["policy_sha256"] == nil || ap.Attrs["policy_sha256"] != planned.Attrs["policy_sha256"] {
		t.Errorf("approval %v does not name the plan and policy of %v", ap.Attrs, planned.Attrs)
	}
}

// A plan made under one policy cannot be approved under another: the
// approval is refused with a reply and the run stays planned.
func TestEndToEndPlanApprovalAfterPolicyChange(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	runID := startPlanned(t, env)
	env.GH.AddFile(harness.Owner, harness.Repo, ".github/agentgate.yml", []byte("mode: plan\nmax_files: 3\n"))

	comment(t, env, "@agentgate approve", "maint")
	botSaid(t, env, "the refusal", "policy changed", "@agentgate retry")
	settled(t, env)
	if s := doneState(env, runID); s != "planned" {
		t.Errorf("state = %q, want planned", s)
	}
	if _, ok := findEvent(kinds(t, env, runID), telemetry.KindRunPlanApproved); ok {
		t.Error("a refused approval was recorded")
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d, want none", len(prs))
	}
}

// A plan is not a protected change: its requester, holding the trigger
// permission, may approve it; a reader may not.
func TestEndToEndPlanSelfApproval(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	runID := startPlanned(t, env)
	env.GH.SetPermission(harness.Owner, harness.Repo, "reader", "read")
	comment(t, env, "@agentgate approve", "reader")
	eventually(t, time.Minute, "the reader's refusal", func() bool {
		for _, c := range botComments(env) {
			if strings.Contains(c, "@reader") && strings.Contains(c, "**write** permission") {
				return true
			}
		}
		return false
	})
	if s := doneState(env, runID); s != "planned" {
		t.Fatalf("after a reader's approval: state = %q, want planned", s)
	}
	comment(t, env, "@agentgate approve", harness.Requester)
	eventually(t, 3*time.Minute, "the self-approved run to finish", func() bool {
		s := doneState(env, runID)
		return s != "" && s != "planned"
	})
	if s := doneState(env, runID); s != "finished" || len(env.GH.PullRequests(harness.Owner, harness.Repo)) != 1 {
		t.Fatalf("state = %q, pull requests %d; want finished and 1", s, len(env.GH.PullRequests(harness.Owner, harness.Repo)))
	}
	if ap, ok := findEvent(kinds(t, env, runID), telemetry.KindRunPlanApproved); !ok || ap.Actor != harness.Requester {
		t.Errorf("plan approval event = %+v, %v; want by the requester", ap, ok)
	}
}

// A planned run is closed at once by cancel, and can no longer be approved.
func TestEndToEndPlanCancelled(t *testing.T) {
	env, _ := startFakeEnv(t, nil)
	runID := startPlanned(t, env)
	comment(t, env, "@agentgate cancel", harness.Requester)
	eventually(t, time.Minute, "the planned run to be cancelled", func() bool { return doneState(env, runID) == "cancelled" })
	comment(t, env, "@agentgate approve", "maint")
	botSaid(t, env, "the answer to the approval", "no pending run on this issue to approve")
	settled(t, env)
	if s := doneState(env, runID); s != "cancelled" {
		t.Errorf("state after approve = %q, want cancelled", s)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d, want none", len(prs))
	}
}
