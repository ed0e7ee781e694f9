package main

import (
	"context"
	"io"

	"github.com/agentgate/agentgate/cmd/internal/auditcmd"
)

// cmdAudit runs `agentgate audit SUBCOMMAND` (see auditcmd.Run).
func cmdAudit(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	return auditcmd.Run(ctx, args, stdout)
}
