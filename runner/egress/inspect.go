package egress

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentgate/agentgate/internal/secretforms"
)

// Exfiltration is a request the tripwire stopped: it carried one of the
// run's secrets (a planted canary or a real secret of the worker).
type Exfiltration struct {
	Time   time.Time
	Host   string
	Port   int
	Method string
	Path   string // query values redacted
	Where  string // "url", "header <Name>" or "body"
	Secret string // the secret's name, never its value
	Form   string // how it was written: literal, base64, hex, url-encoded, ...
}

// tunnel is one inspected CONNECT: the agent's TLS ends here and each
// request inside it is vetted and sent on over the proxy's own TLS.
type tunnel struct {
	p         *Proxy
	host      string
	port      int
	authority string // host, or host:port off 443
	addr      string // first vetted address, for events
	ins       []inspection
	tr        *http.Transport
	bc        *batchConn // the agent's side, under the proxy's TLS
	up, down  atomic.Int64
}

// inspectTunnel serves an inspected CONNECT. d holds the raw target.
func (p *Proxy) inspectTunnel(c net.Conn, br *bufio.Reader, d Decision, ins []inspection) {
	d.Inspected = true
	addrs, rf := p.vet(p.ctx, &d)
	if rf != nil {
		p.deny(c, &d, rf.status, rf.msg)
		return
	}
	t := &tunnel{p: p, host: d.Host, port: d.Port, authority: d.Host, ins: ins,
		addr: netip.AddrPortFrom(addrs[0], uint16(d.Port)).String()}
	if d.Port != 443 {
		t.authority = net.JoinHostPort(d.Host, portString(d.Port))
	}
	d.Addr = t.addr
	upTLS := &tls.Config{
		ServerName: t.host,
		RootCAs:    p.opts.UpstreamRoots,
		MinVersion: tls.VersionTLS12,
	}
	t.tr = &http.Transport{
		// The transport's own TLS, but over a buffered connection (see
		// inspectio.go): so the TLS config is here, and the handshake.
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			dd := Decision{Host: t.host, Port: t.port}
			up, rf := p.dialVetted(ctx, &dd, addrs)
			if rf != nil {
				return nil, errors.New(rf.msg)
			}
			tc := tls.Client(newBufferedConn(&upstreamConn{meteredConn: &meteredConn{Conn: up, p: p, idle: p.opts.IdleTimeout}, p: p, raw: up}), upTLS)
			hctx, cancel := context.WithTimeout(ctx, p.opts.DialTimeout)
			defer cancel()
			if err := tc.HandshakeContext(hctx); err != nil {
				_ = tc.Close()
				return nil, fmt.Errorf("TLS to %s: %w", t.host, err)
			}
			return tc, nil
		},
		// HTTP/1.1 to the real host: each of the agent's requests (HTTP/2
		// streams included) gets a pooled connection of its own, so one
		// download never waits on another's flow-control window; as fast
		// as HTTP/2 for a bulk download in agentgate-demo bench.
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
		TLSHandshakeTimeout:   p.opts.DialTimeout,
		ResponseHeaderTimeout: p.opts.ResponseTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   maxUpstreamConns,
		// An agent's HTTP/2 streams wait for one of these rather than open
		// a connection each.
		MaxConnsPerHost:        maxUpstreamConns,
		MaxResponseHeaderBytes: maxResponseHeader,
		// No larger than a TLS record: a body read of a record or more
		// then goes straight into the caller's buffer, not through this
		// one.
		ReadBufferSize:  16 << 10,
		WriteBufferSize: 64 << 10,
	}
	defer t.tr.CloseIdleConnections()

	_ = c.SetWriteDeadline(time.Now().Add(p.opts.IdleTimeout))
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		d.Allowed, d.Status, d.Detail = true, http.StatusOK, "client gone: "+err.Error()
		p.report(d)
		return
	}
	_ = c.SetWriteDeadline(time.Time{})
	pre, _ := br.Peek(br.Buffered())
	t.bc = &batchConn{Conn: &prefixConn{Conn: c, buf: pre}}
	tc := tls.Server(t.bc, &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			// Always the CONNECT target's name, whatever SNI the client
			// sent: the request goes to the host the allowlist checked.
			return p.opts.CA.leaf(t.host)
		},
		NextProtos: []string{"h2", "http/1.1"},
		MinVersion: tls.VersionTLS12,
		// Full-size records from the first byte: small ones only help a
		// browser render early, and each is a system call here.
		DynamicRecordSizingDisabled: true,
	})
	hctx, cancel := context.WithTimeout(p.ctx, p.opts.HeaderTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		d.Allowed, d.Status, d.Reason = false, 0, ReasonInspectFailed
		d.Detail = truncate("agent's TLS handshake failed (does it trust the run CA?): "+err.Error(), 200)
		p.report(d)
		return
	}

	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	ln := &oneConnListener{conn: tc, done: make(chan struct{})}
	srv := &http.Server{
		Handler:           t,
		ReadHeaderTimeout: p.opts.HeaderTimeout,
		IdleTimeout:       p.opts.IdleTimeout,
		MaxHeaderBytes:    p.opts.MaxHeaderBytes,
		Protocols:         &protos,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: maxInspectStreams},
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return p.ctx },
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				_ = ln.Close()
			}
		},
	}
	// Serve returns once the connection is done (ConnState closes ln), or
	// at once if it could not start: either way nothing is left open.
	_ = srv.Serve(ln)
	_ = ln.Close()
	_ = tc.Close()
	d.Allowed, d.Status = true, http.StatusOK
	d.BytesUp, d.BytesDown = t.up.Load(), t.down.Load()
	p.report(d)
}

// ServeHTTP vets and forwards one request from inside an inspected tunnel.
func (t *tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := t.p
	d := Decision{Time: p.opts.Now(), Method: r.Method, Host: t.host, Port: t.port, Addr: t.addr,
		Inspected: true, Path: redactedPath(r.URL), Reason: ReasonAllowed}
	if _, ok := p.opts.Secrets.ScanString(d.Path); ok {
		d.Path = withheldPath // the audit trail never holds a secret's value
	}
	refuse := func(status int, reason Reason, msg string) {
		d.Allowed, d.Status, d.Reason = false, status, reason
		p.report(d)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Agentgate-Egress", string(reason))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, msg+"\n")
	}
	if p.tripped.Load() {
		refuse(http.StatusForbidden, ReasonExfiltration, "agentgate egress: this run is stopped: a request carried one of its secrets")
		return
	}
	if n := p.requests.Add(1); n > int64(p.pol.maxRequests) {
		refuse(statusTooMany, ReasonTooManyReqs,
			fmt.Sprintf("agentgate egress: this run made too many network requests (limit %d)", p.pol.maxRequests))
		return
	}
	if p.budget.spent() {
		refuse(http.StatusForbidden, ReasonBudget,
			fmt.Sprintf("agentgate egress: this run's network byte budget (%d bytes) is spent", p.pol.maxBytes))
		return
	}
	if r.Method == http.MethodConnect || r.Header.Get("Upgrade") != "" {
		refuse(http.StatusForbidden, ReasonRule, "agentgate egress: protocol upgrades and CONNECT are not forwarded to an inspected host")
		return
	}
	pth, ok := cleanPath(r.URL.Path, r.URL.EscapedPath())
	if !ok {
		refuse(http.StatusBadRequest, ReasonBadRequest,
			"agentgate egress: the path has a '.', '..' or empty segment or an encoded '/': rules cannot judge it")
		return
	}
	for _, in := range t.ins {
		rule, ok := in.rules.admit(r.Method, pth)
		if !ok {
			refuse(http.StatusForbidden, ReasonRule, fmt.Sprintf(
				"agentgate egress: %s %s refused by the network rules for %s, which allow only: %s "+
					"(ask a maintainer to change the rules in .github/agentgate.yml)",
				r.Method, d.Path, in.rules.host, in.rules))
			return
		}
		if rule != "" && d.Rule == "" {
			d.Rule = rule
		}
	}

	held := &heldReader{r: io.LimitReader(r.Body, p.opts.MaxInspectBody+1), held: &p.bodiesHeld, max: p.opts.MaxInspectBody * 2}
	body, err := io.ReadAll(held)
	defer held.release()
	if errors.Is(err, errBodiesHeld) {
		refuse(http.StatusServiceUnavailable, ReasonBadRequest, fmt.Sprintf(
			"agentgate egress: the run's inspected request bodies in flight exceed %d bytes; retry", p.opts.MaxInspectBody*2))
		return
	}
	if err != nil {
		refuse(http.StatusBadRequest, ReasonBadRequest, "agentgate egress: reading the request body failed")
		return
	}
	if int64(len(body)) > p.opts.MaxInspectBody {
		refuse(http.StatusRequestEntityTooLarge, ReasonBadRequest, fmt.Sprintf(
			"agentgate egress: request bodies to inspected hosts are limited to %d bytes", p.opts.MaxInspectBody))
		return
	}
	if where, hit, found := t.scan(r, body); found {
		p.tripped.Store(true)
		d.Detail = fmt.Sprintf("%s found in the %s (%s form)", hit.Name, where, hit.Form)
		// Reported before the agent hears of it, so the run is already
		// being stopped when the agent reads the refusal.
		if p.opts.OnExfiltration != nil {
			p.opts.OnExfiltration(Exfiltration{Time: d.Time, Host: t.host, Port: t.port, Method: r.Method, Path: d.Path,
				Where: where, Secret: hit.Name, Form: hit.Form})
		}
		refuse(http.StatusForbidden, ReasonExfiltration,
			"agentgate egress: this request carries one of the run's secrets; it was not sent, and the run is stopped")
		return
	}

	var inj *injector
	for _, in := range t.ins {
		if in.inject != nil {
			if _, ok := in.inject.rules.admit(r.Method, pth); ok {
				inj = in.inject
			}
			break
		}
	}
	var sent, got int64
	var status int
	var upConn net.Conn // the pooled connection the request went out on
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { upConn = i.Conn }}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out = pr.Out.WithContext(httptrace.WithClientTrace(pr.Out.Context(), trace))
			pr.Out.URL.Scheme, pr.Out.URL.Host = "https", t.authority
			pr.Out.Host = t.authority // the name the allowlist checked, whatever Host the agent sent
			pr.Out.Body = io.NopCloser(bytes.NewReader(body))
			pr.Out.ContentLength = int64(len(body))
			pr.Out.GetBody = nil
			if len(body) == 0 && r.ContentLength <= 0 {
				pr.Out.Body = http.NoBody
			}
			if _, ok := pr.Out.Header["User-Agent"]; !ok {
				pr.Out.Header["User-Agent"] = []string{""}
			}
			if inj != nil {
				for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie", inj.header} {
					pr.Out.Header.Del(h)
				}
				// Without it the transport asks for gzip and unpacks it,
				// so the body can be searched for an echo.
				pr.Out.Header.Del("Accept-Encoding")
				pr.Out.Header.Set(inj.header, inj.value)
			}
			sent = int64(len(body))
		},
		Transport: t.tr,
		ModifyResponse: func(resp *http.Response) error {
			status = resp.StatusCode
			if tc, ok := upConn.(*tls.Conn); ok {
				if bc, ok := tc.NetConn().(*bufferedConn); ok {
					resp.Body = &fillReader{r: resp.Body, ready: bc.ready}
				}
			}
			if inj != nil {
				// The mask reads plain bytes: a host that compresses
				// anyway (it was not asked to) is unpacked when gzip and
				// refused otherwise, so no echo passes compressed.
				if err := plainBody(resp); err != nil {
					return err
				}
				maskHeader(resp.Header, inj.masks)
				// Trailers arrive after the body, past any mask applied
				// here: a response to an injected request carries none.
				resp.Trailer = nil
				// A session the host opens on the injected credential is
				// the credential's: it stays on the host side.
				resp.Header.Del("Set-Cookie")
				resp.Body = &noTrailers{ReadCloser: &maskReader{r: resp.Body, masks: inj.masks}, resp: resp}
			}
			resp.Body = &countReader{ReadCloser: resp.Body, n: &got}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			status = http.StatusBadGateway
			d.Reason, d.Detail = ReasonUpstreamFailed, truncate(err.Error(), 200)
			w.Header().Set("X-Agentgate-Egress", string(ReasonUpstreamFailed))
			http.Error(w, fmt.Sprintf("agentgate egress: the request to %q failed", t.host), http.StatusBadGateway)
		},
		ErrorLog:   log.New(io.Discard, "", 0),
		BufferPool: copyBuffers,
	}
	if r.ProtoMajor == 1 {
		w = &batchWriter{ResponseWriter: w, c: t.bc}
	}
	rp.ServeHTTP(w, r)
	t.up.Add(sent)
	t.down.Add(got)
	d.Allowed, d.Status, d.BytesUp, d.BytesDown = true, status, sent, got
	if inj != nil {
		d.Credential = inj.name
	}
	p.report(d)
}

// scan looks for the run's secrets in the request's URL, headers and body
// (and the body unpacked when it is gzip; a JSON body's strings decoded).
func (t *tunnel) scan(r *http.Request, body []byte) (string, secretforms.Hit, bool) {
	s := t.p.opts.Secrets
	if s.Len() == 0 {
		return "", secretforms.Hit{}, false
	}
	if h, ok := s.ScanString(r.Host + r.URL.RequestURI()); ok {
		return "url", h, true
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if h, ok := s.ScanString(k + ": " + v); ok {
				return "header " + k, h, true
			}
		}
	}
	if where, h, ok := scanBody(s, r, body); ok {
		return where, h, true
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			plain, _ := io.ReadAll(io.LimitReader(zr, t.p.opts.MaxInspectBody))
			if where, h, ok := scanBody(s, r, plain); ok {
				return where + " (gzip)", h, true
			}
		}
	}
	return "", secretforms.Hit{}, false
}

// scanBody scans a request body, and its JSON string escapes decoded as
// well (a secret spelt \u0041…): whatever the Content-Type says, since
// the agent chooses it and many APIs parse JSON sent as a form. Bodies
// without a backslash are scanned once.
func scanBody(s *secretforms.Scanner, _ *http.Request, body []byte) (string, secretforms.Hit, bool) {
	if h, decoded, ok := s.ScanJSON(body); ok {
		if decoded {
			return "body (json-decoded)", h, true
		}
		return "body", h, true
	}
	return "", secretforms.Hit{}, false
}

// plainBody makes resp's body plain bytes: a gzip body is unpacked (and
// the response no longer says gzip); any other Content-Encoding is an
// error, since nothing could look for an echo of a credential in it.
func plainBody(resp *http.Response) error {
	ce := strings.TrimSpace(resp.Header.Get("Content-Encoding"))
	if ce == "" || strings.EqualFold(ce, "identity") {
		return nil
	}
	if !strings.EqualFold(ce, "gzip") && !strings.EqualFold(ce, "x-gzip") {
		return fmt.Errorf("the host sent a %q-encoded response to a request carrying a credential; it cannot be checked for an echo of it", ce)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return fmt.Errorf("the host's gzip response: %w", err)
	}
	resp.Body = gzipBody{Reader: zr, orig: resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return nil
}

// gzipBody is an unpacked response body that closes the packed one.
type gzipBody struct {
	*gzip.Reader
	orig io.ReadCloser
}

func (g gzipBody) Close() error { return errors.Join(g.Reader.Close(), g.orig.Close()) }

// withheldPath stands for a request path that carried a secret.
const withheldPath = "[withheld: the path carried a secret]"

// redactedPath is u's path with every query value replaced, so the audit
// trail keeps which parameters were sent and none of their values.
func redactedPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery == "" {
		return truncate(p, 512)
	}
	var parts []string
	for kv := range strings.SplitSeq(u.RawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		parts = append(parts, k+"=[redacted]")
	}
	return truncate(p+"?"+strings.Join(parts, "&"), 512)
}

// noTrailers drops a response's trailers when its body is closed: the
// transport fills resp.Trailer as it reaches the body's end, and the
// reverse proxy copies whatever is there after closing the body.
type noTrailers struct {
	io.ReadCloser
	resp *http.Response
}

func (n *noTrailers) Close() error {
	err := n.ReadCloser.Close()
	n.resp.Trailer = nil
	return err
}

// maskHeader replaces each mask in h's values with asterisks.
func maskHeader(h http.Header, masks []string) {
	for k, vs := range h {
		for i, v := range vs {
			for _, m := range masks {
				v = strings.ReplaceAll(v, m, strings.Repeat("*", len(m)))
			}
			h[k][i] = v
		}
	}
}

// maskReader replaces each mask with asterisks of the same length (so a
// Content-Length stays right) as the bytes stream through. It holds back
// the last longest-mask-minus-one bytes until more arrive, so a mask split
// across reads is caught too.
type maskReader struct {
	r     io.ReadCloser
	masks []string
	buf   []byte // read, masked, not yet released
	store []byte // buf's backing array, from its start
	ready int    // bytes of buf that may be released
	eof   error
}

func (m *maskReader) Read(b []byte) (int, error) {
	for m.ready == 0 {
		if m.eof != nil {
			if len(m.buf) == 0 {
				return 0, m.eof
			}
			m.ready = len(m.buf)
			break
		}
		// The held-back bytes move to the front of one reused buffer,
		// and the read lands straight after them.
		m.buf = slices.Grow(append(m.store[:0], m.buf...), 32<<10)
		n, err := m.r.Read(m.buf[len(m.buf):cap(m.buf)])
		m.buf = m.buf[:len(m.buf)+n]
		m.store = m.buf[:0]
		for _, s := range m.masks {
			mask(m.buf, []byte(s))
		}
		if err != nil {
			m.eof = err
			continue
		}
		keep := 0
		for _, s := range m.masks {
			keep = max(keep, len(s)-1)
		}
		m.ready = max(len(m.buf)-keep, 0)
	}
	n := copy(b, m.buf[:m.ready])
	m.buf = m.buf[n:]
	m.ready -= n
	return n, nil
}

func (m *maskReader) Close() error { return m.r.Close() }

func mask(b, s []byte) {
	if len(s) == 0 {
		return
	}
	for i := 0; ; {
		j := bytes.Index(b[i:], s)
		if j < 0 {
			return
		}
		for k := range s {
			b[i+j+k] = '*'
		}
		i += j + len(s)
	}
}

// Bounds of one inspected tunnel: concurrent HTTP/2 streams from the
// agent, and connections to the real host.
const (
	maxInspectStreams = 64
	maxUpstreamConns  = 8
)

var errBodiesHeld = errors.New("egress: inspected request bodies in flight over the limit")

// heldReader counts what it reads into *held, the bytes of request bodies
// the run's proxy holds in memory at once, and fails past max: a run
// cannot make the worker buffer more than that whatever its streams.
type heldReader struct {
	r    io.Reader
	held *atomic.Int64
	max  int64
	n    int64
}

func (h *heldReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.n += int64(n)
	if h.held.Add(int64(n)) > h.max {
		return n, errBodiesHeld
	}
	return n, err
}

// release gives back what was counted.
func (h *heldReader) release() { h.held.Add(-h.n) }

// countReader counts the bytes read through it into *n.
type countReader struct {
	io.ReadCloser
	n *int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	*c.n += int64(n)
	return n, err
}

// upstreamConn is an inspected tunnel's connection to the real host:
// metered against the run's budget, and forgotten when closed.
type upstreamConn struct {
	*meteredConn
	p   *Proxy
	raw net.Conn
}

func (u *upstreamConn) Close() error {
	u.p.forget(u.raw)
	return nil
}

// prefixConn reads buf (what the CONNECT request's reader had buffered)
// before the connection.
type prefixConn struct {
	net.Conn
	buf []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(b, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// oneConnListener hands out one connection, then blocks until closed.
type oneConnListener struct {
	mu   sync.Mutex
	conn net.Conn
	done chan struct{}
	once sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return dummyAddr{} }

type dummyAddr struct{}

func (dummyAddr) Network() string { return "unix" }
func (dummyAddr) String() string  { return "egress" }

// copyBuffers pools the reverse proxy's copy buffers.
var copyBuffers = &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}}

// bufferPool is an httputil.BufferPool over a sync.Pool of *[]byte.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(x []byte) { b.p.Put(&x) }
