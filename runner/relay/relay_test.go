package relay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseForward(t *testing.T) {
	tests := []struct {
		in      string
		want    Forward
		wantErr string
	}{
		{"127.0.0.1:3128=/agentgate/sock/egress.sock", Forward{"127.0.0.1:3128", "/agentgate/sock/egress.sock"}, ""},
		{"[::1]:4000=/s/gw.sock", Forward{"[::1]:4000", "/s/gw.sock"}, ""},
		{"127.0.0.1:3128", Forward{}, "LISTEN=SOCKET"},
		{"0.0.0.0:3128=/s", Forward{}, "loopback"},
		{"172.17.0.2:3128=/s", Forward{}, "loopback"},
		{"localhost:3128=/s", Forward{}, "listen address"},
		{"127.0.0.1:0=/s", Forward{}, "loopback IP with a port"},
		{"127.0.0.1:3128=s.sock", Forward{}, "absolute"},
		{"127.0.0.1:3128=/a/../b", Forward{}, "clean"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseForward(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || got.String() != tt.in {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want Status
		ok   bool
	}{
		{`{"ready":true}`, Status{Ready: true}, true},
		{` {"ready":false,"reason":"no socket"}` + "\n", Status{Reason: "no socket"}, true},
		{`{"reason":"x"}`, Status{}, false},
		{`time=... level=INFO msg=hello`, Status{}, false},
		{`{"ready":"yes"}`, Status{}, false},
	}
	for _, tt := range tests {
		got, err := ParseStatus(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseStatus(%q) = %+v, %v", tt.in, got, err)
		}
		if !tt.ok && !errors.Is(err, ErrNoStatus) {
			t.Errorf("ParseStatus(%q) err = %v, want ErrNoStatus", tt.in, err)
		}
	}
	if s, err := ParseStatus(string(Status{Reason: "a \"quoted\" reason"}.line())); err != nil || s.Reason != `a "quoted" reason` {
		t.Errorf("round trip: %+v %v", s, err)
	}
}

func TestConfigValidate(t *testing.T) {
	f := Forward{"127.0.0.1:3128", "/s/egress.sock"}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{Forwards: []Forward{f}, Egress: f.Listen}, ""},
		{"none", Config{Egress: f.Listen}, "no forward"},
		{"dup", Config{Forwards: []Forward{f, f}, Egress: f.Listen}, "twice"},
		{"egress unknown", Config{Forwards: []Forward{f}, Egress: "127.0.0.1:1"}, "not one of the forwards"},
		{"bad forward", Config{Forwards: []Forward{{"0.0.0.0:1", "/s"}}, Egress: "0.0.0.0:1"}, "loopback"},
		{"negative", Config{Forwards: []Forward{f}, Egress: f.Listen, MaxConns: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// onlyLo is a namespace with loopback alone.
func onlyLo() ([]net.Interface, error) { return []net.Interface{{Index: 1, Name: "lo"}}, nil }

// noResolver fails the way a lookup fails without routes.
func noResolver(context.Context, string) ([]string, error) {
	return nil, &net.DNSError{Err: "connect: network is unreachable", Name: "x", Server: "10.0.0.53:53"}
}

// standIn serves a stand-in egress proxy on a Unix socket: CONNECT gets
// status; anything else is echoed back after a "hello " prefix.
func standIn(t *testing.T, path string, status int) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				first, err := br.Peek(7)
				if err == nil && string(first) == "CONNECT" {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					req.Body.Close()
					fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n", status, http.StatusText(status))
					return
				}
				b, _ := io.ReadAll(br) // until the client half-closes
				c.Write(append([]byte("hello "), b...))
			}()
		}
	}()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuf is a bytes.Buffer safe for the relay goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRelay runs the relay in the background and waits for its status.
func startRelay(t *testing.T, cfg Config) (Status, <-chan error, context.CancelFunc) {
	t.Helper()
	if cfg.Interfaces == nil {
		cfg.Interfaces = onlyLo
	}
	if cfg.Lookup == nil {
		cfg.Lookup = noResolver
	}
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuf
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, &out) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if line := out.String(); strings.HasSuffix(line, "\n") {
			s, err := ParseStatus(line)
			if err != nil || strings.Count(line, "\n") != 1 {
				t.Fatalf("status output %q: %v", line, err)
			}
			return s, done, cancel
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	t.Fatal("no status line within 10s")
	return Status{}, nil, nil
}

func TestRunPreflight(t *testing.T) {
	tests := []struct {
		name       string
		status     int  // stand-in answer to CONNECT; 0 = no socket
		gateway    bool // also forward to a gateway socket, which is missing
		interfaces func() ([]net.Interface, error)
		lookup     func(context.Context, string) ([]string, error)
		wantReason string // "" = ready
	}{
		{name: "ready", status: 403},
		{name: "proxy allows the probe host", status: 200, wantReason: `answered "200 OK" to CONNECT preflight.agentgate.invalid:443`},
		{name: "proxy answers 502", status: 502, wantReason: "must be refused with 403"},
		{name: "egress socket missing", wantReason: "egress.sock is missing"},
		{name: "gateway socket missing", status: 403, gateway: true, wantReason: "gateway.sock is missing"},
		{name: "extra interface", status: 403, interfaces: func() ([]net.Interface, error) {
			return []net.Interface{{Name: "lo"}, {Name: "eth0"}}, nil
		}, wantReason: "interface(s) eth0 present"},
		{name: "resolver answers", status: 403, lookup: func(context.Context, string) ([]string, error) {
			return []string{"10.1.2.3"}, nil
		}, wantReason: "answered [10.1.2.3]"},
		{name: "resolver says no such host", status: 403, lookup: func(context.Context, string) ([]string, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
		}, wantReason: "a resolver answered"},
		{name: "resolver times out", status: 403, lookup: func(context.Context, string) ([]string, error) {
			return nil, &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}
		}, wantReason: "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			egress := filepath.Join(dir, "egress.sock")
			if tt.status != 0 {
				standIn(t, egress, tt.status)
			}
			listen := freePort(t)
			cfg := Config{Forwards: []Forward{{listen, egress}}, Egress: listen, Interfaces: tt.interfaces, Lookup: tt.lookup}
			if tt.gateway {
				cfg.Forwards = append(cfg.Forwards, Forward{freePort(t), filepath.Join(dir, "gateway.sock")})
			}
			st, done, cancel := startRelay(t, cfg)
			defer cancel()
			if tt.wantReason == "" {
				if !st.Ready {
					t.Fatalf("not ready: %s", st.Reason)
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatalf("Run after cancel: %v", err)
				}
				return
			}
			if st.Ready || !strings.Contains(st.Reason, tt.wantReason) {
				t.Fatalf("status %+v, want not ready with %q", st, tt.wantReason)
			}
			select {
			case err := <-done:
				if err == nil || err.Error() != st.Reason {
					t.Fatalf("Run = %v, want the reason %q", err, st.Reason)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after a failed pre-flight")
			}
			// The listeners are closed: nothing is left to connect to.
			if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
				c.Close()
				t.Error("listener still open after a failed pre-flight")
			}
		})
	}
}

func TestRunNotSocket(t *testing.T) {
	dir := t.TempDir()
	egress := filepath.Join(dir, "egress.sock")
	if err := os.WriteFile(egress, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	st, _, cancel := startRelay(t, Config{Forwards: []Forward{{listen, egress}}, Egress: listen})
	defer cancel()
	if st.Ready || !strings.Contains(st.Reason, "is not a socket") {
		t.Fatalf("status %+v", st)
	}
}

func TestForwarding(t *testing.T) {
	dir := t.TempDir()
	egress := filepath.Join(dir, "egress.sock")
	standIn(t, egress, 403)
	listen, missing := freePort(t), freePort(t)
	cfg := Config{
		Forwards: []Forward{{listen, egress}, {missing, filepath.Join(dir, "gone.sock")}},
		Egress:   listen,
		MaxConns: 2,
	}
	// The pre-flight needs every socket; create gone.sock, then remove it
	// once the relay is ready, as a proxy that died would.
	gone, err := net.Listen("unix", cfg.Forwards[1].Socket)
	if err != nil {
		t.Fatal(err)
	}
	st, done, cancel := startRelay(t, cfg)
	defer cancel()
	if !st.Ready {
		t.Fatalf("not ready: %s", st.Reason)
	}
	gone.Close() // removes the socket file

	t.Run("half close carries a whole request and its reply", func(t *testing.T) {
		c, err := net.Dial("tcp", listen)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		payload := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB
		go func() {
			c.Write(payload)
			c.(*net.TCPConn).CloseWrite()
		}()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, append([]byte("hello "), payload...)) {
			t.Fatalf("reply %d bytes, %v", len(got), err)
		}
	})
	t.Run("missing socket closes the connection", func(t *testing.T) {
		c, err := net.Dial("tcp", missing)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("read %d, %v; want EOF", n, err)
		}
	})
	t.Run("connection limit", func(t *testing.T) {
		var held []net.Conn
		for i := 0; i < 2; i++ {
			c, err := net.Dial("tcp", listen)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			held = append(held, c)
		}
		time.Sleep(100 * time.Millisecond) // both accepted and piped
		over, err := net.Dial("tcp", listen)
		if err != nil {
			t.Fatal(err)
		}
		defer over.Close()
		over.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := over.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("third connection: read %d, %v; want EOF", n, err)
		}
		for _, c := range held {
			c.Close()
		}
		// Slots free again: a new connection is served.
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.Dial("tcp", listen)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "again")
			c.(*net.TCPConn).CloseWrite()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, _ := io.ReadAll(c)
			c.Close()
			if string(got) == "hello again" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no slot freed: %q", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	// Shutdown closes open connections too.
	open, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel with a connection open")
	}
}
