package egress

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeResolver answers from a table; a name with several answers gives
// the next one on each call (the last repeats), as a rebinding attacker's
// DNS server would.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	calls   map[string]int
}

func (r *fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	seq, ok := r.answers[host]
	n := r.calls[host]
	r.calls[host]++
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	ans := seq[min(n, len(seq)-1)]
	var out []net.IPAddr
	for _, s := range splitComma(ans) {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// recordingDialer dials loopback for real and records every address.
type recordingDialer struct {
	mu    sync.Mutex
	addrs []string
}

func (d *recordingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *recordingDialer) dialled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

// testProxy is a proxy served on a Unix socket, as in production.
type testProxy struct {
	*Proxy
	sock string
	res  *fakeResolver
	dial *recordingDialer

	mu        sync.Mutex
	decisions []Decision
}

func (tp *testProxy) all() []Decision {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]Decision(nil), tp.decisions...)
}

// waitDecisions waits until n decisions are reported.
func (tp *testProxy) waitDecisions(t testing.TB, n int) []Decision {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ds := tp.all(); len(ds) >= n {
			return ds
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("got %d decisions, want %d: %+v", len(tp.all()), n, tp.all())
	return nil
}

func startProxy(t testing.TB, pol Policy, answers map[string][]string, tweak func(*Options)) *testProxy {
	t.Helper()
	tp := &testProxy{res: &fakeResolver{answers: answers}, dial: &recordingDialer{}}
	opts := Options{
		Resolver: tp.res,
		Dial:     tp.dial.dial,
		OnDecision: func(d Decision) {
			tp.mu.Lock()
			tp.decisions = append(tp.decisions, d)
			tp.mu.Unlock()
		},
		Logger:        slog.New(slog.DiscardHandler),
		HeaderTimeout: 2 * time.Second,
		DialTimeout:   2 * time.Second,
		IdleTimeout:   5 * time.Second,
	}
	if tweak != nil {
		tweak(&opts)
	}
	p, err := New(pol, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tp.Proxy = p
	tp.sock = filepath.Join(t.TempDir(), "egress.sock")
	ln, err := net.Listen("unix", tp.sock)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ln) }()
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return tp
}

func (tp *testProxy) conn(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", tp.sock)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// raw sends text on a new connection and reads one response.
func (tp *testProxy) raw(t testing.TB, text string) (*http.Response, string) {
	t.Helper()
	c := tp.conn(t)
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatalf("write: %v", err)
	}
	return readResponse(t, bufio.NewReader(c))
}

func readResponse(t testing.TB, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// echoServer echoes every connection on loopback; it returns its port.
func echoServer(t testing.TB) int {
	t.Helper()
	return serveTCP(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
}
