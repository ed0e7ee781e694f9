package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/testagent/directive"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/telemetry"
)

// fakeSandbox stands in for the Docker sandbox in tests of the GitHub
// side: it clones the task's branch as the sandbox does, then follows the
// test agent's directives on the host (write, append, delete, files,
// exit, summary; with none, one line appended to AGENTGATE_TEST.md), harvests
// the change and judges it by the run's policy. No container, no image: a run takes milliseconds.
// It records what it was asked.
type fakeSandbox struct {
	dir string

	mu       sync.Mutex
	events   telemetry.Recorder // the server's audit trail, once it is up
	tasks    []sandbox.Task
	verifies []sandbox.VerifyTask
}

var _ app.SandboxRunner = (*fakeSandbox)(nil)

// Execute runs t's directives against a fresh clone of its branch.
func (f *fakeSandbox) Execute(ctx context.Context, t sandbox.Task) (*sandbox.Attempt, error) {
	f.mu.Lock()
	f.tasks = append(f.tasks, t)
	rec := f.events
	f.mu.Unlock()
	event := func(kind, actor string, attrs map[string]any) error {
		if rec == nil {
			return nil
		}
		_, err := rec.Append(ctx, telemetry.Event{RunID: t.RunID, Kind: kind, Actor: actor, Attrs: attrs})
		return err
	}
	root, err := os.MkdirTemp(f.dir, "run-")
	if err != nil {
		return nil, err
	}
	ws, err := gitops.Clone(ctx, gitops.CloneOptions{URL: t.CloneURL, Branch: t.Branch, Token: t.Token, Root: root})
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	if err := ws.PrepareSandbox(ctx); err != nil {
		return nil, err
	}
	if err := event(telemetry.KindWorkspaceReady, "agentgate", map[string]any{"branch": ws.Branch, "base_commit": ws.BaseCommit}); err != nil {
		return nil, err
	}
	if err := event(telemetry.KindSandboxStarted, "agentgate", map[string]any{"agent": "fake", "image": "none", "network": "none"}); err != nil {
		return nil, err
	}
	att := &sandbox.Attempt{Workspace: ws}
	code, summary, err := followDirectives(ws.WorkTree, t.Text)
	if err != nil {
		return nil, err
	}
	att.AgentSummary = summary
	if err := event(telemetry.KindSandboxExited, "agent", map[string]any{"exit_code": code, "duration_ms": 1}); err != nil {
		return nil, err
	}
	switch {
	case code != 0:
		att.Outcome, att.Reason = sandbox.OutcomeFailed, fmt.Sprintf("the agent exited with code %d", code)
		return att, nil
	case t.PlanOnly:
		att.Outcome = sandbox.OutcomePlanned
		return att, nil
	}
	ch, err := ws.Harvest(ctx, gitops.HarvestOptions{})
	if errors.Is(err, gitops.ErrNoChange) {
		att.Outcome, att.Reason = sandbox.OutcomeNoChange, "the agent finished without changing any file"
		return att, nil
	}
	if err != nil {
		att.Outcome, att.Reason = sandbox.OutcomeRejected, err.Error()
		return att, nil
	}
	for _, fc := range ch.Files {
		if err := event(telemetry.KindFileChanged, "agent", map[string]any{"path": fc.Path, "op": fc.Op, "added": fc.Added, "removed": fc.Removed}); err != nil {
			return nil, err
		}
	}
	att.Change = ch
	// The run's policy judges the change as the sandbox's judge stage does.
	if pol := t.Policy; pol != nil {
		changed := make([]sandbox.ChangedFile, len(ch.Files))
		for i, fc := range ch.Files {
			changed[i] = sandbox.ChangedFile{Path: fc.Path, Added: fc.Added, Removed: fc.Removed, Binary: fc.Binary, Symlink: fc.Symlink}
		}
		if v := pol.Violations(changed); len(v) > 0 {
			att.Outcome, att.Reason = sandbox.OutcomeRejected, "the change breaks the repository's policy: "+strings.Join(v, "; ")
			return att, nil
		}
		att.Workflows, att.Protected = pol.ProtectedChanges(changed)
	}
	att.Outcome = sandbox.OutcomeSucceeded
	return att, nil
}

// Resume clones the kept change's branch and writes its blobs, as the
// sandbox does.
func (f *fakeSandbox) Resume(ctx context.Context, t sandbox.ResumeTask) (*sandbox.Attempt, error) {
	root, err := os.MkdirTemp(f.dir, "resume-")
	if err != nil {
		return nil, err
	}
	ws, err := gitops.Clone(ctx, gitops.CloneOptions{URL: t.CloneURL, Branch: t.Branch, Token: t.Token, Root: root})
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	if ws.BaseCommit != t.Base {
		return nil, fmt.Errorf("%w: kept on %s, now %s", sandbox.ErrBaseMoved, t.Base, ws.BaseCommit)
	}
	att := &sandbox.Attempt{Workspace: ws}
	for h, content := range t.Blobs {
		got, err := ws.WriteBlob(content)
		if err != nil {
			return nil, err
		}
		if got != h {
			att.Outcome, att.Reason = sandbox.OutcomeRejected, fmt.Sprintf("blob %s stored as %s", h, got)
			return att, nil
		}
	}
	return att, nil
}

// Verify passes every commit.
func (f *fakeSandbox) Verify(_ context.Context, t sandbox.VerifyTask) (sandbox.VerifyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies = append(f.verifies, t)
	return sandbox.VerifyResult{Conclusion: "success", Output: "ok\n", Duration: time.Millisecond}, nil
}

// executed is how many tasks the fake ran.
func (f *fakeSandbox) executed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tasks)
}

// task is the i-th task the fake ran.
func (f *fakeSandbox) task(i int) sandbox.Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tasks[i]
}

// followDirectives does what the test agent would in work: the file
// directives, the summary and the exit code; the others (sleep, network,
// limits) are the Docker tests' business and do nothing here.
func followDirectives(work, task string) (code int, summary string, err error) {
	ds, err := directive.Parse(task)
	if err != nil {
		return 2, "", nil // the test agent exits 2 on a malformed directive
	}
	if len(ds) == 0 {
		line := "Touched by agentgate test agent for: " + strings.TrimSpace(strings.SplitN(strings.TrimSpace(task), "\n", 2)[0]) + "\n"
		return 0, "The fake sandbox appended a line to `AGENTGATE_TEST.md`.\n", writeIn(work, "AGENTGATE_TEST.md", line, os.O_APPEND)
	}
	for _, d := range ds {
		switch d.Verb {
		case "write":
			err = writeIn(work, d.Args[0], directive.Unescape(d.Args[1]), os.O_TRUNC)
		case "append":
			err = writeIn(work, d.Args[0], directive.Unescape(d.Args[1]), os.O_APPEND)
		case "delete":
			err = os.RemoveAll(filepath.Join(work, d.Args[0]))
		case "files":
			n, _ := strconv.Atoi(d.Args[0])
			for i := 0; i < n && err == nil; i++ {
				err = writeIn(work, filepath.Join(d.Args[1], fmt.Sprintf("f%06d", i)), "x\n", os.O_TRUNC)
			}
		case "summary":
			summary += directive.Unescape(d.Args[0]) + "\n"
		case "exit":
			code, _ = strconv.Atoi(d.Args[0])
			return code, summary, nil
		}
		if err != nil {
			return 0, "", err
		}
	}
	return 0, summary, nil
}

func writeIn(work, path, text string, mode int) error {
	p := filepath.Join(work, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|mode, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startFakeEnv is startEnv with the fake sandbox: the GitHub stand-in,
// the git server and agentgate, and no Docker.
func startFakeEnv(t *testing.T, adjust func(*app.Config)) (*harness.Env, *fakeSandbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	fake := &fakeSandbox{dir: t.TempDir()}
	var log *slog.Logger
	if os.Getenv("AGENTGATE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	env, err := harness.Start(ctx, harness.Options{Dir: dir, Config: adjust, Logger: log, Sandbox: fake})
	if err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	fake.events = env.App.DB()
	fake.mu.Unlock()
	t.Cleanup(func() {
		if v := env.GH.Violations(); len(v) > 0 {
			t.Errorf("GitHub API violations: %q", v)
		}
		env.Close(context.Background())
	})
	return env, fake
}
