package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	agentgate "github.com/agentgate/agentgate"
	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/app/registration"
)

const setupUsage = `Usage: agentgate setup --webhook-url https://HOST/webhook [flags]

Registers agentgate's GitHub App from its manifest (app.yml) through GitHub's
manifest flow: open the local page it prints, press the button, confirm on
GitHub; the app's id, private key and webhook secret are written to --out
(mode 0600), ready for agentgate serve --config.

`

func cmdSetup(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		webhookURL = fs.String("webhook-url", "", "where GitHub delivers events: agentgate's public https://HOST/webhook (required)")
		name       = fs.String("name", "", "the app's name on GitHub (default: the manifest's; names are unique on GitHub)")
		org        = fs.String("org", "", "register the app for this organization (default: your user)")
		githubURL  = fs.String("github-url", "https://github.com", "GitHub's web address (GHES: https://HOST)")
		apiURL     = fs.String("api-url", "https://api.github.com/", "GitHub's REST API (GHES: https://HOST/api/v3/)")
		listen     = fs.String("listen", "127.0.0.1:0", "loopback address of the local page")
		out        = fs.String("out", "agentgate-app.yml", "credentials file to write (mode 0600)")
		force      = fs.Bool("force", false, "replace --out if it exists")
		manifest   = fs.String("manifest", "", "GitHub App manifest (default: the app.yml built into agentgate)")
		timeout    = fs.Duration("timeout", 30*time.Minute, "how long to wait for GitHub's callback")
	)
	fs.Usage = func() { fmt.Fprint(fs.Output(), setupUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *webhookURL == "" {
		return errors.New("--webhook-url is required: the public https URL of agentgate's /webhook")
	}
	raw := agentgate.AppManifest
	if *manifest != "" {
		b, err := os.ReadFile(*manifest)
		if err != nil {
			return fmt.Errorf("--manifest: %w", err)
		}
		raw = b
	}
	m, err := registration.ParseManifest(raw)
	if err != nil {
		return err
	}
	_, cfs, err := app.LoadConfig("serve", nil, func(string) string { return "" }, nil)
	if err != nil {
		return err
	}
	flow, err := registration.Start(registration.Options{
		Manifest: m, Name: *name, WebhookURL: *webhookURL, Org: *org,
		GitHubURL: *githubURL, APIURL: *apiURL, Listen: *listen, Out: *out, Force: *force,
		ConfigKey: func(k string) bool { return cfs.Lookup(k) != nil },
		Logger:    log,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Open %s in a browser on this machine and press the button to register the app on GitHub.\n", flow.URL())
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := flow.Wait(wctx)
	if err != nil {
		return err
	}
	install := strings.TrimRight(res.HTMLURL, "/") + "/installations/new"
	fmt.Fprintf(stdout, `
Registered the GitHub App %q (id %d): %s
Its credentials are in %s (mode 0600: it holds the private key and the webhook secret).

Next:
  1. Install the app on the repositories agentgate may work on:
       %s
  2. Start agentgate with these credentials:
       agentgate serve --config %s
     With docker-compose or Kubernetes, put private-key and webhook-secret
     into their secrets instead (docs/operating.md, "Deployment").
  3. GitHub delivers events to %s: make sure it reaches agentgate
     (the app's settings, Advanced tab, list every delivery; a missed one
     can be replayed with agentgate redeliver).
`, res.Name, res.AppID, res.HTMLURL, res.Path, install, res.Path, res.WebhookURL)
	return nil
}
