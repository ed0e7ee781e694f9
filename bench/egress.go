package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/agentgate/agentgate/internal/upstream"
	"github.com/agentgate/agentgate/runner/egress"
)

// benchHost is the allowlisted name the proxy resolves to loopback.
const benchHost = "bench.test"

// loopbackResolver answers benchHost with 127.0.0.1 and nothing else.
type loopbackResolver struct{}

func (loopbackResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if host == benchHost {
		return []net.IPAddr{{IP: net.IPv4(127, 0, 0, 1)}}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// egressScenario measures the egress proxy (on its Unix socket, as the
// relay reaches it) against a direct TCP connection: a small GET over a
// fresh connection (p50, p99) and a large download's throughput through a
// CONNECT tunnel.
func egressScenario(ctx context.Context, e *env) Result {
	payload := e.size(100<<20, 1<<20)
	small := e.size(1000, 20)
	res := Result{
		Title: "Egress proxy vs the direct path",
		Command: fmt.Sprintf("Loopback upstream; the proxy on its Unix socket with the production policy checks (allowlist, resolution, private-address rule, budgets). "+
			"Latency: %d small GETs, each on a new connection (CONNECT + GET through the proxy). Throughput: %d MB through a CONNECT tunnel.", small, payload>>20),
	}
	port, stop, err := upstream.Start(payload)
	if err != nil {
		res.Err = err
		return res
	}
	defer stop()
	p, err := egress.New(egress.Policy{
		Allow: []string{benchHost + ":" + strconv.Itoa(port)}, AllowPrivate: []string{benchHost},
		MaxBytes: 1 << 50, MaxRequests: 1 << 30,
	}, egress.Options{Resolver: loopbackResolver{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		res.Err = err
		return res
	}
	dir, err := e.tempDir("egress-")
	if err != nil {
		res.Err = err
		return res
	}
	sock := filepath.Join(dir, "egress.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		res.Err = err
		return res
	}
	go func() { _ = p.Serve(ln) }()
	defer func() { _ = p.Close() }()

	direct := func() (net.Conn, *bufio.Reader, error) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return nil, nil, err
		}
		return c, bufio.NewReaderSize(c, 64<<10), nil
	}
	tunnel := func() (net.Conn, *bufio.Reader, error) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(c, "CONNECT %s:%d HTTP/1.1\r\nHost: %s\r\n\r\n", benchHost, port, benchHost)
		br := bufio.NewReaderSize(c, 64<<10)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil || resp.StatusCode != http.StatusOK {
			_ = c.Close()
			return nil, nil, fmt.Errorf("CONNECT: %v %v", resp, err)
		}
		return c, br, nil
	}
	get := func(open func() (net.Conn, *bufio.Reader, error), target string) (int64, error) {
		c, br, err := open()
		if err != nil {
			return 0, err
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, benchHost)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", target, resp.Status)
		}
		return io.Copy(io.Discard, resp.Body)
	}
	type series struct{ p50, p99, mbps []float64 }
	got := map[string]*series{"direct": {}, "proxy": {}}
	opens := map[string]func() (net.Conn, *bufio.Reader, error){"direct": direct, "proxy": tunnel}
	for range e.opts.N {
		for _, k := range []string{"direct", "proxy"} {
			lat := make([]time.Duration, 0, small)
			for range small {
				t := time.Now()
				if _, err := get(opens[k], "/small"); err != nil {
					res.Err = fmt.Errorf("%s: %w", k, err)
					return res
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			got[k].p50 = append(got[k].p50, quantile(lat, 0.5))
			got[k].p99 = append(got[k].p99, quantile(lat, 0.99))
			t := time.Now()
			nb, err := get(opens[k], "/big")
			if err != nil || nb != int64(payload) {
				res.Err = fmt.Errorf("%s: big: %d bytes, %v", k, nb, err)
				return res
			}
			got[k].mbps = append(got[k].mbps, float64(nb)/1e6/time.Since(t).Seconds())
		}
		if err := ctx.Err(); err != nil {
			res.Err = err
			return res
		}
	}
	bp := func(s Stat) *Stat { return &s }
	tp := stat(got["proxy"].mbps)
	dp := stat(got["direct"].mbps)
	res.Rows = []Row{
		{Metric: "small GET on a new connection, p50", Unit: "ms", Agentgate: stat(got["proxy"].p50), Baseline: bp(stat(got["direct"].p50)), BaseName: "direct"},
		{Metric: "small GET on a new connection, p99", Unit: "ms", Agentgate: stat(got["proxy"].p99), Baseline: bp(stat(got["direct"].p99)), BaseName: "direct"},
		{Metric: "throughput through a CONNECT tunnel", Unit: "MB/s", Agentgate: tp, Baseline: bp(dp), BaseName: "direct",
			Target: "≥ 0.8× direct", Met: check(tp.Median >= 0.8*dp.Median)},
	}
	return res
}
