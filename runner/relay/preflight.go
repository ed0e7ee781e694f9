package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// probeTimeout bounds each network step of the pre-flight.
const probeTimeout = 5 * time.Second

// lookupTimeout bounds the resolver check; in a namespace without routes a
// lookup fails at once.
const lookupTimeout = 2 * time.Second

// Preflight checks the namespace the relay runs in, in order: its only
// interface is lo; name lookups fail without any resolver answering; every
// socket of cfg.Forwards exists and is a socket; and a CONNECT to
// cfg.ProbeHost:443 through the egress listener is refused with 403. The
// listeners must already be serving. The error says what is wrong.
func Preflight(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	if err := checkInterfaces(cfg.Interfaces); err != nil {
		return err
	}
	if err := checkResolver(ctx, cfg.Lookup, cfg.ProbeHost); err != nil {
		return err
	}
	for _, f := range cfg.Forwards {
		if err := checkSocket(f.Socket); err != nil {
			return err
		}
	}
	return checkDenied(ctx, cfg.Egress, cfg.ProbeHost)
}

// checkInterfaces allows lo alone, up or down.
func checkInterfaces(list func() ([]net.Interface, error)) error {
	ifs, err := list()
	if err != nil {
		return fmt.Errorf("list network interfaces: %w", err)
	}
	var extra []string
	for _, i := range ifs {
		if i.Name != "lo" {
			extra = append(extra, i.Name)
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("network interface(s) %s present; the sandbox must have only lo", strings.Join(extra, ","))
	}
	return nil
}

// checkResolver requires a lookup of host to fail without an answer: a
// result, or a "no such host" (some resolver answered), means a resolver is
// reachable; a timeout means packets went somewhere.
func checkResolver(ctx context.Context, lookup func(context.Context, string) ([]string, error), host string) error {
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := lookup(lctx, host)
	if err == nil {
		return fmt.Errorf("name lookup of %s answered %v; the sandbox must have no resolver", host, addrs)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("resolver check: %w", ctx.Err())
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return fmt.Errorf("a resolver answered for %s (%v); the sandbox must have no resolver", host, err)
		}
		if dnsErr.IsTimeout {
			return fmt.Errorf("name lookup of %s timed out instead of failing at once; a resolver may be reachable", host)
		}
	}
	return nil
}

// checkSocket requires path to be a Unix socket (not followed if a symlink).
func checkSocket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("socket %s is missing: %w", path, errors.Unwrap(err))
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s is not a socket (%s)", path, fi.Mode().Type())
	}
	return nil
}

// checkDenied sends CONNECT host:443 through the egress listener and wants 403.
func checkDenied(ctx context.Context, egress, host string) error {
	target := net.JoinHostPort(host, "443")
	d := net.Dialer{Timeout: probeTimeout}
	conn, err := d.DialContext(ctx, "tcp", egress)
	if err != nil {
		return fmt.Errorf("egress probe: dial %s: %w", egress, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(probeTimeout)); err != nil {
		return fmt.Errorf("egress probe: %w", err)
	}
	if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: agentgate-relay-preflight\r\n\r\n", target, target); err != nil {
		return fmt.Errorf("egress probe: send CONNECT: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fmt.Errorf("egress probe: the egress proxy did not answer CONNECT %s through %s: %w", target, egress, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		return fmt.Errorf("egress probe: the egress proxy answered %q to CONNECT %s; a host that is not allowlisted must be refused with 403", resp.Status, target)
	}
	return nil
}
