package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentgate/agentgate/app"
)

// cmdServe runs intake and/or a worker. Its logger is made from the
// settings (log-format, log-level), not the caller's default one.
func cmdServe(ctx context.Context, args []string, _ *slog.Logger) error {
	// SIGHUP re-reads the configuration (and its *_FILE secrets) and
	// applies new webhook secrets; so does a timer (Kubernetes updates a
	// mounted Secret in place). It never ends the process, from here on.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg, _, err := app.LoadConfig("serve", args, os.Getenv, nil)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg, os.Stderr)
	slog.SetDefault(log)
	// Long enough for the longest job to finish (then the clean-up), so a
	// deploy does not kill runs; deploy/ sets the grace periods above it.
	drain := cfg.DrainTimeout()
	srv, err := app.NewServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	go srv.WatchSecrets(ctx, func() (app.Config, error) {
		c, _, err := app.LoadConfig("serve", args, os.Getenv, nil)
		return c, err
	}, hup)
	<-ctx.Done()
	log.Info("signal received: draining", "deadline", drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("drained")
	return nil
}
