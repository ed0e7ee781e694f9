package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/sandbox"
)

func cmdRun(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) (int, error) {
	var repo, task, image, command, agent string
	cfg, _, err := app.LoadConfig("run", args, os.Getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&repo, "repo", ".", "local git repository to run on")
		fs.StringVar(&task, "task", "", "what the agent should do (required)")
		fs.StringVar(&image, "image", "", "agent image (overrides agent-image)")
		fs.StringVar(&command, "cmd", "", "agent command (overrides agent-cmd)")
		fs.StringVar(&agent, "agent", "", "agent preset: builtin, codex, claude-code, aider, custom (overrides agent-preset)")
	})
	if err != nil {
		return 1, err
	}
	if image != "" {
		cfg.AgentImage = image
	}
	if command != "" {
		cfg.AgentCmd = strings.Fields(command)
	}
	if agent != "" {
		cfg.AgentPreset = agent
	}
	res, err := app.RunLocal(ctx, cfg, app.LocalRun{RepoPath: repo, Task: task}, log)
	if err != nil {
		return 1, err
	}
	fmt.Fprintln(stdout, res.Summary)
	if res.Branch != "" {
		fmt.Fprintf(stdout, "\nBranch %s (commit %s) created in %s.\n", res.Branch, res.Commit, repo)
	}
	if res.Outcome != sandbox.OutcomeSucceeded {
		fmt.Fprintf(stdout, "\nRun %s: %s: %s\n", res.RunID, res.Outcome, res.Reason)
		return 1, nil
	}
	return 0, nil
}
