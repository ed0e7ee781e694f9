package egress

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentgate/agentgate/internal/secretforms"
)

// Resolver looks host names up; *net.Resolver satisfies it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Options tune a Proxy; the zero value is usable.
type Options struct {
	Resolver   Resolver                                                          // default net.DefaultResolver
	Dial       func(ctx context.Context, network, addr string) (net.Conn, error) // default a net.Dialer; addr is always ip:port
	OnDecision func(Decision)                                                    // called once per decision, from the connection's goroutine
	Logger     *slog.Logger                                                      // default slog.Default()
	Now        func() time.Time                                                  // default time.Now

	HeaderTimeout   time.Duration // to read a request's line and headers (default 10s): slow-loris bound
	MaxHeaderBytes  int           // request line plus headers (default 32 KiB)
	ResolveTimeout  time.Duration // default 5s
	DialTimeout     time.Duration // default 10s
	ResponseTimeout time.Duration // plain HTTP: upstream's response headers (default 60s)
	IdleTimeout     time.Duration // no byte either way for this long ends an exchange (default 5m)

	// CA signs the certificates the proxy shows the agent for inspected
	// hosts; required when the Policy inspects anything.
	CA *CA
	// UpstreamRoots verifies inspected hosts' real certificates (default:
	// the system roots; an operator adds an internal CA here).
	UpstreamRoots *x509.CertPool
	// Secrets are looked for in every inspected request's URL, headers and
	// body (canaries planted in the sandbox and every real secret the
	// worker knows). A hit refuses the request and calls OnExfiltration.
	Secrets *secretforms.Scanner
	// OnExfiltration is called once per request that carried a secret.
	OnExfiltration func(Exfiltration)
	// MaxInspectBody caps an inspected request's body, which is read whole
	// to be scanned before any byte of it leaves (default 32 MiB); the
	// bodies held at once, over all the run's tunnels and streams, are
	// capped at twice that.
	MaxInspectBody int64
}

func (o Options) withDefaults() Options {
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 10 * time.Second
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 32 << 10
	}
	if o.ResolveTimeout <= 0 {
		o.ResolveTimeout = 5 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.Dial == nil {
		d := &net.Dialer{Timeout: o.DialTimeout}
		o.Dial = d.DialContext
	}
	if o.ResponseTimeout <= 0 {
		o.ResponseTimeout = 60 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.MaxInspectBody <= 0 {
		o.MaxInspectBody = 32 << 20
	}
	return o
}

// Proxy is one run's egress proxy. It is safe for concurrent use.
type Proxy struct {
	pol    compiled
	opts   Options
	budget budget
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	requests atomic.Int64
	tripped  atomic.Bool // a request carried a secret: nothing more leaves
	// bodiesHeld is the bytes of inspected request bodies in memory now.
	bodiesHeld atomic.Int64

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{} // client and upstream connections
	active    int                   // client connections being served
	wg        sync.WaitGroup

	statsMu sync.Mutex
	stats   Stats
}

// New validates p and returns a proxy for it.
func New(p Policy, opts Options) (*Proxy, error) {
	c, err := compile(p)
	if err != nil {
		return nil, fmt.Errorf("egress: %w", err)
	}
	if (len(c.inspect) > 0 || c.inspectAll) && opts.CA == nil {
		return nil, errors.New("egress: the policy inspects hosts but no run CA was given")
	}
	ctx, cancel := context.WithCancel(context.Background())
	px := &Proxy{
		pol:       c,
		opts:      opts.withDefaults(),
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
	px.budget.max = c.maxBytes
	return px, nil
}

// Serve accepts connections on ln (in production the run's Unix socket)
// until Close, then returns nil. Any other accept failure is returned. ln
// is closed when Serve returns.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	p.listeners[ln] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.listeners, ln)
		p.mu.Unlock()
		_ = ln.Close()
	}()

	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if p.isClosed() {
				return nil
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("egress: accept: %w", err)
		}
		delay = 0
		p.admit(c)
	}
}

// admit starts serving c, or refuses it when the connection limit is
// reached. The refusal is written without reading the request, so a flood
// of connections costs one short-lived goroutine each.
func (p *Proxy) admit(c net.Conn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	over := p.active >= p.pol.maxConns
	if !over {
		p.active++
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()

	go func() {
		defer p.wg.Done()
		defer p.forget(c)
		if over {
			d := Decision{Time: p.opts.Now(), Reason: ReasonTooManyConns}
			p.deny(c, &d, statusTooMany,
				fmt.Sprintf("agentgate egress: too many open connections for this run (limit %d); close some and retry", p.pol.maxConns))
			return
		}
		defer func() {
			p.mu.Lock()
			p.active--
			p.mu.Unlock()
		}()
		defer func() {
			if r := recover(); r != nil { // never let one connection take the run down
				p.opts.Logger.Error("egress: connection handler panicked", "panic", fmt.Sprint(r))
			}
		}()
		p.serveConn(c)
	}()
}

// track registers an upstream connection so Close and budget exhaustion
// can end it; it reports false (and closes c) after Close.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// forget closes c and stops tracking it.
func (p *Proxy) forget(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// budgetSpent ends every open exchange: the run may not move another byte.
func (p *Proxy) budgetSpent() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Close stops every listener, closes every open tunnel and request, and
// waits for their handlers to report. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	p.cancel()
	var errs []error
	for ln := range p.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("egress: close: %w", errors.Join(errs...))
	}
	return nil
}

// Stats returns a copy of the totals so far.
func (p *Proxy) Stats() Stats {
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	return p.stats.clone()
}

// report records d and hands it to OnDecision.
func (p *Proxy) report(d Decision) {
	if d.Duration == 0 && !d.Time.IsZero() {
		d.Duration = p.opts.Now().Sub(d.Time)
	}
	p.statsMu.Lock()
	p.stats.add(d)
	p.statsMu.Unlock()
	lvl := slog.LevelDebug
	if !d.Allowed {
		lvl = slog.LevelInfo
	}
	p.opts.Logger.Log(p.ctx, lvl, "egress decision", "method", d.Method, "host", d.Host, "port", d.Port,
		"addr", d.Addr, "allowed", d.Allowed, "reason", string(d.Reason), "status", d.Status,
		"inspected", d.Inspected, "path", d.Path, "rule", d.Rule, "bytes_up", d.BytesUp, "bytes_down", d.BytesDown, "duration", d.Duration)
	if p.opts.OnDecision != nil {
		p.opts.OnDecision(d)
	}
}
