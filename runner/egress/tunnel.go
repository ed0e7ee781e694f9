package egress

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// spliceDirections counts tunnel directions relayed with splice(2) rather
// than the copy loop; tests read it to see which path ran.
var spliceDirections atomic.Int64

// connect answers a CONNECT host:port request: it vets and dials the
// target, then relays bytes both ways until either side is done.
func (p *Proxy) connect(c net.Conn, br *bufio.Reader, req *http.Request, start time.Time) {
	d := Decision{Time: start, Method: http.MethodConnect}
	host, portStr, err := net.SplitHostPort(req.RequestURI)
	if err != nil {
		d.Reason, d.Detail = ReasonBadRequest, truncate(err.Error(), 200)
		p.deny(c, &d, http.StatusBadRequest, "agentgate egress: CONNECT needs host:port (for example CONNECT example.com:443)")
		return
	}
	port, err := parsePort(portStr)
	if err != nil {
		d.Reason, d.Detail = ReasonBadRequest, err.Error()
		p.deny(c, &d, http.StatusBadRequest, "agentgate egress: CONNECT needs a port 1-65535")
		return
	}
	d.Host, d.Port = host, port
	if h, ok := normalHost(host); ok {
		if ins, inspected := p.pol.inspections(h, port); inspected {
			p.inspectTunnel(c, br, d, ins)
			return
		}
	}
	if p.tripped.Load() {
		d.Reason = ReasonExfiltration
		p.deny(c, &d, http.StatusForbidden, "agentgate egress: this run is stopped: a request carried one of its secrets")
		return
	}
	up, rf := p.open(p.ctx, &d)
	if rf != nil {
		p.deny(c, &d, rf.status, rf.msg)
		return
	}
	defer p.forget(up)

	_ = c.SetWriteDeadline(time.Now().Add(p.opts.IdleTimeout))
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		d.Allowed, d.Status, d.Detail = true, http.StatusOK, "client gone: "+err.Error()
		p.report(d)
		return
	}
	act := newActivity() // the exchange is idle only when both ways are
	m := &meteredConn{Conn: up, p: p, idle: p.opts.IdleTimeout, act: act}
	client := idleConn{Conn: c, idle: p.opts.IdleTimeout, act: act}
	err = relay(client, br, m)
	d.Allowed, d.Status = true, http.StatusOK
	d.BytesUp, d.BytesDown = m.up, m.down
	if m.overspent {
		d.Detail = "byte budget spent: tunnel closed"
	} else if err != nil {
		d.Detail = truncate(err.Error(), 200)
	}
	p.report(d)
}

// relay copies client→up (reading clientR, which holds what was buffered
// after the CONNECT line) and up→client. A side that ends cleanly
// half-closes the other; an error closes both. It returns the first error.
//
// When both sockets allow it (Linux, TCP or Unix stream sockets) the bytes
// move with splice(2) and never enter user space; otherwise, or when the
// kernel refuses, a copy loop through a buffer does the same job.
func relay(client net.Conn, clientR io.Reader, up net.Conn) error {
	upload, download, ok := spliceCopiers(client, clientR, up)
	if !ok {
		upload = func() error { return pipe(up, clientR) }
		download = func() error { return pipe(client, up) }
	}
	errc := make(chan error, 1)
	go func() {
		err := upload()
		finish(err, up, client)
		errc <- err
	}()
	err := download()
	finish(err, client, up)
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// finish ends one direction: dst gets EOF after a clean end; an error ends
// the whole exchange.
func finish(err error, dst, other net.Conn) {
	if err == nil {
		closeWrite(dst)
		return
	}
	_ = dst.Close()
	_ = other.Close()
}

// pipe copies src to dst until EOF (nil) or an error.
func pipe(dst io.Writer, src io.Reader) error {
	buf := make([]byte, 64<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
