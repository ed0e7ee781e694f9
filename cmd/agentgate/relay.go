package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/agentgate/agentgate/runner/relay"
)

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

// cmdRelay is `agentgate relay`, run inside the sandbox's relay container:
// it forwards loopback ports to Unix sockets after its pre-flight and
// prints one status line on stdout. Not ready is an error (exit 1).
func cmdRelay(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	var fwd forwardFlags
	fs.Var(&fwd, "listen", "LISTEN=SOCKET: forward the loopback address LISTEN to the Unix socket SOCKET (repeatable)")
	egress := fs.String("egress", "", "the LISTEN address of the egress proxy forward (default: the first --listen)")
	probe := fs.String("probe-host", relay.DefaultProbeHost, "a host the egress proxy must refuse (pre-flight)")
	maxConns := fs.Int("max-conns", relay.DefaultMaxConns, "connections open at once, over all forwards")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := relay.Config{Forwards: fwd, Egress: *egress, ProbeHost: *probe, MaxConns: *maxConns, Log: log}
	if cfg.Egress == "" && len(fwd) > 0 {
		cfg.Egress = fwd[0].Listen
	}
	return relay.Run(ctx, cfg, stdout)
}
