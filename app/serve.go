package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/journal"
	"github.com/agentgate/agentgate/runner"
	"github.com/agentgate/agentgate/sandbox"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
	"github.com/agentgate/agentgate/webhook"
)

// Server is a running agentgate: intake, queue and worker in one process.
type Server struct {
	cfg     Config
	log     *slog.Logger
	db      *store.DB
	docker  *client.Client
	queue   *queue
	intake  *webhook.Server
	http    *http.Server
	ln      net.Listener
	served  chan error
	Sandbox *sandbox.Sandbox
	health  *upstreamCheck
	stop    context.CancelFunc

	warnings []string   // start-up warnings of the configuration, on /readyz
	images   imageCheck // images runs need that the engine lacks, on /readyz

	metrics         *telemetry.Metrics
	admin           *http.Server
	adminLn         net.Listener
	metricsSrv      *http.Server
	metricsLn       net.Listener
	shutdownTracing func(context.Context) error
	shutdownLogs    func(context.Context) error
	healthz         *health     // /healthz and /readyz on the metrics listener (health.go)
	started         atomic.Bool // Start has started the queue

	secretsMu      sync.Mutex // guards secretsInForce
	secretsInForce [][]byte   // the webhook secret and the previous one, once ReloadSecrets ran
}

// ServerOptions are what a program, not the operator, gives NewServerWith.
type ServerOptions struct {
	// Sandbox, when set, runs the worker's tasks in place of a Docker
	// sandbox: no engine is opened, no image checked, nothing swept.
	// Tests of the GitHub side give a fake.
	Sandbox SandboxRunner
}

// NewServer opens the database, the Docker engine and the queue, sweeps
// what this worker left behind in an earlier life, and listens. Call Start,
// then Shutdown.
func NewServer(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	return NewServerWith(ctx, cfg, log, ServerOptions{})
}

// NewServerWith is NewServer with opts.
func NewServerWith(ctx context.Context, cfg Config, log *slog.Logger, opts ServerOptions) (_ *Server, err error) {
	if err := cfg.resolvePaths(os.Getenv); err != nil {
		return nil, err
	}
	if err := cfg.ValidateServe(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	s.warnAtStart()
	if s.shutdownTracing, err = telemetry.SetupTracing(ctx, "agentgate"); err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	if s.shutdownLogs, err = telemetry.SetupLogs(ctx, "agentgate"); err != nil {
		return nil, fmt.Errorf("otlp logs: %w", err)
	}
	if err := cfg.MakeDirs(true); err != nil {
		return nil, err
	}
	if s.db, err = store.OpenWith(ctx, cfg.DatabaseURL, store.Options{PoolSize: cfg.DatabasePoolSize}); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := s.secureAudit(ctx, cfg); err != nil {
		return nil, err
	}
	// The operator listener opens first: its address is the default public
	// URL of the run pages, which check runs link to.
	if cfg.AdminListen != "" {
		if s.adminLn, err = net.Listen("tcp", cfg.AdminListen); err != nil {
			return nil, fmt.Errorf("setting admin-listen: %w", err)
		}
		cfg.PublicURL = defaultPublicURL(cfg.PublicURL, s.adminLn.Addr())
		s.cfg = cfg
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := registerBuildInfo(reg, Build()); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s.metrics = telemetry.NewMetrics(reg)
	// Every event of every run also becomes a span event, an OTLP log
	// record and metrics.
	events := telemetry.Observe(s.db, telemetry.SpanEvent, telemetry.LogRecord, s.metrics.Observer())
	if !cfg.works() {
		// Intake only: no Docker engine, no GitHub App key.
		if s.queue, err = newQueue(ctx, s.db, cfg, nil, log); err != nil {
			return nil, err
		}
		return s, s.listen(cfg, log)
	}
	sbx := opts.Sandbox
	if sbx == nil {
		sb, err := s.dockerSandbox(ctx, cfg, events, log)
		if err != nil {
			return nil, err
		}
		sbx = sb
	}
	clients, err := NewClients(cfg.AppID, cfg.PrivateKey, cfg.GitHubAPIURL, nil)
	if err != nil {
		return nil, fmt.Errorf("setting private-key: %w", err)
	}
	clients.OnToken = s.db.AddExpiringSecret // minted tokens never reach the audit trail
	// A clock off from GitHub's makes the app's JWTs fail: say so at start-up.
	go func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		reportClockSkew(cctx, clients, log)
	}()
	worker := &Worker{Config: cfg, DB: s.db, Events: events, Metrics: s.metrics, Clients: clients, Sandbox: sbx, Logger: log,
		Admission: &sandbox.Admission{NanoCPUs: cfg.WorkerCPUs, Memory: cfg.WorkerMemory}}
	if s.queue, err = newQueue(ctx, s.db, cfg, worker, log); err != nil {
		return nil, err
	}
	s.health = newUpstreamCheck(cfg.Network)
	return s, s.listen(cfg, log)
}

// dockerSandbox opens the Docker engine, checks the images runs need and
// sweeps this worker's leftovers: the sandbox of a serving worker.
func (s *Server) dockerSandbox(ctx context.Context, cfg Config, events telemetry.Recorder, log *slog.Logger) (_ *sandbox.Sandbox, err error) {
	if s.docker, err = dockerClient(cfg.DockerHost); err != nil {
		return nil, err
	}
	if _, err := s.docker.Ping(ctx); err != nil {
		return nil, fmt.Errorf("docker engine (setting docker-host): %w", err)
	}
	missing, err := ensureImages(ctx, s.docker, cfg, log)
	if err != nil {
		return nil, err
	}
	s.images.set(missing)
	engine := runner.New(s.docker)
	// A run without its policy gets no bound private destination.
	s.Sandbox = cfg.newSandbox(engine, events, cfg.networkFor(Tenant{}), log)
	if err := s.sweep(ctx, engine); err != nil {
		return nil, err
	}
	return s.Sandbox, nil
}

// listen sets up the webhook listener (roles all and intake), the
// operator listener and the metrics listener (every role).
func (s *Server) listen(cfg Config, log *slog.Logger) (err error) {
	if cfg.intake() {
		if err := s.listenWebhook(cfg, log); err != nil {
			return err
		}
	}
	// Metrics are served unauthenticated, so only on a listener of their
	// own: never beside the webhook, nor beside the run pages people reach.
	if cfg.MetricsListen != "" {
		if s.metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			return fmt.Errorf("setting metrics-listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metrics.Handler())
		s.healthz = s.serverHealth()
		s.healthz.mount(mux)
		s.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	// Operator endpoints never share the internet-facing webhook listener.
	if s.adminLn != nil {
		mux := http.NewServeMux()
		mountAdmin(mux, s.db, cfg)
		if err := s.mountRunPages(mux); err != nil {
			return err
		}
		s.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	return nil
}

// listenWebhook sets up intake on the webhook listener.
func (s *Server) listenWebhook(cfg Config, log *slog.Logger) (err error) {
	s.intake, err = webhook.New(webhook.Config{
		Secret: cfg.WebhookSecret, PreviousSecret: cfg.Ops.WebhookSecretPrevious, Mention: cfg.Mention, Label: cfg.Label,
		EditWindow: cfg.EditTriggerWindow,
	}, s.db.SQL, s.queue.inserter, log.With("component", "webhook"))
	if err != nil {
		return fmt.Errorf("intake: %w", err)
	}
	s.intake.SetReadyDetail(s.readyDetail)
	s.http = &http.Server{
		Handler:           s.metrics.InstrumentWebhook(s.intake.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("setting listen: %w", err)
	}
	return nil
}

// secureAudit signs the audit chain with the operator's key and registers
// every secret agentgate holds, so none is ever stored in an event.
func (s *Server) secureAudit(ctx context.Context, cfg Config) error {
	// Only workers append to the audit chain and sign it: intake never
	// loads (nor creates) the key, so its pods need not mount it. A
	// missing key is created only where it cannot fork the trail
	// (store.OpenAuditKey).
	if cfg.works() {
		key, err := s.db.OpenAuditKey(ctx, cfg.AuditKeyPath())
		if err != nil {
			return fmt.Errorf("setting audit-key-file: %w", err)
		}
		trusted, err := cfg.AuditTrustedKeys()
		if err != nil {
			return err
		}
		s.db.SetAuditKey(key)
		s.db.SetTrustedAuditKeys(trusted...)
	}
	for _, secret := range []string{string(cfg.WebhookSecret), string(cfg.Ops.WebhookSecretPrevious), string(cfg.PrivateKey), cfg.Network.OpenAIKey, cfg.Network.AnthropicKey, cfg.OAuthClientSecret, cfg.AdminToken} {
		if secret != "" {
			s.db.AddSecret(secret)
		}
	}
	for _, secret := range cfg.SetupSecrets {
		for _, f := range secretforms.Forms(secret) { // its common encodings too
			s.db.AddSecret(f.Value)
		}
	}
	return nil
}

// dockerClient connects to host, or to the environment's engine.
func dockerClient(host string) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client (setting docker-host): %w", err)
	}
	return c, nil
}

// sweep removes this worker's leftovers from a previous life: containers
// labelled with its id and run directories. No run of this worker is live
// at start-up, and other workers' objects carry other labels.
func (s *Server) sweep(ctx context.Context, engine *runner.Engine) error {
	n, err := engine.Sweep(ctx, s.cfg.WorkerID)
	if err != nil {
		return fmt.Errorf("start-up sweep: %w", err)
	}
	dirs, err := s.Sandbox.SweepRunDirs()
	if err != nil {
		return fmt.Errorf("start-up sweep: %w", err)
	}
	if n+dirs > 0 {
		s.log.Info("start-up sweep removed leftovers", "containers", n, "run_dirs", dirs)
	}
	return nil
}

// Addr is the address the webhook listener listens on ("" for a worker).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// DB is the server's database.
func (s *Server) DB() *store.DB { return s.db }

// Start starts the worker and serving HTTP. They run until Shutdown; ctx
// only bounds starting.
func (s *Server) Start(ctx context.Context) error {
	if s.queue.worker != nil {
		if err := s.queue.worker.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start queue: %w", err)
		}
		s.started.Store(true)
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	if s.health != nil {
		go s.health.run(hctx, time.Minute)
	}
	go s.metrics.PollQueueDepth(hctx, 15*time.Second, s.queueDepth)
	if s.docker != nil {
		go s.watchImages(hctx, time.Minute)
	}
	if s.cfg.Ops.AuditRetention > 0 && s.cfg.works() {
		go s.retainLoop(hctx)
	}
	if s.admin != nil {
		go func() {
			if err := s.admin.Serve(s.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("admin listener", "err", err)
			}
		}()
	}
	if s.metricsSrv != nil {
		go func() {
			if err := s.metricsSrv.Serve(s.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("metrics listener", "err", err)
			}
		}()
	}
	if s.http != nil {
		go func() {
			err := s.http.Serve(s.ln)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			s.served <- err
		}()
	}
	s.log.Info("agentgate serving", "role", s.cfg.Role, "addr", s.Addr(), "admin_addr", s.AdminAddr(), "metrics_addr", s.MetricsAddr(), "worker_id", s.cfg.WorkerID, "database", s.db.Driver)
	return nil
}

// Shutdown drains: readiness fails, requests in flight finish, running
// jobs get until ctx ends to finish (then they are cancelled and River
// retries them later: accepted jobs are durable and never lost).
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.stop != nil {
		s.stop()
	}
	if s.healthz != nil {
		s.healthz.draining.Store(true)
	}
	if s.intake != nil {
		s.intake.Drain()
		s.holdForBalancers(ctx)
	}
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if s.admin != nil {
		if err := s.admin.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("admin shutdown: %w", err))
		}
	}
	if s.metricsSrv != nil {
		if err := s.metricsSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
		}
	}
	if s.queue != nil && s.queue.worker != nil {
		if err := s.queue.worker.Stop(ctx); err != nil {
			s.log.Warn("jobs still running at the drain deadline: cancelling; they will be retried", "err", err)
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			if err := s.queue.worker.StopAndCancel(cctx); err != nil {
				errs = append(errs, fmt.Errorf("queue stop: %w", err))
			}
			cancel()
		}
	}
	if s.shutdownTracing != nil {
		if err := s.shutdownTracing(context.WithoutCancel(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("tracing shutdown: %w", err))
		}
	}
	if s.shutdownLogs != nil {
		if err := s.shutdownLogs(context.WithoutCancel(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("otlp logs shutdown: %w", err))
		}
	}
	s.closeAll()
	return errors.Join(errs...)
}

// queueDepth counts the jobs waiting to run.
func (s *Server) queueDepth(ctx context.Context) (int, error) {
	var n int
	err := s.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'retryable')`).Scan(&n)
	return n, err
}

// AdminAddr is the operator listener's address ("" when disabled).
func (s *Server) AdminAddr() string {
	if s.adminLn == nil {
		return ""
	}
	return s.adminLn.Addr().String()
}

// MetricsAddr is the metrics listener's address ("" when disabled).
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

func (s *Server) closeAll() {
	if s.ln != nil {
		_ = s.ln.Close()
	}
	if s.adminLn != nil {
		_ = s.adminLn.Close()
	}
	if s.metricsLn != nil {
		_ = s.metricsLn.Close()
	}
	if s.docker != nil {
		_ = s.docker.Close()
	}
	if s.db != nil {
		_ = s.db.Close()
	}
}

// RunState reports a run's state and whether it has finished.
func (s *Server) RunState(ctx context.Context, runID string) (string, bool, error) {
	state, done, err := s.db.Effect(ctx, runID, journal.Done)
	if err != nil {
		return "", false, fmt.Errorf("run state: %w", err)
	}
	if done {
		return state, true, nil
	}
	r, err := s.db.GetRun(ctx, runID)
	if err != nil {
		return "", false, nil // not picked up yet
	}
	return r.State, false, nil
}
