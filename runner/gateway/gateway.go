package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentgate/agentgate/internal/secretforms"
)

// Gateway is one run's LLM gateway. It is an http.Handler; Serve runs it
// on a listener (the run's Unix socket) with bounded header sizes and
// timeouts.
type Gateway struct {
	apis        map[string]*upstream
	placeholder string
	budget      int64
	prices      map[string]Price
	onRequest   func(Request)
	maxBody     int64
	client      *http.Client
	log         *slog.Logger
	now         func() time.Time
	redact      *redactor
	slots       chan struct{}
	pol         *policy
	outReserve  int64 // output reserved for a request without a cap
	secrets     *secretforms.Scanner
	onSecret    func(SecretHit)
	tripped     atomic.Bool // a request carried a secret: nothing more is forwarded
	mu          sync.Mutex
	usage       Usage
	reserved    int64 // tokens reserved by requests in flight
	servers     []*http.Server
	closed      bool
	// timeouts, fields so tests can shorten them
	headerTimeout, bodyTimeout, writeTimeout time.Duration
}

// Timeouts that bound what a client can hold.
const (
	headerTimeout = 10 * time.Second // request line and headers
	bodyTimeout   = time.Minute      // the whole request body
	writeTimeout  = 2 * time.Minute  // each write to the client
	idleTimeout   = 2 * time.Minute  // keep-alive between requests
	maxHeader     = 64 << 10
)

// New returns a gateway for one run.
func New(opts Options) (*Gateway, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	g := &Gateway{
		apis:        map[string]*upstream{},
		placeholder: opts.Placeholder,
		budget:      opts.TokenBudget,
		prices:      opts.Prices,
		onRequest:   opts.OnRequest,
		maxBody:     opts.MaxBodyBytes,
		client:      newClient(opts.Client),
		log:         opts.Logger,
		now:         opts.Now,
		secrets:     opts.Secrets,
		onSecret:    opts.OnSecret,

		headerTimeout: headerTimeout,
		bodyTimeout:   bodyTimeout,
		writeTimeout:  writeTimeout,
	}
	var keys []string
	for name, u := range map[string]*Upstream{APIOpenAI: opts.OpenAI, APIAnthropic: opts.Anthropic} {
		up, err := parseUpstream(name, u)
		if err != nil {
			return nil, err
		}
		if up != nil {
			g.apis[name] = up
			keys = append(keys, up.key)
		}
	}
	g.redact = newRedactor(keys...)
	pol, err := compilePolicy(opts.Policy)
	if err != nil {
		return nil, err
	}
	g.pol = pol
	g.outReserve = opts.OutputReservation
	if g.outReserve == 0 {
		g.outReserve = DefaultOutputReservation
	}
	if g.maxBody == 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	n := opts.MaxConcurrent
	if n == 0 {
		n = DefaultMaxConcurrent
	}
	g.slots = make(chan struct{}, n)
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

// Serve answers requests on ln until Close; it returns nil after Close.
func (g *Gateway) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: g.headerTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	g.servers = append(g.servers, srv)
	g.mu.Unlock()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops every Serve, drops open connections (streams in flight end)
// and refuses requests that still reach ServeHTTP.
func (g *Gateway) Close() error {
	g.mu.Lock()
	g.closed = true
	servers := g.servers
	g.servers = nil
	g.mu.Unlock()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Usage returns the run's usage so far.
func (g *Gateway) Usage() Usage {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.usage.clone()
}

// Env returns the container environment that points an agent at this
// gateway, reachable in the container at origin (e.g.
// "http://127.0.0.1:4001"): base URLs and the placeholder key for each API
// offered.
func (g *Gateway) Env(origin string) []string {
	var env []string
	if g.apis[APIOpenAI] != nil {
		env = append(env, "OPENAI_BASE_URL="+origin+"/openai/v1", "OPENAI_API_KEY="+g.placeholder)
	}
	if g.apis[APIAnthropic] != nil {
		env = append(env, "ANTHROPIC_BASE_URL="+origin+"/anthropic", "ANTHROPIC_API_KEY="+g.placeholder)
	}
	return env
}

func (g *Gateway) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// budgetSpent reports whether the run's token budget is used up.
func (g *Gateway) budgetSpent() bool {
	if g.budget == 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.usage.Tokens() >= g.budget
}

// reserve sets need tokens aside from the budget for a request about to
// be forwarded, so that requests in flight together cannot spend more
// than the budget: it refuses (ok false, with the reason) when the tokens
// used, those reserved by requests in flight and need exceed the budget.
// finish releases the reservation when it adds the request's usage.
func (g *Gateway) reserve(need int64) (ok bool, why string) {
	if g.budget == 0 {
		return true, ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	used := g.usage.Tokens()
	switch {
	case need < 0 || need > g.budget:
		return false, fmt.Sprintf("agentgate: this request could use up to %d tokens (input estimated from its size plus its output cap), more than this run's whole LLM token budget (%d tokens); lower max_tokens / max_output_tokens", need, g.budget)
	case used >= g.budget:
		return false, fmt.Sprintf("agentgate: this run's LLM token budget (%d tokens) is spent; no further model requests are allowed", g.budget)
	case used+g.reserved+need > g.budget:
		return false, fmt.Sprintf("agentgate: this request could use up to %d tokens (input estimated from its size plus its output cap), more than this run's LLM token budget (%d tokens) has left: %d used, %d reserved by requests in flight; lower max_tokens / max_output_tokens or wait for requests in flight",
			need, g.budget, used, g.reserved)
	}
	g.reserved += need
	return true, ""
}

// finish records a request: usage (releasing its reservation), log line,
// OnRequest.
func (g *Gateway) finish(ctx context.Context, rec Request, forwarded bool, reserved int64) {
	rec.Latency = g.now().Sub(rec.Time)
	rec.Model = g.redact.String(rec.Model)
	rec.Path = g.redact.String(rec.Path)
	g.mu.Lock()
	g.reserved -= reserved
	g.usage.add(rec, forwarded)
	g.mu.Unlock()
	level := slog.LevelInfo
	if rec.Error != "" {
		level = slog.LevelWarn
	}
	g.log.Log(ctx, level, "llm request",
		"api", rec.API, "path", rec.Path, "model", rec.Model, "status", rec.Status,
		"stream", rec.Stream, "input_tokens", rec.InputTokens, "output_tokens", rec.OutputTokens,
		"estimated", rec.Estimated, "cost_usd", rec.CostUSD, "latency", rec.Latency, "error", rec.Error,
		"refused", rec.Refused, "dropped_betas", rec.DroppedBetas)
	if g.onRequest != nil {
		g.onRequest(rec)
	}
}
