package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/pgtest"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// The crash tests run the real agentgate binary (built with the crashtest
// tag, which lets AGENTGATE_TEST_CRASH_AT make it SIGKILL itself at a named
// point) as a subprocess on a real Postgres, against the in-test GitHub
// stand-in and git server; they kill it mid-run, start it again with the
// same worker id, and check what users would see.

// TestMain removes the built binaries after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, bin := range []string{crashBin, plainBin} {
		if bin != "" {
			_ = os.RemoveAll(filepath.Dir(bin))
		}
	}
	os.Exit(code)
}

var (
	crashBinOnce sync.Once
	crashBin     string
	crashBinErr  error
)

// crashBinary builds agentgate with the crashtest tag, once per test binary.
func crashBinary(t *testing.T) string {
	t.Helper()
	crashBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "agentgate-crashbin-")
		if err != nil {
			crashBinErr = err
			return
		}
		crashBin = filepath.Join(dir, "agentgate")
		cmd := exec.Command("go", "build", "-tags", "crashtest", "-o", crashBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			crashBinErr = fmt.Errorf("go build -tags crashtest: %v\n%s", err, out)
		}
	})
	if crashBinErr != nil {
		t.Fatal(crashBinErr)
	}
	return crashBin
}

// proc is one agentgate subprocess.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

// crashEnv is the harness's world plus a Postgres database, and the
// configuration every subprocess gets.
type crashEnv struct {
	t      *testing.T
	h      *harness.Env
	bin    string
	dbURL  string
	listen string
	vars   []string
	db     *store.DB
	issue  int
}

func newCrashEnv(t *testing.T) *crashEnv {
	t.Helper()
	dockertest.Client(t)
	dockertest.RequireRoot(t)
	dbURL := pgtest.NewDatabase(t)
	bin := crashBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, err := harness.Start(ctx, harness.Options{Dir: t.TempDir(), NoApp: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	_ = ln.Close()
	h.Target = listen
	cfg := h.Config
	e := &crashEnv{t: t, h: h, bin: bin, dbURL: dbURL, listen: listen, issue: 100}
	// On Postgres serve never creates the audit key: every process shares
	// the one the operator made.
	if _, err := store.LoadAuditKey(filepath.Join(cfg.DataDir, "audit.key"), true); err != nil {
		t.Fatal(err)
	}
	e.vars = []string{
		"AGENTGATE_APP_ID=" + strconv.FormatInt(cfg.AppID, 10),
		"AGENTGATE_PRIVATE_KEY=" + string(cfg.PrivateKey),
		"AGENTGATE_WEBHOOK_SECRET=" + string(cfg.WebhookSecret),
		"AGENTGATE_GITHUB_API_URL=" + cfg.GitHubAPIURL,
		"AGENTGATE_LISTEN=" + listen,
		"AGENTGATE_ADMIN_LISTEN=127.0.0.1:0",
		"AGENTGATE_DATABASE_URL=" + dbURL,
		"AGENTGATE_DATA_DIR=" + cfg.DataDir,
		"AGENTGATE_WORKER_ID=" + cfg.WorkerID,
		"AGENTGATE_AGENT_IMAGE=" + cfg.AgentImage,
		"AGENTGATE_TIMEOUT=2m",
		"AGENTGATE_WORKSPACE_SIZE=64MiB",
		"AGENTGATE_WORKSPACE_INODES=10000",
	}
	e.db, err = store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.db.Close() })
	t.Cleanup(func() { e.checkNoLeftovers() })
	return e
}

// start runs `agentgate serve` with extra environment and waits until its
// webhook listener answers (or it died, as a crash at start-up would).
func (e *crashEnv) start(extra ...string) *proc {
	e.t.Helper()
	return e.startAt(e.listen, extra...)
}

// startAt is start for a process whose webhook listener is listen ("" for
// a worker: then it waits for the start-up log line).
func (e *crashEnv) startAt(listen string, extra ...string) *proc {
	t := e.t
	t.Helper()
	p := &proc{done: make(chan struct{}), log: filepath.Join(t.TempDir(), "agentgate.log")}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(e.bin, "serve")
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGENTGATE_") {
			env = append(env, kv)
		}
	}
	p.cmd.Env = append(append(env, e.vars...), extra...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("agentgate log:\n%s", tail(string(b), 60))
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if listen == "" {
			if b, _ := os.ReadFile(p.log); strings.Contains(string(b), "agentgate serving") {
				return p
			}
		} else if resp, err := http.Get("http://" + listen + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("agentgate exited at start-up: %v\n%s", p.err, tail(string(b), 40))
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("agentgate did not start listening")
	return nil
}

// waitKilled waits for p to die of SIGKILL.
func (e *crashEnv) waitKilled(p *proc, within time.Duration) {
	e.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		e.t.Fatal("agentgate did not reach the crash point")
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		e.t.Fatalf("agentgate ended with %v, want SIGKILL", p.cmd.ProcessState)
	}
}

// stop sends SIGTERM and waits for the drain.
func (e *crashEnv) stop(p *proc) {
	e.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		_ = p.cmd.Process.Kill()
		e.t.Fatal("agentgate did not drain")
	}
}

// trigger comments on a fresh issue and returns its run id and branch.
func (e *crashEnv) trigger(task string) (runID, branch string) {
	t := e.t
	t.Helper()
	e.issue++
	n := e.issue
	title := fmt.Sprintf("Crash case %d", n)
	e.h.GH.AddIssue(harness.Owner, harness.Repo, n, title, task, harness.Requester)
	body := e.commentOn(n, title, task)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	delivery := fmt.Sprintf("crash-%d-%d", n, time.Now().UnixNano())
	d, err := e.h.Deliver(ctx, "issue_comment", delivery, body)
	if err != nil {
		// The worker can take the job (and crash) before intake's answer
		// is written: the job is committed all the same.
		var runID string
		if qerr := e.db.SQL.QueryRowContext(ctx, `SELECT args->>'run_id' FROM river_job WHERE args->>'delivery_id' = $1`, delivery).Scan(&runID); qerr != nil {
			t.Fatalf("deliver: %v; job: %v", err, qerr)
		}
		return runID, gitops.BranchName(n, title)
	}
	if d.Status != http.StatusAccepted || d.RunID == "" {
		t.Fatalf("intake answered %d %q", d.Status, d.Body)
	}
	return d.RunID, gitops.BranchName(n, title)
}

// commentOn is a signed-ready issue_comment payload triggering a run on
// issue n.
func (e *crashEnv) commentOn(n int, title, task string) []byte {
	e.t.Helper()
	body, _, err := e.h.CommentPayloadWith("@agentgate "+task, harness.Requester, "User", func(m map[string]any) {
		is := m["issue"].(map[string]any)
		is["number"], is["title"], is["body"] = n, title, task
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return body
}

// waitDone waits for the run's end and returns its state.
func (e *crashEnv) waitDone(runID string, within time.Duration) string {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if v, ok, err := e.db.Effect(ctx, runID, "run.done"); err == nil && ok {
			return v
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.t.Fatalf("run %s did not finish", runID)
	return ""
}

// waitAgentRunning waits until the worker's agent container runs.
func (e *crashEnv) waitAgentRunning(within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		list, err := e.h.Docker.ContainerList(context.Background(), container.ListOptions{
			Filters: filters.NewArgs(filters.Arg("label", runner.LabelWorker+"="+e.h.Config.WorkerID), filters.Arg("status", "running")),
		})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, c := range list {
			if c.Labels[runner.LabelRole] != "relay" {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatal("the agent container never ran")
}

// checkOutcome: exactly one pull request for the trigger's branch, and one
// progress comment for the run.
func (e *crashEnv) checkOutcome(runID, branch string) {
	t := e.t
	t.Helper()
	prs := 0
	for _, pr := range e.h.GH.PullRequests(harness.Owner, harness.Repo) {
		if pr.Head == branch {
			prs++
		}
	}
	if prs != 1 {
		t.Errorf("run %s: %d pull requests for %s, want exactly 1 (all: %+v)", runID, prs, branch, e.h.GH.PullRequests(harness.Owner, harness.Repo))
	}
	progress := 0
	for _, c := range e.h.GH.Comments(harness.Owner, harness.Repo, e.issue) {
		if strings.Contains(c.Body, "run `"+runID+"`") {
			progress++
		}
	}
	if progress != 1 {
		t.Errorf("run %s: %d progress comments, want 1", runID, progress)
	}
}

// checkNoLeftovers: no container or network of the worker, no run
// directory, no work-tree mount.
func (e *crashEnv) checkNoLeftovers() {
	e.checkNoLeftoversOf(e.h.Config.WorkerID, e.h.Config.DataDir)
}

// checkNoLeftoversOf checks one worker's containers, networks, run
// directories and mounts.
func (e *crashEnv) checkNoLeftoversOf(worker, dataDir string) {
	t := e.t
	cli := e.h.Docker
	f := filters.NewArgs(filters.Arg("label", runner.LabelWorker+"="+worker))
	if list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f}); err != nil || len(list) > 0 {
		t.Errorf("containers of worker %s left behind: %d (%v)", worker, len(list), err)
		removeAll(cli, list)
	}
	if nets, err := cli.NetworkList(context.Background(), network.ListOptions{Filters: f}); err != nil || len(nets) > 0 {
		t.Errorf("networks of worker %s left behind: %d (%v)", worker, len(nets), err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dataDir, "runs", worker)); len(entries) > 0 {
		t.Errorf("run directories left behind: %d", len(entries))
	}
	if m := mountsUnder(dataDir); len(m) > 0 {
		t.Errorf("work-tree mounts left behind: %q", m)
	}
}

func removeAll(cli *client.Client, list []container.Summary) {
	for _, c := range list {
		_ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	}
}

// mountsUnder lists mount points under dir.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.HasPrefix(fields[1], dir+"/") {
			out = append(out, fields[1])
		}
	}
	return out
}

// auditVerify runs `agentgate audit verify` on the database.
func (e *crashEnv) auditVerify() {
	e.t.Helper()
	e.auditVerifyWith()
}

// auditVerifyWith runs `agentgate audit verify` with extra environment.
func (e *crashEnv) auditVerifyWith(extra ...string) {
	e.t.Helper()
	cmd := exec.Command(e.bin, "audit", "verify")
	cmd.Env = append(append(os.Environ(), "AGENTGATE_DATABASE_URL="+e.dbURL, "AGENTGATE_DATA_DIR="+e.h.Config.DataDir), extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Errorf("agentgate audit verify: %v\n%s", err, out)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestCrashKill9 kills the worker with SIGKILL at each point of a run,
// restarts it (same worker id), and checks that the run completes exactly
// once: one pull request, one progress comment, nothing left behind, and an
// audit trail that verifies.
func TestCrashKill9(t *testing.T) {
	e := newCrashEnv(t)
	const task = "agentgate-test: write CRASH.md survived"
	cases := []struct {
		name    string
		crashAt string // AGENTGATE_TEST_CRASH_AT; "" = killed from outside while the agent runs
		task    string
		// agentOnce: the agent ran once in all (sandbox.started), the
		// restarted worker resumed the push (push.resumed).
		agentOnce bool
	}{
		{name: "job taken from the queue", crashAt: "work", task: task},
		{name: "while cloning", crashAt: "phase:clone", task: task},
		{name: "while the agent runs", task: "agentgate-test: sleep 4\n" + task},
		// The change is kept before its push: the next attempt pushes it
		// without running the agent again (agentOnce).
		{name: "after the change is kept, before the push", crashAt: "after:change.kept", task: task, agentOnce: true},
		// Killed between the kept change's digest and the change: the next
		// attempt finds no change to resume and runs the agent again.
		{name: "after the kept change's digest, before the change", crashAt: "between:change.kept", task: task},
		{name: "after the push, before the pull request", crashAt: "after:git.pushed", task: task},
		{name: "after the pull request", crashAt: "after:pr.number", task: task},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			var p *proc
			if tc.crashAt != "" {
				p = e.start("AGENTGATE_TEST_CRASH_AT=" + tc.crashAt)
			} else {
				p = e.start()
			}
			runID, branch := e.trigger(tc.task)
			if tc.crashAt == "" {
				e.waitAgentRunning(2 * time.Minute)
				_ = p.cmd.Process.Kill()
			}
			e.waitKilled(p, 3*time.Minute)
			p2 := e.start()
			if state := e.waitDone(runID, 3*time.Minute); state != "finished" {
				t.Errorf("run ended %q, want finished", state)
			}
			// At once, by the restarted worker: not by River's rescuer,
			// which would wait past the job timeout.
			if b, _ := os.ReadFile(p2.log); !strings.Contains(string(b), "reclaimed this worker's unfinished jobs") {
				t.Error("the restarted worker did not reclaim its job at start-up")
			}
			e.stop(p2)
			e.checkOutcome(runID, branch)
			if tc.agentOnce {
				e.checkAgentOnce(runID)
			}
			e.checkNoLeftovers()
			e.auditVerify()
		})
	}
}

// checkAgentOnce: the run's agent started once, its push was resumed by
// a later attempt, and the kept change is gone.
func (e *crashEnv) checkAgentOnce(runID string) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	events, err := e.db.Events(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ev := range events {
		count[ev.Kind]++
	}
	if count["sandbox.started"] != 1 || count[telemetry.KindPushResumed] != 1 {
		t.Errorf("run %s: sandbox.started %d, push.resumed %d; want 1 each", runID, count["sandbox.started"], count[telemetry.KindPushResumed])
	}
	if _, kept, err := e.db.KeptChange(ctx, runID); err != nil || kept {
		t.Errorf("run %s: kept change after the run: %v, %v", runID, kept, err)
	}
}

// TestCrashPostgresRestart restarts Postgres while the agent runs: the run
// still completes exactly once.
func TestCrashPostgresRestart(t *testing.T) {
	e := newCrashEnv(t)
	p := e.start()
	runID, branch := e.trigger("agentgate-test: sleep 6\nagentgate-test: write PG.md survived")
	e.waitAgentRunning(2 * time.Minute)
	pgtest.Restart(t)
	if state := e.waitDone(runID, 4*time.Minute); state != "finished" {
		t.Errorf("run ended %q, want finished", state)
	}
	e.stop(p)
	e.checkOutcome(runID, branch)
	e.checkNoLeftovers()
	e.auditVerify()
}
