// Command agentgate-demo runs agentgate end to end on this machine with the
// stand-ins it needs instead of GitHub and a model (demo), and measures it
// against baselines (bench). It is not the product: the stand-ins (the
// GitHub API stand-in, the git server, the scripted model) live here and
// never in the agentgate binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `agentgate-demo: agentgate end to end on this machine, with stand-ins for GitHub and the model.

Usage:
  agentgate-demo [demo] [-v] [-dir DIR] [-serve]
                              the whole loop on this machine, no GitHub account needed
  agentgate-demo bench [-n N] [-short] [-only intake,run,...] [-dir DIR] [-out FILE]
                              measure against baselines; BENCHMARKS.md tables

Run "agentgate-demo COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	// The demo is the default command: `agentgate-demo -v` is `agentgate-demo demo -v`.
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0])) {
		args = append([]string{"demo"}, args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, log)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout, log)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "agentgate-demo: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "agentgate-demo %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }
