// Command agentgate is the product binary: the webhook service and worker
// (serve), a local sandboxed run (run), the image builder (images), the
// GitHub App's registration (setup), redelivery, backup, the audit trail
// (audit) and the built-in agent (agent). The demo and the bench, with the
// stand-ins they need, are their own command (cmd/agentgate-demo); the
// relay container runs its own binary (cmd/agentgate-relay). A test
// (TestProductDeps) keeps test code out of this one.
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
	"syscall"

	"github.com/agentgate/agentgate/app"
)

const usage = `agentgate: hand an issue to a coding agent without handing it your repository.

Usage:
  agentgate serve   [flags]   webhook intake, queue and worker (SQLite by default);
                              --role intake|worker|all splits them (Postgres)
  agentgate worker  [flags]   the same as serve --role worker
  agentgate run     --repo PATH --task TEXT [--image IMG] [--cmd "..."]
                              the same sandboxed run on a local repository
  agentgate images            build the local images (agentgate/testagent:dev, agentgate/relay:dev, agentgate/agent:dev)
  agentgate setup   --webhook-url URL [--org ORG]
                              register the GitHub App from app.yml (GitHub's manifest flow)
  agentgate redeliver --since DURATION [--dry-run]
                              ask GitHub to redeliver the webhook deliveries that failed
  agentgate backup  --out DIR  SQLite: a consistent copy of the database and the audit key
  agentgate audit   list|show RUN|export|verify|prune
                              the audit trail: query, export for a SIEM, verify the hash chain
  agentgate agent   [--max-steps N] [--model M] [--command-timeout D]
                              the built-in agent, inside its sandbox image
  agentgate version
                              version, commit and the database schema version it knows

The demo and the bench are their own command: go run ./cmd/agentgate-demo [bench].

Run "agentgate COMMAND -h" for a command's flags. Every flag can also be set
as AGENTGATE_<FLAG> (upper case, - as _) or in a YAML file (--config).
`

// moved says where the commands that left the product binary went.
var moved = map[string]string{
	"demo":  "go run ./cmd/agentgate-demo",
	"bench": "go run ./cmd/agentgate-demo bench",
	"relay": "agentgate-relay (cmd/agentgate-relay), the relay image's entrypoint",
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], log)
	case "worker":
		// The same as serve --role worker.
		err = cmdServe(ctx, append([]string{"--role=" + app.RoleWorker}, args[1:]...), log)
	case "run":
		var code int
		code, err = cmdRun(ctx, args[1:], stdout, log)
		if err == nil {
			return code
		}
	case "agent":
		var code int
		code, err = cmdAgent(ctx, args[1:], stdout, log)
		if err == nil {
			return code
		}
	case "images":
		err = cmdImages(ctx, args[1:], stdout)
	case "demo", "bench", "relay":
		// Commands that moved out of the product binary.
		fmt.Fprintf(stderr, "agentgate %s: not in the product binary; use %s\n", args[0], moved[args[0]])
		return 2
	case "setup":
		err = cmdSetup(ctx, args[1:], stdout, log)
	case "redeliver":
		err = cmdRedeliver(ctx, args[1:], stdout, log)
	case "backup":
		err = cmdBackup(ctx, args[1:], stdout)
	case "audit":
		var code int
		code, err = cmdAudit(ctx, args[1:], stdout)
		if err == nil {
			return code
		}
	case "version", "--version":
		err = cmdVersion(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "agentgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "agentgate %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
