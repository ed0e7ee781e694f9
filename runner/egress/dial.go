package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
)

// refusal is why open did not connect.
type refusal struct {
	status int
	reason Reason
	msg    string
}

// open checks d.Host and d.Port against the limits, the allowlist and the
// resolved addresses, then dials the first address that answers. It sets
// d.Host (normalised), d.Addr, d.Reason and d.Detail.
func (p *Proxy) open(ctx context.Context, d *Decision) (net.Conn, *refusal) {
	return p.openWith(ctx, d, p.dialVetted)
}

// openWith is open with the final step (dialling the vetted addresses)
// given as dial.
func (p *Proxy) openWith(ctx context.Context, d *Decision,
	dial func(context.Context, *Decision, []netip.Addr) (net.Conn, *refusal)) (net.Conn, *refusal) {
	raw := d.Host
	d.Host = ""
	h, ok := normalHost(raw)
	if !ok {
		d.Reason = ReasonBadRequest
		return nil, &refusal{http.StatusBadRequest, ReasonBadRequest, "agentgate egress: the request names no host"}
	}
	if isIPLiteral(h) {
		d.Host = truncate(h, 64)
		d.Reason = ReasonIPLiteral
		return nil, &refusal{http.StatusForbidden, ReasonIPLiteral,
			fmt.Sprintf("agentgate egress: IP literals are not allowed (%q): ask for a host name", truncate(raw, 64))}
	}
	if err := checkHostName(h); err != nil {
		d.Reason, d.Detail = ReasonBadRequest, fmt.Sprintf("%v: %q", err, truncate(raw, 64))
		return nil, &refusal{http.StatusBadRequest, ReasonBadRequest, "agentgate egress: " + d.Detail}
	}
	d.Host = h
	if n := p.requests.Add(1); n > int64(p.pol.maxRequests) {
		d.Reason = ReasonTooManyReqs
		return nil, &refusal{statusTooMany, ReasonTooManyReqs,
			fmt.Sprintf("agentgate egress: this run made too many network requests (limit %d)", p.pol.maxRequests)}
	}
	if p.budget.spent() {
		d.Reason = ReasonBudget
		return nil, &refusal{http.StatusForbidden, ReasonBudget,
			fmt.Sprintf("agentgate egress: this run's network byte budget (%d bytes) is spent", p.pol.maxBytes)}
	}
	if !p.pol.allows(h, d.Port) {
		d.Reason = ReasonNotAllowed
		return nil, &refusal{http.StatusForbidden, ReasonNotAllowed,
			fmt.Sprintf("agentgate egress: host %q port %d is not allowlisted for this run "+
				"(ask a maintainer to add it to the network allowlist in .github/agentgate.yml)", h, d.Port)}
	}

	rctx, cancel := context.WithTimeout(ctx, p.opts.ResolveTimeout)
	ips, err := p.opts.Resolver.LookupIPAddr(rctx, h)
	cancel()
	if err == nil && len(ips) == 0 {
		err = fmt.Errorf("no addresses")
	}
	if err != nil {
		d.Reason, d.Detail = ReasonResolveFailed, truncate(err.Error(), 200)
		return nil, &refusal{http.StatusBadGateway, ReasonResolveFailed,
			fmt.Sprintf("agentgate egress: could not resolve host %q", h)}
	}
	addrs, private, bad := p.vetAddrs(h, ips)
	if bad != "" {
		d.Reason, d.Detail = ReasonPrivate, bad
		return nil, &refusal{http.StatusForbidden, ReasonPrivate,
			fmt.Sprintf("agentgate egress: host %q resolves to a loopback, private, link-local or metadata address; refused", h)}
	}
	d.Reason = ReasonAllowed
	if private {
		d.Reason = ReasonAllowedPrivate
	}
	return dial(ctx, d, addrs)
}

// vet runs open's checks without dialling: it returns the addresses the
// run may dial for d.Host and d.Port.
func (p *Proxy) vet(ctx context.Context, d *Decision) ([]netip.Addr, *refusal) {
	var addrs []netip.Addr
	_, rf := p.openWith(ctx, d, func(_ context.Context, _ *Decision, a []netip.Addr) (net.Conn, *refusal) {
		addrs = a
		return nil, nil
	})
	return addrs, rf
}

// dialVetted dials the first of addrs (vetted by open) that answers on
// d.Port and tracks the connection.
func (p *Proxy) dialVetted(ctx context.Context, d *Decision, addrs []netip.Addr) (net.Conn, *refusal) {
	var last error
	for _, a := range addrs {
		target := netip.AddrPortFrom(a, uint16(d.Port)).String()
		dctx, cancel := context.WithTimeout(ctx, p.opts.DialTimeout)
		c, err := p.opts.Dial(dctx, "tcp", target)
		cancel()
		if err == nil {
			if !p.track(c) {
				d.Reason, d.Detail = ReasonDialFailed, "proxy closed"
				return nil, &refusal{http.StatusServiceUnavailable, ReasonDialFailed, "agentgate egress: the proxy is shutting down"}
			}
			d.Addr = target
			return c, nil
		}
		last = err
	}
	d.Reason, d.Detail = ReasonDialFailed, truncate(last.Error(), 200)
	return nil, &refusal{http.StatusBadGateway, ReasonDialFailed,
		fmt.Sprintf("agentgate egress: could not connect to host %q port %d", d.Host, d.Port)}
}

// vetAddrs turns resolver answers into dialable addresses. bad is set
// (and addrs nil) when any answer is an address the run may not reach;
// private reports whether an operator exemption was used.
func (p *Proxy) vetAddrs(host string, ips []net.IPAddr) (addrs []netip.Addr, private bool, bad string) {
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip.IP)
		if !ok {
			return nil, false, "unparsable address from resolver"
		}
		a = a.Unmap()
		if ip.Zone != "" {
			return nil, false, a.String() + " is zoned (link-local)"
		}
		c := classify(a)
		if c.name != "" {
			if !c.exemptable || !p.pol.privateExempt(host, a) {
				return nil, false, a.String() + " is " + c.name
			}
			private = true
		}
		dup := false
		for _, b := range addrs {
			dup = dup || a == b
		}
		if !dup {
			addrs = append(addrs, a)
		}
	}
	return addrs, private, ""
}

// portString is the decimal form of port.
func portString(port int) string { return strconv.Itoa(port) }
