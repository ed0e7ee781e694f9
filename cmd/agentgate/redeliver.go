package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/app/redeliver"
)

func cmdRedeliver(ctx context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
	var (
		since    time.Duration
		dryRun   bool
		interval time.Duration
	)
	cfg, fs, err := app.LoadConfig("redeliver", args, os.Getenv, func(fs *flag.FlagSet) {
		fs.DurationVar(&since, "since", 0, "redeliver failed deliveries of the last DURATION, e.g. 6h (GitHub keeps 3 days)")
		fs.BoolVar(&dryRun, "dry-run", false, "list what would be redelivered, ask GitHub for nothing")
		fs.DurationVar(&interval, "interval", time.Second, "pause between redelivery requests")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case since <= 0:
		return errors.New("--since is required: how far back to look, e.g. --since 6h")
	case cfg.AppID <= 0:
		return errors.New("setting app-id (AGENTGATE_APP_ID): required")
	case len(cfg.PrivateKey) == 0:
		return errors.New("setting private-key (AGENTGATE_PRIVATE_KEY or private-key-file): required: the app's JWT signs these requests")
	}
	verb := "redelivered"
	if dryRun {
		verb = "would redeliver"
	}
	n := 0
	outcomes, err := redeliver.Run(ctx, redeliver.Options{
		AppID: cfg.AppID, PrivateKey: cfg.PrivateKey, APIURL: cfg.GitHubAPIURL,
		Since: since, DryRun: dryRun, Interval: interval,
	}, func(o redeliver.Outcome) {
		what := o.Event
		if o.Action != "" {
			what += "." + o.Action
		}
		status := fmt.Sprintf("%d %s", o.StatusCode, o.Status)
		if o.Err != nil {
			fmt.Fprintf(stdout, "FAILED  %d  %s  %-28s %s  was: %s: %v\n", o.ID, o.GUID, what, o.DeliveredAt.UTC().Format(time.RFC3339), status, o.Err)
			return
		}
		n++
		fmt.Fprintf(stdout, "%s  %d  %s  %-28s %s  was: %s\n", verb, o.ID, o.GUID, what, o.DeliveredAt.UTC().Format(time.RFC3339), status)
	})
	fmt.Fprintf(stdout, "%d failed deliveries in the last %s; %s %d.\n", len(outcomes), since, verb, n)
	return err
}
