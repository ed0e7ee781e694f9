package egress

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// maxResponseHeader caps an upstream's status line and headers.
const maxResponseHeader = 64 << 10

// forward relays one absolute-form plain-HTTP request and its response. It
// reports whether the client connection may carry another request.
func (p *Proxy) forward(c net.Conn, req *http.Request, start time.Time) (keep bool) {
	d := Decision{Time: start, Method: req.Method}
	if req.URL == nil || !req.URL.IsAbs() || req.URL.Host == "" {
		d.Reason = ReasonBadRequest
		p.deny(c, &d, http.StatusBadRequest, "agentgate egress: this is a proxy: send CONNECT host:port, "+
			"or an absolute-form request such as GET http://host/path")
		return false
	}
	if req.URL.Scheme != "http" {
		d.Reason, d.Detail = ReasonBadRequest, "scheme "+truncate(req.URL.Scheme, 20)
		p.deny(c, &d, http.StatusBadRequest, "agentgate egress: only http:// URLs are forwarded; use CONNECT for https")
		return false
	}
	d.Host, d.Port = req.URL.Hostname(), 80
	if ps := req.URL.Port(); ps != "" {
		port, err := parsePort(ps)
		if err != nil {
			d.Host, d.Reason, d.Detail = "", ReasonBadRequest, err.Error()
			p.deny(c, &d, http.StatusBadRequest, "agentgate egress: the URL needs a port 1-65535")
			return false
		}
		d.Port = port
	}
	if p.tripped.Load() {
		d.Reason = ReasonExfiltration
		p.deny(c, &d, http.StatusForbidden, "agentgate egress: this run is stopped: a request carried one of its secrets")
		return false
	}
	if h, ok := normalHost(d.Host); ok {
		if _, inspected := p.pol.inspections(h, d.Port); inspected {
			d.Reason, d.Inspected = ReasonRule, true
			p.deny(c, &d, http.StatusForbidden, fmt.Sprintf(
				"agentgate egress: host %q is inspected and reached over HTTPS only (CONNECT %s:443)", h, h))
			return false
		}
	}
	up, rf := p.open(p.ctx, &d)
	if rf != nil {
		p.deny(c, &d, rf.status, rf.msg)
		return false
	}
	defer p.forget(up)

	hostHeader := d.Host
	if d.Port != 80 {
		hostHeader = net.JoinHostPort(d.Host, portString(d.Port))
	}
	header := cleanHeader(req.Header)
	if _, ok := header["User-Agent"]; !ok {
		header["User-Agent"] = []string{""} // keep Go from adding its own
	}
	out := &http.Request{
		Method:     req.Method,
		URL:        &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1,
		Header:           header,
		Body:             req.Body,
		ContentLength:    req.ContentLength,
		TransferEncoding: req.TransferEncoding,
		Host:             hostHeader, // the name the allowlist checked, whatever Host the client sent
		Close:            true,
	}
	if out.URL.Path == "" {
		out.URL.Path = "/"
	}
	m := &meteredConn{Conn: up, p: p, idle: p.opts.IdleTimeout}
	fail := func(status int, msg string, err error) bool {
		d.Reason, d.BytesUp, d.BytesDown = ReasonUpstreamFailed, m.up, m.down
		if m.overspent {
			d.Reason = ReasonBudget
			msg = fmt.Sprintf("agentgate egress: this run's network byte budget (%d bytes) is spent", p.pol.maxBytes)
		}
		if err != nil {
			d.Detail = truncate(err.Error(), 200)
		}
		d.Allowed = true // it was dialled; the exchange failed
		d.Status = status
		p.report(d)
		writeError(c, status, d.Reason, msg)
		return false
	}
	if err := out.Write(m); err != nil {
		return fail(http.StatusBadGateway, fmt.Sprintf("agentgate egress: sending the request to %q failed", d.Host), err)
	}

	lim := &headerLimit{r: m}
	ubr := bufio.NewReader(lim)
	var resp *http.Response
	for {
		lim.limit(maxResponseHeader)
		m.idle = p.opts.ResponseTimeout
		r, err := http.ReadResponse(ubr, out)
		if err != nil {
			return fail(http.StatusBadGateway, fmt.Sprintf("agentgate egress: host %q did not answer with a valid HTTP response", d.Host), err)
		}
		if r.StatusCode == http.StatusSwitchingProtocols {
			return fail(http.StatusBadGateway, "agentgate egress: protocol upgrades are not forwarded", nil)
		}
		if r.StatusCode >= 200 {
			resp = r
			break
		}
		// an interim 1xx: skip it, the final response follows
	}
	lim.limit(-1)
	m.idle = p.opts.IdleTimeout
	defer resp.Body.Close()

	resp.Header = cleanHeader(resp.Header)
	bodyKnown := resp.ContentLength >= 0 || len(resp.TransferEncoding) > 0 ||
		req.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified
	keep = req.ProtoAtLeast(1, 1) && !req.Close && bodyKnown
	resp.Close = !keep
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	err := resp.Write(idleConn{Conn: c, idle: p.opts.IdleTimeout})
	d.Allowed, d.Status = true, resp.StatusCode
	d.BytesUp, d.BytesDown = m.up, m.down
	if m.overspent {
		d.Detail = "byte budget spent: response cut"
	} else if err != nil {
		d.Detail = truncate(err.Error(), 200)
	}
	p.report(d)
	return keep && err == nil
}
