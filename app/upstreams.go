package app

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/agentgate/agentgate/sandbox"
)

// upstreamCheck is the worker's health check of the destinations its runs
// depend on: the LLM gateway's upstreams and the exact hosts of the egress
// allowlist. It runs in the background, never per run, and its result is
// shown on /readyz.
type upstreamCheck struct {
	targets []string // host:port
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex
	status map[string]string
	at     time.Time
}

// newUpstreamCheck lists what cfg's runs reach: LLM upstreams with a key,
// and allowlist entries that name one host (wildcards cannot be probed).
func newUpstreamCheck(cfg sandbox.NetworkConfig) *upstreamCheck {
	seen := map[string]bool{}
	add := func(hostport string) {
		if hostport != "" && !seen[hostport] {
			seen[hostport] = true
		}
	}
	for _, u := range []struct{ base, key string }{{cfg.OpenAIURL, cfg.OpenAIKey}, {cfg.AnthropicURL, cfg.AnthropicKey}} {
		if u.base == "" || u.key == "" {
			continue
		}
		if p, err := url.Parse(u.base); err == nil && p.Host != "" {
			port := p.Port()
			if port == "" {
				port = map[string]string{"https": "443", "http": "80"}[p.Scheme]
			}
			add(net.JoinHostPort(p.Hostname(), port))
		}
	}
	if cfg.Mode == "relay" {
		for _, a := range cfg.Allow {
			host, port, err := net.SplitHostPort(a)
			if err != nil {
				host, port = a, "443"
			}
			if !strings.Contains(host, "*") {
				add(net.JoinHostPort(host, port))
			}
		}
	}
	c := &upstreamCheck{status: map[string]string{}, dial: (&net.Dialer{}).DialContext}
	for t := range seen {
		c.targets = append(c.targets, t)
	}
	sort.Strings(c.targets)
	return c
}

// run probes every target now and then every interval until ctx ends.
func (c *upstreamCheck) run(ctx context.Context, interval time.Duration) {
	if len(c.targets) == 0 {
		return
	}
	for {
		c.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// probe dials each target once, with a short timeout.
func (c *upstreamCheck) probe(ctx context.Context) {
	status := make(map[string]string, len(c.targets))
	for _, t := range c.targets {
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		start := time.Now()
		conn, err := c.dial(dctx, "tcp", t)
		cancel()
		if err != nil {
			status[t] = "unreachable: " + err.Error()
			continue
		}
		_ = conn.Close()
		status[t] = fmt.Sprintf("reachable (%s)", time.Since(start).Round(time.Millisecond))
	}
	c.mu.Lock()
	c.status, c.at = status, time.Now()
	c.mu.Unlock()
}

// report is the /readyz detail: one line per upstream.
func (c *upstreamCheck) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, t := range c.targets {
		st, ok := c.status[t]
		if !ok {
			st = "not checked yet"
		}
		fmt.Fprintf(&b, "upstream %s %s\n", t, st)
	}
	return strings.TrimRight(b.String(), "\n")
}
