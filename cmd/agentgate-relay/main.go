// Command agentgate-relay is the process in a run's relay container, on the
// sandbox's network trust boundary: it forwards loopback ports to the Unix
// sockets of the worker's egress proxy and LLM gateway after its pre-flight
// (see package runner/relay) and prints one status line on stdout. It is
// built from runner/relay and the standard library alone (a test keeps it
// so), statically, and is the relay image's entrypoint.
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

	"github.com/agentgate/agentgate/runner/relay"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the flags and runs the relay until ctx ends. Exit codes: 0
// after a clean stop, 1 when the relay is not ready or fails, 2 on a bad
// command line.
func run(args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fs := flag.NewFlagSet("agentgate-relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var fwd forwardFlags
	fs.Var(&fwd, "listen", "LISTEN=SOCKET: forward the loopback address LISTEN to the Unix socket SOCKET (repeatable)")
	egress := fs.String("egress", "", "the LISTEN address of the egress proxy forward (default: the first --listen)")
	probe := fs.String("probe-host", relay.DefaultProbeHost, "a host the egress proxy must refuse (pre-flight)")
	maxConns := fs.Int("max-conns", relay.DefaultMaxConns, "connections open at once, over all forwards")
	// The runner names the command first ("relay"), for relay images
	// built before this binary, whose entrypoint is agentgate.
	if len(args) > 0 && args[0] == "relay" {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agentgate-relay: unexpected arguments %q\n", fs.Args())
		return 2
	}
	cfg := relay.Config{Forwards: fwd, Egress: *egress, ProbeHost: *probe, MaxConns: *maxConns, Log: log}
	if cfg.Egress == "" && len(fwd) > 0 {
		cfg.Egress = fwd[0].Listen
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := relay.Run(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "agentgate-relay: %v\n", err)
		return 1
	}
	return 0
}

// forwardFlags collects repeated --listen LISTEN=SOCKET flags.
type forwardFlags []relay.Forward

func (f *forwardFlags) String() string {
	parts := make([]string, len(*f))
	for i, fw := range *f {
		parts[i] = fw.String()
	}
	return strings.Join(parts, ",")
}

func (f *forwardFlags) Set(s string) error {
	fw, err := relay.ParseForward(s)
	if err != nil {
		return err
	}
	*f = append(*f, fw)
	return nil
}
