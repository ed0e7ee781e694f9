package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/agentgate/agentgate/internal/cputime"
	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/runner/egress"
)

// inspectHost is inspected by the proxy; tunnelHost is the same server
// reached through a plain CONNECT tunnel.
const (
	inspectHost = "inspect.bench.test"
	tunnelHost  = "tunnel.bench.test"
)

type benchResolver struct{}

func (benchResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if host == inspectHost || host == tunnelHost {
		return []net.IPAddr{{IP: net.IPv4(127, 0, 0, 1)}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// inspectScenario measures HTTPS three ways against one loopback HTTPS
// server: direct, through a plain CONNECT tunnel, and through inspection
// (the proxy ends the client's TLS with the run CA's certificate, checks
// the request's method and path rules and the tripwire, and opens its own
// TLS to the server). Latency is a small GET on a warm connection (what
// inspection adds to each request); throughput a large download.
func inspectScenario(ctx context.Context, e *env) Result {
	payload := e.size(100<<20, 1<<20)
	small := e.size(1000, 20)
	res := Result{
		Title: "Inspected HTTPS vs a plain tunnel vs direct",
		Command: fmt.Sprintf("Loopback HTTPS server (Go net/http, TLS 1.3, ECDSA P-256). The client (Go net/http, HTTP/1.1) trusts the server's CA directly, "+
			"or the run CA through the proxy's Unix socket. Inspection: a rule set (GET /**) and a tripwire of 12 secrets, each in its 12 forms. "+
			"Latency: %d small GETs on one warm connection. Throughput: %d MB GET.", small, payload>>20),
	}
	upCA, err := egress.NewCA("bench-upstream", nil)
	if err != nil {
		res.Err = err
		return res
	}
	big := make([]byte, 256<<10)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/big" {
				_, _ = io.WriteString(w, "ok")
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(payload))
			for sent := 0; sent < payload; sent += len(big) {
				if _, err := w.Write(big[:min(len(big), payload-sent)]); err != nil {
					return
				}
			}
		}),
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return upCA.ServerCertificate(h.ServerName)
		}},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		res.Err = err
		return res
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	upRoots := x509.NewCertPool()
	upRoots.AddCert(upCA.Certificate())

	runCA, err := egress.NewCA("bench-run", []string{inspectHost})
	if err != nil {
		res.Err = err
		return res
	}
	p, err := egress.New(egress.Policy{
		Allow:        []string{inspectHost + ":" + strconv.Itoa(port), tunnelHost + ":" + strconv.Itoa(port)},
		AllowPrivate: []string{inspectHost, tunnelHost},
		MaxBytes:     1 << 50, MaxRequests: 1 << 30,
		Inspect: []egress.Inspection{{Host: inspectHost + ":" + strconv.Itoa(port), Rules: []string{"GET /**"}}},
	}, egress.Options{Resolver: benchResolver{}, Logger: slog.New(slog.DiscardHandler), CA: runCA,
		UpstreamRoots: upRoots, Secrets: benchSecrets()})
	if err != nil {
		res.Err = err
		return res
	}
	dir, err := e.tempDir("inspect-")
	if err != nil {
		res.Err = err
		return res
	}
	sock := filepath.Join(dir, "egress.sock")
	pln, err := net.Listen("unix", sock)
	if err != nil {
		res.Err = err
		return res
	}
	go func() { _ = p.Serve(pln) }()
	defer func() { _ = p.Close() }()

	runRoots := x509.NewCertPool()
	runRoots.AddCert(runCA.Certificate())
	client := func(roots *x509.CertPool, proxied bool) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: false,
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
		if proxied {
			tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: "127.0.0.1:3128"})
			tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			}
		} else {
			tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", ln.Addr().String())
			}
		}
		return &http.Client{Transport: tr}
	}
	paths := []struct {
		name string
		c    *http.Client
		host string
	}{
		{"direct", client(upRoots, false), inspectHost},
		{"tunnel", client(upRoots, true), tunnelHost},
		{"inspected", client(runRoots, true), inspectHost},
	}
	get := func(c *http.Client, host, path string) (int64, error) {
		resp, err := c.Get(fmt.Sprintf("https://%s:%d%s", host, port, path))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return io.Copy(io.Discard, resp.Body)
	}
	type series struct{ p50, p99, mbps, cpu []float64 }
	got := map[string]*series{}
	for range e.opts.N {
		for _, pt := range paths {
			s := got[pt.name]
			if s == nil {
				s = &series{}
				got[pt.name] = s
			}
			if _, err := get(pt.c, pt.host, "/small"); err != nil { // warm the connection
				res.Err = fmt.Errorf("%s: %w", pt.name, err)
				return res
			}
			lat := make([]time.Duration, 0, small)
			for range small {
				t := time.Now()
				if _, err := get(pt.c, pt.host, "/small"); err != nil {
					res.Err = fmt.Errorf("%s: %w", pt.name, err)
					return res
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			s.p50 = append(s.p50, quantile(lat, 0.5))
			s.p99 = append(s.p99, quantile(lat, 0.99))
			t, cpu := time.Now(), cputime.Process()
			nb, err := get(pt.c, pt.host, "/big")
			if err != nil || nb != int64(payload) {
				res.Err = fmt.Errorf("%s: big: %d bytes, %v", pt.name, nb, err)
				return res
			}
			s.mbps = append(s.mbps, float64(nb)/1e6/time.Since(t).Seconds())
			// Server, proxy and client all run in this process.
			s.cpu = append(s.cpu, float64(cputime.Process()-cpu)/float64(time.Millisecond)/(float64(nb)/(1<<20)))
		}
		if err := ctx.Err(); err != nil {
			res.Err = err
			return res
		}
	}
	bp := func(s Stat) *Stat { return &s }
	in, tun, dir0 := got["inspected"], got["tunnel"], got["direct"]
	added := make([]float64, len(in.p50))
	for i := range in.p50 {
		added[i] = in.p50[i] - dir0.p50[i]
	}
	res.Rows = []Row{
		{Metric: "small GET on a warm connection, p50: inspected", Unit: "ms", Agentgate: stat(in.p50), Baseline: bp(stat(dir0.p50)), BaseName: "direct"},
		{Metric: "latency inspection adds, p50", Unit: "ms", Agentgate: stat(added), Target: "< 1 ms", Met: check(stat(added).Median < 1)},
		{Metric: "small GET on a warm connection, p50: plain tunnel", Unit: "ms", Agentgate: stat(tun.p50), Baseline: bp(stat(dir0.p50)), BaseName: "direct"},
		{Metric: "small GET on a warm connection, p99: inspected", Unit: "ms", Agentgate: stat(in.p99), Baseline: bp(stat(dir0.p99)), BaseName: "direct"},
		{Metric: "HTTPS download throughput: inspected", Unit: "MB/s", Agentgate: stat(in.mbps), Baseline: bp(stat(dir0.mbps)), BaseName: "direct",
			Target: "≥ 0.5× direct", Met: check(stat(in.mbps).Median >= 0.5*stat(dir0.mbps).Median)},
		{Metric: "HTTPS download throughput: plain tunnel", Unit: "MB/s", Agentgate: stat(tun.mbps), Baseline: bp(stat(dir0.mbps)), BaseName: "direct"},
		// CPU time (server, proxy and client) per MiB downloaded: steadier
		// than MB/s when other work shares the cores; direct over
		// inspected is the throughput ratio a CPU-bound machine allows.
		{Metric: "HTTPS download CPU per MiB: inspected", Unit: "ms", Agentgate: stat(in.cpu), Baseline: bp(stat(dir0.cpu)), BaseName: "direct"},
	}
	return res
}

// benchSecrets is a tripwire of the size a run has: four canaries and
// eight real secrets.
func benchSecrets() *secretforms.Scanner {
	var s []secretforms.Secret
	for i := range 12 {
		s = append(s, secretforms.Secret{Name: fmt.Sprintf("bench-%d", i), Value: fmt.Sprintf("bench-secret-%02d-0123456789abcdefghij", i)})
	}
	return secretforms.NewScanner(s...)
}
