package egress

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const (
	statusTooMany = http.StatusTooManyRequests
	// lingerTime bounds how long a refused connection is drained so the
	// client reads the refusal instead of a reset.
	lingerTime = 500 * time.Millisecond
)

var errHeaderTooLarge = errors.New("egress: request header too large")

// headerLimit caps the bytes read while a header is parsed; n < 0 means
// no cap (a body or tunnel payload is flowing).
type headerLimit struct {
	r    io.Reader
	n    int
	read int // bytes read since the cap was last set
}

func (l *headerLimit) Read(b []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(b)
	}
	if l.n == 0 {
		return 0, errHeaderTooLarge
	}
	if len(b) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= n
	l.read += n
	return n, err
}

func (l *headerLimit) limit(n int) { l.n, l.read = n, 0 }

// serveConn answers the requests of one client connection: one CONNECT,
// or a series of plain-HTTP requests on a keep-alive connection.
func (p *Proxy) serveConn(c net.Conn) {
	lim := &headerLimit{r: c}
	br := bufio.NewReaderSize(lim, 4096)
	for {
		lim.r = c
		lim.limit(p.opts.MaxHeaderBytes)
		_ = c.SetReadDeadline(time.Now().Add(p.opts.HeaderTimeout))
		req, err := http.ReadRequest(br)
		start := p.opts.Now()
		if err != nil {
			p.badRequest(c, lim, err, start)
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		lim.r = idleConn{Conn: c, idle: p.opts.IdleTimeout}
		lim.limit(-1)
		if req.ProtoMajor != 1 {
			d := Decision{Time: start, Method: req.Method, Reason: ReasonBadRequest}
			p.deny(c, &d, http.StatusHTTPVersionNotSupported, "agentgate egress: only HTTP/1.x proxy requests are served")
			return
		}
		if req.Method == http.MethodConnect {
			p.connect(c, br, req, start)
			return
		}
		if !p.forward(c, req, start) {
			return
		}
	}
}

// badRequest answers a request that could not be read. A connection that
// closes or idles before sending a byte is no decision.
func (p *Proxy) badRequest(c net.Conn, lim *headerLimit, err error, start time.Time) {
	quiet := lim.read == 0 && br0(err)
	if quiet {
		return
	}
	d := Decision{Time: start, Reason: ReasonBadRequest, Detail: truncate(err.Error(), 200)}
	switch {
	case errors.Is(err, errHeaderTooLarge) || lim.n == 0:
		d.Reason = ReasonHeaderTooLarge
		p.deny(c, &d, http.StatusRequestHeaderFieldsTooLarge,
			fmt.Sprintf("agentgate egress: request line and headers exceed %d bytes", p.opts.MaxHeaderBytes))
	case errors.Is(err, os.ErrDeadlineExceeded):
		d.Reason = ReasonTimeout
		p.deny(c, &d, http.StatusRequestTimeout,
			fmt.Sprintf("agentgate egress: request headers not received within %s", p.opts.HeaderTimeout))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		p.report(d) // the client is gone: nobody to answer
	default:
		p.deny(c, &d, http.StatusBadRequest, "agentgate egress: malformed proxy request: "+d.Detail)
	}
}

// br0 reports whether err means the client sent nothing (closed or idled).
func br0(err error) bool {
	return err == io.EOF || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed)
}

// deny reports d as denied with status and writes msg as the response.
func (p *Proxy) deny(c net.Conn, d *Decision, status int, msg string) {
	d.Allowed = false
	d.Status = status
	p.report(*d)
	writeError(c, status, d.Reason, msg)
}

// writeError writes a short plain-text error response, closes the write
// side and briefly drains what the client still sends, so it reads the
// answer rather than a connection reset.
func writeError(c net.Conn, status int, reason Reason, msg string) {
	body := msg + "\n"
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"+
		"Connection: close\r\nX-Agentgate-Egress: %s\r\n\r\n%s",
		status, http.StatusText(status), len(body), reason, body)
	if err != nil {
		return
	}
	closeWrite(c)
	_ = c.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c, 64<<10)
}

// truncate shortens s for logs and messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// hopHeaders are removed from forwarded requests and responses, with
// every header the Connection header names.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect",
}

func cleanHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, v := range h.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		out.Del(name)
	}
	return out
}
