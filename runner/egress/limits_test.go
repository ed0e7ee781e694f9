package egress

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openTunnel CONNECTs to echo.test and returns the client side.
func openTunnel(t *testing.T, tp *testProxy, port int) (net.Conn, *bufio.Reader, int) {
	t.Helper()
	c := tp.conn(t)
	fmt.Fprintf(c, "CONNECT echo.test:%d HTTP/1.1\r\n\r\n", port)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil {
		t.Fatalf("CONNECT: %v", err)
	}
	return c, br, resp.StatusCode
}

func echoPolicy(port int) Policy {
	return Policy{Allow: []string{"echo.test:" + strconv.Itoa(port)}, AllowPrivate: []string{"echo.test"}}
}

var echoAnswers = map[string][]string{"echo.test": {"127.0.0.1"}}

func TestByteBudget(t *testing.T) {
	port := echoServer(t)
	pol := echoPolicy(port)
	pol.MaxBytes = 1000 // both directions summed: at most 500 echoed bytes
	tp := startProxy(t, pol, echoAnswers, nil)
	c, br, status := openTunnel(t, tp, port)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	idle, ibr, _ := openTunnel(t, tp, port) // a second, idle tunnel: must close too
	go c.Write(make([]byte, 4000))
	n, _ := io.Copy(io.Discard, br)
	if n > 500 {
		t.Fatalf("received %d bytes through a 1000-byte budget", n)
	}
	_ = idle.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := ibr.ReadByte(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("idle tunnel not closed when the budget was spent: %v", err)
	}
	ds := tp.waitDecisions(t, 2)
	var up, down int64
	for _, d := range ds {
		up += d.BytesUp
		down += d.BytesDown
	}
	if up+down != 1000 {
		t.Errorf("counted %d+%d bytes, want exactly the budget 1000", up, down)
	}
	resp, body := tp.raw(t, fmt.Sprintf("CONNECT echo.test:%d HTTP/1.1\r\n\r\n", port))
	if resp.StatusCode != 403 || !strings.Contains(body, "byte budget (1000 bytes) is spent") {
		t.Fatalf("after budget: %d %q", resp.StatusCode, body)
	}
}

func TestConnectionAndRequestLimits(t *testing.T) {
	port := echoServer(t)
	t.Run("concurrent connections", func(t *testing.T) {
		pol := echoPolicy(port)
		pol.MaxConns = 2
		tp := startProxy(t, pol, echoAnswers, nil)
		a, _, _ := openTunnel(t, tp, port)
		openTunnel(t, tp, port)
		resp, body := tp.raw(t, fmt.Sprintf("CONNECT echo.test:%d HTTP/1.1\r\n\r\n", port))
		if resp.StatusCode != 429 || !strings.Contains(body, "too many open connections for this run (limit 2)") {
			t.Fatalf("third connection: %d %q", resp.StatusCode, body)
		}
		a.Close()
		deadline := time.Now().Add(3 * time.Second)
		for {
			_, _, st := openTunnel(t, tp, port)
			if st == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a slot was not freed when a tunnel closed")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("requests per run", func(t *testing.T) {
		pol := echoPolicy(port)
		pol.MaxRequests = 2
		tp := startProxy(t, pol, echoAnswers, nil)
		for i := range 2 {
			c, _, st := openTunnel(t, tp, port)
			if st != 200 {
				t.Fatalf("request %d: %d", i, st)
			}
			c.Close()
		}
		resp, body := tp.raw(t, fmt.Sprintf("CONNECT echo.test:%d HTTP/1.1\r\n\r\n", port))
		if resp.StatusCode != 429 || !strings.Contains(body, "too many network requests (limit 2)") {
			t.Fatalf("third request: %d %q", resp.StatusCode, body)
		}
	})
}

func TestMalformedRequests(t *testing.T) {
	big := "GET http://a.test/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n"
	tests := []struct {
		name, in string
		status   int
		body     string
	}{
		{"garbage", "\x00\x01garbage\r\n\r\n", 400, "malformed proxy request"},
		{"no version", "CONNECT a.test:443\r\n\r\n", 400, "malformed"},
		{"connect without port", "CONNECT a.test HTTP/1.1\r\n\r\n", 400, "CONNECT needs host:port"},
		{"connect bad port", "CONNECT a.test:99999 HTTP/1.1\r\n\r\n", 400, "port 1-65535"},
		{"connect empty port", "CONNECT a.test: HTTP/1.1\r\n\r\n", 400, "port 1-65535"},
		{"connect url", "CONNECT http://a.test:443/ HTTP/1.1\r\n\r\n", 400, "CONNECT needs host:port"},
		{"connect path", "CONNECT /a.test:443 HTTP/1.1\r\n\r\n", 400, "bad host name"},
		{"origin form", "GET /path HTTP/1.1\r\nHost: a.test\r\n\r\n", 400, "this is a proxy"},
		{"https absolute", "GET https://a.test/ HTTP/1.1\r\n\r\n", 400, "use CONNECT for https"},
		{"ftp", "GET ftp://a.test/ HTTP/1.1\r\n\r\n", 400, "only http://"},
		{"http2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "only HTTP/1.x"},
		{"oversized header", big, 431, "exceed 32768 bytes"},
		{"bad header line", "GET http://a.test/ HTTP/1.1\r\nno colon here\r\n\r\n", 400, "malformed"},
		{"percent host", "GET http://%31%32%37.0.0.1/ HTTP/1.1\r\n\r\n", 400, "malformed"},
		{"userinfo host", "GET http://user@127.0.0.1/ HTTP/1.1\r\n\r\n", 403, "IP literals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := startProxy(t, Policy{Allow: []string{"a.test"}}, nil, nil)
			resp, body := tp.raw(t, tt.in)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.body)
			}
			if d := tp.dial.dialled(); len(d) != 0 {
				t.Fatalf("dialled %v", d)
			}
			if ds := tp.waitDecisions(t, 1); ds[0].Allowed {
				t.Fatalf("decision %+v", ds[0])
			}
		})
	}
}

func TestSlowLoris(t *testing.T) {
	tp := startProxy(t, Policy{Allow: []string{"a.test"}}, nil, func(o *Options) { o.HeaderTimeout = 200 * time.Millisecond })
	c := tp.conn(t)
	start := time.Now()
	io.WriteString(c, "GET http://a.test/ HTTP/1.1\r\nX-Slow: ")
	go func() { // one byte every 50ms: never a full header
		for range 40 {
			if _, err := c.Write([]byte("a")); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	resp, body := readResponse(t, bufio.NewReader(c))
	if resp.StatusCode != 408 || !strings.Contains(body, "not received within 200ms") {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Fatalf("slow client held the proxy for %s", el)
	}
	// An idle connection that never sends a byte is closed silently.
	idle := tp.conn(t)
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("idle connection: %d %v", n, err)
	}
	if ds := tp.waitDecisions(t, 1); ds[0].Reason != ReasonTimeout || len(tp.all()) != 1 {
		t.Fatalf("decisions %+v", tp.all())
	}
}
