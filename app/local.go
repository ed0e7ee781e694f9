package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentgate/agentgate/gitops"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// LocalRun is `agentgate run`: the sandboxed run on a local repository,
// without GitHub. The result is a new branch in that repository; the
// user's checkout and current branch are not touched.
type LocalRun struct {
	RepoPath string
	Task     string
}

// LocalResult is what a local run reports.
type LocalResult struct {
	RunID   string
	Outcome sandbox.Outcome
	Reason  string
	Branch  string // set when the run succeeded
	Commit  string
	Summary string // the same markdown as the check run
}

// RunLocal executes a local run with cfg's agent, limits and database.
func RunLocal(ctx context.Context, cfg Config, lr LocalRun, log *slog.Logger) (*LocalResult, error) {
	if err := cfg.resolvePaths(os.Getenv); err != nil {
		return nil, err
	}
	if err := cfg.ValidateRun(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	repo, err := filepath.Abs(lr.RepoPath)
	if err != nil {
		return nil, fmt.Errorf("--repo: %w", err)
	}
	if fi, err := os.Stat(repo); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--repo %s: not a directory", lr.RepoPath)
	}
	if strings.TrimSpace(lr.Task) == "" {
		return nil, fmt.Errorf("--task: required")
	}
	if err := cfg.MakeDirs(true); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	key, err := db.OpenAuditKey(ctx, cfg.AuditKeyPath())
	if err != nil {
		return nil, fmt.Errorf("setting audit-key-file: %w", err)
	}
	db.SetAuditKey(key)
	docker, err := dockerClient(cfg.DockerHost)
	if err != nil {
		return nil, err
	}
	defer docker.Close()

	runID := uuid.NewString()
	sb := cfg.newSandbox(runner.New(docker), db, cfg.Network, log)
	sb.Unbounded = os.Geteuid() != 0
	if sb.Unbounded {
		log.Warn("not root: the work tree is not bounded in size (the server always bounds it)")
	}
	if err := telemetry.Record(ctx, db, runID, telemetry.KindRunQueued, "local", map[string]any{"repo": repo}); err != nil {
		return nil, err
	}
	att, err := sb.Execute(ctx, sandbox.Task{RunID: runID, CloneURL: repo, Text: lr.Task, Actor: "local"})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := att.Close(); err != nil {
			log.Warn("run directory cleanup", "err", err)
		}
	}()
	res := &LocalResult{RunID: runID, Outcome: att.Outcome, Reason: att.Reason}
	if att.Outcome == sandbox.OutcomeSucceeded {
		title := gitops.OneLine(strings.SplitN(strings.TrimSpace(lr.Task), "\n", 2)[0], 72)
		msg := gitops.CommitMessage(0, title, runID, gitops.Signature{Name: "agentgate local run", Email: "agentgate@localhost"})
		sha, err := att.Workspace.Commit(ctx, att.Change, msg, gitops.Signature{Name: "agentgate", Email: "agentgate@localhost", When: time.Now().UTC()})
		if err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
		branch := "agentgate/local-" + runID
		if err := att.Workspace.Push(ctx, gitops.PushOptions{URL: repo, Commit: sha, Branch: branch}); err != nil {
			return nil, fmt.Errorf("create branch %s: %w", branch, err)
		}
		res.Branch, res.Commit = branch, sha
		if err := telemetry.Record(ctx, db, runID, telemetry.KindGitPushed, "agentgate", map[string]any{"commit": sha, "branch": branch}); err != nil {
			return nil, err
		}
	}
	kind := telemetry.KindRunFinished
	if att.Outcome != sandbox.OutcomeSucceeded && att.Outcome != sandbox.OutcomeNoChange {
		kind = telemetry.KindRunFailed
	}
	if err := telemetry.Record(ctx, db, runID, kind, "agentgate", map[string]any{"outcome": string(att.Outcome), "reason": att.Reason}); err != nil {
		return nil, err
	}
	events, err := db.Events(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	sum := telemetry.Summarize(events)
	sum.Outcome = string(att.Outcome)
	res.Summary = sum.Markdown()
	return res, nil
}
