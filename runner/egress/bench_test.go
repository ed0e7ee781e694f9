package egress

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/upstream"
)

const benchPayload = 100 << 20 // 100 MB for the throughput runs

// benchServer answers each connection on loopback: after a request's
// header it writes either a small HTTP response or, for "GET /big",
// 100 MB, then hangs up.
func benchServer(b *testing.B) int {
	port, stop, err := upstream.Start(benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	return port
}

// BenchmarkEgress measures, in one run, the proxy's added latency on a
// small request over a fresh connection (p50/p99, direct vs CONNECT vs
// plain-HTTP forwarding) and its throughput on a 100 MB download through
// a CONNECT tunnel vs direct. The proxy listens on a Unix socket, as in
// production.
func BenchmarkEgress(b *testing.B) {
	port := benchServer(b)
	tp := startProxy(b, Policy{Allow: []string{"bench.test:" + strconv.Itoa(port)}, AllowPrivate: []string{"bench.test"}, MaxBytes: 1 << 50, MaxRequests: 1 << 30},
		map[string][]string{"bench.test": {"127.0.0.1"}}, nil)
	direct := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			b.Fatal(err)
		}
		return c, bufio.NewReaderSize(c, 64<<10)
	}
	tunnel := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("unix", tp.sock)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(c, "CONNECT bench.test:%d HTTP/1.1\r\nHost: bench.test\r\n\r\n", port)
		br := bufio.NewReaderSize(c, 64<<10)
		resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("CONNECT: %v %v", resp, err)
		}
		return c, br
	}
	get := func(open func() (net.Conn, *bufio.Reader), target string) int64 {
		c, br := open()
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: bench.test\r\n\r\n", target)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET %s: %v %v", target, resp, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	forward := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("unix", tp.sock)
		if err != nil {
			b.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	abs := "http://bench.test:" + strconv.Itoa(port)

	latency := func(open func() (net.Conn, *bufio.Reader), target string) func(*testing.B) {
		return func(b *testing.B) {
			ds := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				get(open, target)
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
		}
	}
	b.Run("latency/direct", latency(direct, "/small"))
	b.Run("latency/connect", latency(tunnel, "/small"))
	b.Run("latency/forward", latency(forward, abs+"/small"))

	throughput := func(open func() (net.Conn, *bufio.Reader)) func(*testing.B) {
		return func(b *testing.B) {
			b.SetBytes(benchPayload)
			for b.Loop() {
				if n := get(open, "/big"); n != benchPayload {
					b.Fatalf("got %d bytes", n)
				}
			}
		}
	}
	b.Run("throughput-100MB/direct", throughput(direct))
	b.Run("throughput-100MB/connect", throughput(tunnel))
}
