package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// countAgentContainers counts, from the engine's event stream, the agent
// containers (not relays) created for workerID from now on; call the
// returned function for the count so far.
func countAgentContainers(t *testing.T, cli client.APIClient, workerID string) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	msgs, errs := cli.Events(ctx, events.ListOptions{
		Since: strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10),
		Filters: filters.NewArgs(
			filters.Arg("type", string(events.ContainerEventType)),
			filters.Arg("event", string(events.ActionCreate)),
			filters.Arg("label", runner.LabelWorker+"="+workerID),
		),
	})
	var n atomic.Int64
	go func() {
		for {
			select {
			case m := <-msgs:
				if m.Actor.Attributes[runner.LabelRole] != "relay" {
					n.Add(1)
				}
			case err := <-errs:
				if ctx.Err() == nil {
					t.Errorf("engine events of %s: %v", workerID, err)
				}
				return
			}
		}
	}()
	return func() int { return int(n.Load()) }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestScaleTwoIntakesTwoWorkers: two intake processes and two worker
// processes on one Postgres receive 60 triggers on 20 issues (a no-op
// agent), plus 10 redeliveries. Every trigger ends in exactly one outcome,
// no delivery is lost or doubled, and no issue ever has two runs in their
// sandbox at once.
func TestScaleTwoIntakesTwoWorkers(t *testing.T) {
	e := newCrashEnv(t)
	ctx := context.Background()
	keyPath := filepath.Join(t.TempDir(), "audit.key")
	if _, err := store.LoadAuditKey(keyPath, true); err != nil {
		t.Fatal(err)
	}
	common := []string{"AGENTGATE_AUDIT_KEY_FILE=" + keyPath, "AGENTGATE_MEMORY=256MiB"}
	intakes := []string{freeAddr(t), freeAddr(t)}
	var procs []*proc
	for _, l := range intakes {
		procs = append(procs, e.startAt(l, append([]string{"AGENTGATE_ROLE=intake", "AGENTGATE_LISTEN=" + l}, common...)...))
	}
	type workerDirs struct {
		id, data  string
		sandboxes func() int // agent containers the engine created for it
	}
	var workers []workerDirs
	for _, name := range []string{"a", "b"} {
		id := e.h.Config.WorkerID + "-" + name
		w := workerDirs{id: id, data: filepath.Join(t.TempDir(), "data-"+name), sandboxes: countAgentContainers(t, e.h.Docker, id)}
		workers = append(workers, w)
		procs = append(procs, e.startAt("", append([]string{"AGENTGATE_ROLE=worker", "AGENTGATE_WORKER_ID=" + w.id,
			"AGENTGATE_DATA_DIR=" + w.data, "AGENTGATE_CONCURRENCY=4", "AGENTGATE_WORKER_CPUS=3"}, common...)...))
	}

	const issues, perIssue = 20, 3
	type trigger struct {
		issue    int
		delivery string
		body     []byte
		runID    string
	}
	var triggers []*trigger
	for i := range issues {
		n := 200 + i
		title := fmt.Sprintf("Scale issue %d", n)
		e.h.GH.AddIssue(harness.Owner, harness.Repo, n, title, "no-op", harness.Requester)
		for k := range perIssue {
			triggers = append(triggers, &trigger{issue: n, delivery: fmt.Sprintf("scale-%d-%d", n, k),
				body: e.commentOn(n, title, "agentgate-test: exit 0")})
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(triggers)*2)
	for i, tr := range triggers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d := deliverTo(ctx, e.h, intakes[i%2], tr.delivery, tr.body)
			if d.Status != http.StatusAccepted || d.RunID == "" {
				errs <- fmt.Errorf("delivery %s: %d %q", tr.delivery, d.Status, d.Body)
				return
			}
			tr.runID = d.RunID
		}()
	}
	wg.Wait()
	// Some of them are redelivered (`agentgate redeliver`), to the other
	// replica: no new run.
	for i, tr := range triggers[:10] {
		d := deliverTo(ctx, e.h, intakes[(i+1)%2], tr.delivery, tr.body)
		if d.Status/100 != 2 || d.RunID != "" {
			errs <- fmt.Errorf("redelivery %s: %d %q, want 2xx without a run", tr.delivery, d.Status, d.Body)
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	runIDs := map[string]bool{}
	for _, tr := range triggers {
		if runIDs[tr.runID] {
			t.Fatalf("run id %s given twice", tr.runID)
		}
		runIDs[tr.runID] = true
	}

	outcomes := map[string]int{}
	for _, tr := range triggers {
		outcomes[e.waitDone(tr.runID, 10*time.Minute)]++
	}
	elapsed := time.Since(start)
	t.Logf("scale: %d triggers on %d issues through 2 intakes and 2 workers: all done in %s; outcomes %v", len(triggers), issues, elapsed.Round(time.Millisecond), outcomes)

	// Both workers took work: the engine created agent containers for each.
	for _, w := range workers {
		if n := w.sandboxes(); n == 0 {
			t.Errorf("worker %s ran no sandbox (the engine created no agent container for it)", w.id)
		} else {
			t.Logf("worker %s: %d sandboxes", w.id, n)
		}
	}

	// Exactly one outcome per trigger; per issue, sandboxes never overlap.
	final := map[string]bool{telemetry.KindRunFinished: true, telemetry.KindRunFailed: true, telemetry.KindRunBusy: true, telemetry.KindRunDenied: true}
	type span struct{ from, to time.Time }
	spans := map[int][]span{}
	for _, tr := range triggers {
		evs, err := e.db.Events(ctx, tr.runID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var sp span
		for _, ev := range evs {
			if ev.Kind == telemetry.KindRunFailed {
				// A no-op agent on a healthy system: a busy issue is
				// refused (run.busy), never failed.
				t.Errorf("run %s (issue %d) failed: %v", tr.runID, tr.issue, ev.Attrs)
			}
			if final[ev.Kind] {
				n++
				sp.to = ev.Time
			}
			if ev.Kind == telemetry.KindSandboxStarted && sp.from.IsZero() {
				sp.from = ev.Time
			}
		}
		if n != 1 {
			t.Errorf("run %s has %d final events, want 1", tr.runID, n)
		}
		if !sp.from.IsZero() {
			spans[tr.issue] = append(spans[tr.issue], sp)
		}
	}
	ran := 0
	for issue, ss := range spans {
		ran += len(ss)
		sort.Slice(ss, func(i, j int) bool { return ss[i].from.Before(ss[j].from) })
		for i := 1; i < len(ss); i++ {
			if ss[i].from.Before(ss[i-1].to) {
				t.Errorf("issue %d: two runs in their sandboxes at once (%v–%v and %v–%v)", issue, ss[i-1].from, ss[i-1].to, ss[i].from, ss[i].to)
			}
		}
	}
	if ran < issues {
		t.Errorf("only %d runs reached a sandbox, want at least one per issue (%d)", ran, issues)
	}
	// River records completions in batches, shortly after the work ends.
	var jobs, completed int
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if err := e.db.SQL.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'completed') FROM river_job`).Scan(&jobs, &completed); err != nil {
			t.Fatal(err)
		}
		if completed >= len(triggers) || time.Now().After(deadline) {
			break
		}
	}
	if jobs != len(triggers) || completed != len(triggers) {
		t.Errorf("river_job: %d jobs, %d completed; want %d each (no delivery lost or doubled)", jobs, completed, len(triggers))
	}
	for _, p := range procs {
		e.stop(p)
	}
	for _, w := range workers {
		e.checkNoLeftoversOf(w.id, w.data)
	}
	e.auditVerifyWith("AGENTGATE_AUDIT_KEY_FILE=" + keyPath)
}

// deliverTo posts a signed delivery to one intake replica.
func deliverTo(ctx context.Context, h *harness.Env, addr, delivery string, body []byte) harness.Delivery {
	d, err := h.DeliverTo(ctx, addr, "issue_comment", delivery, body)
	if err != nil {
		return harness.Delivery{Status: -1, Body: err.Error()}
	}
	return d
}
