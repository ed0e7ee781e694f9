package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/runner/egress"
	"github.com/agentgate/agentgate/runner/gateway"
	"github.com/agentgate/agentgate/telemetry"
)

// Ports inside the sandbox's network namespace (loopback only).
const (
	egressPort  = 3128
	gatewayPort = 4000
)

// runNetwork is one run's host side of the relayed network: the egress
// proxy and the LLM gateway, each on a Unix socket that only the run's
// relay container sees.
type runNetwork struct {
	sockDir string
	user    string // the sandbox user, whose group reaches the sockets
	spec    *runner.Network
	env     []string
	caFile  string // the run CA bundle for runner.Spec.CAFile; "" without inspection
	proxy   *egress.Proxy
	gateway *gateway.Gateway
	wg      sync.WaitGroup
}

// netOptions are what a phase adds to its network: the secrets the proxy
// and the gateway refuse to let out, and what to do when one tries.
type netOptions struct {
	secrets *secretforms.Scanner       // nil: no tripwire
	onExfil func(attrs map[string]any) // called once per request that carried a secret
	phase   string                     // "setup" or "verify" ("" for the agent's): the hit's phase and actor
}

// startNetwork opens the run's sockets in dir/sock and serves them. Every
// decision and model request becomes an event of the run.
func (s *Sandbox) startNetwork(ctx context.Context, runID string, cfg NetworkConfig, nopts ...netOptions) (_ *runNetwork, err error) {
	var no netOptions
	if len(nopts) > 0 {
		no = nopts[0]
	}
	n := &runNetwork{}
	defer func() {
		if err != nil {
			_ = n.Close()
		}
	}()
	// Unix socket paths are limited to 107 bytes, which a run directory
	// under a deep data directory can exceed: the sockets live in a short
	// temporary directory of their own, removed with the run.
	// Only agentgate and the sandbox user's group (the relay) reach them.
	n.user = runner.DefaultUser()
	sockDir, err := runner.MakeSocketDir("", sockDirPrefix(s.WorkerID), n.user)
	if err != nil {
		return nil, err
	}
	n.sockDir = sockDir
	// Events are appended from the servers' goroutines; they outlive no
	// run (Close waits for them) and use a context of their own so a
	// cancelled run still records what happened.
	record := func(kind, actor string, attrs map[string]any) {
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := s.Events.Append(ectx, telemetry.Event{RunID: runID, Kind: kind, Actor: actor, Attrs: attrs}); err != nil {
			s.logger().Warn("audit network event", "run_id", runID, "kind", kind, "err", err)
		}
	}
	ins, err := inspections(cfg.Inspect, s.Credentials)
	if err != nil {
		return nil, fmt.Errorf("egress inspection: %w", err)
	}
	eopts := egress.Options{Secrets: no.secrets}
	if len(ins) > 0 || cfg.InspectAll {
		// A CA for this run only: its key stays in this process and dies
		// with the run; the sandbox gets its certificate.
		if eopts.CA, err = egress.NewCA(runID, caPermitted(cfg)); err != nil {
			return nil, err
		}
		if n.caFile, err = writeCABundle(sockDir, eopts.CA); err != nil {
			return nil, err
		}
		if eopts.UpstreamRoots, err = upstreamRoots(cfg.UpstreamCAFile); err != nil {
			return nil, err
		}
	}
	if no.onExfil != nil {
		eopts.OnExfiltration = func(x egress.Exfiltration) {
			attrs := map[string]any{"path": "egress", "host": x.Host, "port": x.Port, "method": x.Method,
				"url_path": x.Path, "where": x.Where, "secret": x.Secret, "form": x.Form}
			actor := "agent"
			if no.phase != "" {
				actor, attrs["phase"] = no.phase, no.phase
			}
			record(telemetry.KindEgressExfiltration, actor, attrs)
			no.onExfil(attrs)
		}
	}
	eopts.Logger = s.logger().With("run_id", runID, "component", "egress")
	eopts.OnDecision = func(d egress.Decision) {
		kind := telemetry.KindNetDenied
		if d.Allowed {
			kind = telemetry.KindNetAllowed
		}
		if d.Host == runner.DefaultProbeDeniedHost {
			kind = telemetry.KindNetPreflight
		}
		attrs := map[string]any{
			"method": d.Method, "host": d.Host, "port": d.Port, "addr": d.Addr,
			"reason": string(d.Reason), "status": d.Status,
			"bytes_up": d.BytesUp, "bytes_down": d.BytesDown, "duration_ms": d.Duration.Milliseconds(),
		}
		if d.Inspected {
			attrs["inspected"] = true
			if d.Method != "CONNECT" {
				// one request inside an inspected tunnel
				kind = telemetry.KindNetRequest
				attrs["allowed"] = d.Allowed
				attrs["path"], attrs["rule"], attrs["credential"] = d.Path, d.Rule, d.Credential
			}
		}
		actor := "agent"
		if cfg.setupPhase {
			actor, attrs["phase"] = "setup", "setup"
		}
		record(kind, actor, attrs)
	}
	proxy, err := egress.New(egress.Policy{
		Allow: cfg.Allow, AllowPrivate: cfg.AllowPrivate, MaxBytes: cfg.MaxBytes, MaxConns: cfg.MaxConns,
		Inspect: ins, InspectAll: cfg.InspectAll,
	}, eopts)
	if err != nil {
		return nil, fmt.Errorf("egress policy (setting egress-allow): %w", err)
	}
	n.proxy = proxy
	ports := map[int]string{}
	if err := n.serve(filepath.Join(sockDir, "egress.sock"), proxy.Serve); err != nil {
		return nil, err
	}
	ports[egressPort] = "egress.sock"

	if cfg.LLMConfigured() {
		opts := gateway.Options{
			Placeholder:       gateway.NewPlaceholder(runID),
			TokenBudget:       cfg.TokenBudget,
			OutputReservation: cfg.Gateway.OutputReservation,
			Policy:            cfg.Gateway.Policy(),
			Prices:            map[string]gateway.Price{},
			Logger:            s.logger().With("run_id", runID, "component", "gateway"),
			Secrets:           no.secrets,
			OnRequest: func(r gateway.Request) {
				kind := telemetry.KindLLMRequest
				if r.Error == gateway.ErrRefused {
					kind = telemetry.KindLLMRefused
				}
				record(kind, "agent", r.Attrs())
			},
		}
		for m, p := range cfg.Prices {
			opts.Prices[m] = gateway.Price{InputPerMTok: p[0], OutputPerMTok: p[1]}
		}
		if cfg.OpenAIURL != "" && cfg.OpenAIKey != "" {
			opts.OpenAI = &gateway.Upstream{BaseURL: cfg.OpenAIURL, Key: cfg.OpenAIKey}
		}
		if cfg.AnthropicURL != "" && cfg.AnthropicKey != "" {
			opts.Anthropic = &gateway.Upstream{BaseURL: cfg.AnthropicURL, Key: cfg.AnthropicKey}
		}
		if no.onExfil != nil {
			opts.OnSecret = func(h gateway.SecretHit) {
				attrs := map[string]any{"path": "gateway", "api": h.API, "url_path": h.Path, "where": "body",
					"secret": h.Secret, "form": h.Form}
				record(telemetry.KindEgressExfiltration, "agent", attrs)
				no.onExfil(attrs)
			}
		}
		gw, err := gateway.New(opts)
		if err != nil {
			return nil, fmt.Errorf("llm gateway: %w", err)
		}
		n.gateway = gw
		// The gateway's policy, for the audit trail and the provenance.
		record(telemetry.KindLLMGateway, "agentgate", cfg.Gateway.attrs())
		if err := n.serve(filepath.Join(sockDir, "gateway.sock"), gw.Serve); err != nil {
			return nil, err
		}
		ports[gatewayPort] = "gateway.sock"
		n.env = gw.Env(fmt.Sprintf("http://127.0.0.1:%d", gatewayPort))
	}
	n.spec = &runner.Network{
		SocketDir:  sockDir,
		RelayImage: cfg.RelayImage,
		Ports:      ports,
		EgressPort: egressPort,
	}
	return n, nil
}

// serve listens on a Unix socket the sandbox user can connect to.
func (n *runNetwork) serve(path string, serve func(net.Listener) error) error {
	// The relay runs as the unprivileged sandbox user: its group may
	// connect, nobody else.
	ln, err := runner.ListenSocket(filepath.Dir(path), filepath.Base(path), n.user)
	if err != nil {
		return err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := serve(ln); err != nil {
			slog.Warn("run network server stopped", "socket", filepath.Base(path), "err", err)
		}
	}()
	return nil
}

// Close stops both servers and waits for their goroutines.
func (n *runNetwork) Close() error {
	var errs []error
	if n.proxy != nil {
		errs = append(errs, n.proxy.Close())
	}
	if n.gateway != nil {
		errs = append(errs, n.gateway.Close())
	}
	n.wg.Wait()
	if n.sockDir != "" {
		errs = append(errs, os.RemoveAll(n.sockDir))
	}
	return errors.Join(errs...)
}

// sockDirPrefix names a worker's socket directories, so its start-up sweep
// finds its own and no other worker's.
func sockDirPrefix(workerID string) string {
	return "agentgate-sock-" + safeName(workerID) + "-"
}

func (s *Sandbox) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
