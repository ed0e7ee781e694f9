package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/agentgate/agentgate/builtinagent"
)

// cmdAgent is `agentgate agent`, the built-in agent inside its sandbox
// image: it reads the task, works in the workspace through the model API
// the environment names (OPENAI_BASE_URL, OPENAI_API_KEY), prints agentgate
// events on stdout and writes summary.md. The exit code is the result's:
// 0 finished, 3 a budget used up, 1 an error.
func cmdAgent(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) (int, error) {
	cfg := builtinagent.ConfigFromEnv()
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	maxSteps := fs.Int("max-steps", builtinagent.DefaultMaxSteps, "model calls allowed")
	model := fs.String("model", "", "model name (default $AGENTGATE_MODEL, else "+builtinagent.DefaultModel+")")
	timeout := fs.Duration("command-timeout", builtinagent.DefaultCommandTimeout, "default and maximum timeout of a command the agent runs")
	stream := fs.Bool("stream", cfg.Stream, "ask for streamed completions (default $AGENTGATE_STREAM)")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if fs.NArg() > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *model != "" {
		cfg.Model = *model
	}
	cfg.MaxSteps, cfg.CommandTimeout, cfg.Stream = *maxSteps, *timeout, *stream
	cfg.Events, cfg.Log = stdout, log
	start := time.Now()
	res, err := builtinagent.Run(ctx, cfg)
	log.Info("agent done", "status", res.Status, "steps", res.Steps, "input_tokens", res.InputTokens,
		"output_tokens", res.OutputTokens, "duration", time.Since(start).Round(time.Millisecond))
	if err != nil {
		log.Error("agent stopped", "err", err)
	}
	return res.ExitCode(), nil
}
