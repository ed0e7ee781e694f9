package egress

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// These tests drive CONNECT tunnels end to end (client on the proxy's Unix
// socket, upstream on loopback TCP), the path splice(2) serves on Linux;
// elsewhere they check the copy loop keeps the same behaviour.

// serveTCP runs handle on every connection to a loopback listener and
// returns its port.
func serveTCP(t testing.TB, handle func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(15 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// sourceServer sends n bytes of payload(n) on every connection, then
// hangs up.
func sourceServer(t *testing.T, n int) int {
	data := payload(n)
	return serveTCP(t, func(c net.Conn) { _, _ = c.Write(data) })
}

// sinkServer reads every connection to its end and reports how many
// bytes it got.
func sinkServer(t *testing.T) (int, <-chan int64) {
	got := make(chan int64, 8)
	port := serveTCP(t, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		got <- n
	})
	return port, got
}

// payload is n reproducible pseudo-random bytes: a relay that drops,
// repeats or reorders a chunk changes their hash.
func payload(n int) []byte {
	r := rand.NewChaCha8([32]byte{7})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

// splicedSince returns how many tunnel directions ran on splice since before,
// and what a Linux run expects.
func splicedSince(before int64, want int64) (got, expected int64) {
	if !spliceSupported {
		want = 0
	}
	return spliceDirections.Load() - before, want
}

// connectRaw sends a CONNECT line followed by early (bytes the client
// pipelines before the answer) and reads the 200.
func connectRaw(t *testing.T, tp *testProxy, port int, early []byte) (*net.UnixConn, *bufio.Reader) {
	t.Helper()
	c := tp.conn(t)
	req := append([]byte(fmt.Sprintf("CONNECT echo.test:%d HTTP/1.1\r\n\r\n", port)), early...)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, body := readConnect(t, br)
	if resp != 200 {
		t.Fatalf("CONNECT: %d %q", resp, body)
	}
	return c.(*net.UnixConn), br
}

func readConnect(t *testing.T, br *bufio.Reader) (int, string) {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("CONNECT answer: %v", err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("CONNECT answer: %v", err)
		}
		if l == "\r\n" {
			break
		}
	}
	var code int
	_, _ = fmt.Sscanf(line, "HTTP/1.1 %d", &code)
	return code, line
}

func TestSpliceEchoCountsExact(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		early int // bytes sent with the CONNECT line, before the 200
	}{
		{"one byte", 1, 0},
		{"odd size", 4097, 0},
		{"odd size pipelined", 4097, 1000},
		{"10 MiB + 13", 10<<20 + 13, 0},
		{"10 MiB + 13 pipelined", 10<<20 + 13, 777},
		{"only pipelined bytes", 500, 500},
	}
	port := echoServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := startProxy(t, echoPolicy(port), echoAnswers, nil)
			data := payload(tt.size)
			before := spliceDirections.Load()
			c, br := connectRaw(t, tp, port, data[:tt.early])
			go func() {
				_, _ = c.Write(data[tt.early:])
				_ = c.CloseWrite() // the echo upstream then ends, and so does the download
			}()
			back, err := io.ReadAll(br)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(back) != len(data) || sha256.Sum256(back) != sha256.Sum256(data) {
				t.Fatalf("echoed %d bytes, sent %d (or the content differs)", len(back), len(data))
			}
			d := tp.waitDecisions(t, 1)[0]
			if d.BytesUp != int64(tt.size) || d.BytesDown != int64(tt.size) || d.Detail != "" {
				t.Fatalf("decision up %d down %d detail %q, want %d each and no detail", d.BytesUp, d.BytesDown, d.Detail, tt.size)
			}
			if got, want := splicedSince(before, 2); got != want {
				t.Fatalf("%d directions spliced, want %d", got, want)
			}
		})
	}
}

func TestSpliceBudgetCut(t *testing.T) {
	const sent = 10 << 20
	budgets := []int64{1, 4095, 1<<20 + 3, 3<<20 + 7}
	for _, dir := range []string{"download", "upload"} {
		for _, budget := range budgets {
			t.Run(fmt.Sprintf("%s/%d", dir, budget), func(t *testing.T) {
				var port int
				var sink <-chan int64
				if dir == "download" {
					port = sourceServer(t, sent)
				} else {
					port, sink = sinkServer(t)
				}
				pol := echoPolicy(port)
				pol.MaxBytes = budget
				tp := startProxy(t, pol, echoAnswers, nil)
				before := spliceDirections.Load()
				c, br := connectRaw(t, tp, port, nil)
				var moved int64
				if dir == "download" {
					got, err := io.ReadAll(br)
					if err != nil {
						t.Fatalf("read: %v", err)
					}
					if !bytes.Equal(got, payload(sent)[:len(got)]) {
						t.Fatal("downloaded bytes differ from what the upstream sent")
					}
					moved = int64(len(got))
				} else {
					go func() { _, _ = c.Write(payload(sent)) }()
					select {
					case moved = <-sink:
					case <-time.After(10 * time.Second):
						t.Fatal("the upstream never saw the tunnel end")
					}
				}
				if moved != budget {
					t.Fatalf("%s moved %d bytes through a %d-byte budget", dir, moved, budget)
				}
				d := tp.waitDecisions(t, 1)[0]
				up, down := d.BytesUp, d.BytesDown
				if dir == "upload" {
					up, down = down, up
				}
				if down != budget || up != 0 || d.Detail != "byte budget spent: tunnel closed" {
					t.Fatalf("decision up %d down %d detail %q", d.BytesUp, d.BytesDown, d.Detail)
				}
				if got, want := splicedSince(before, 2); got != want {
					t.Fatalf("%d directions spliced, want %d", got, want)
				}
			})
		}
	}
}

func TestSpliceHalfClose(t *testing.T) {
	const reply = 2<<20 + 1
	// The upstream reads to EOF, then answers with how much it got and a
	// large body: the answer can only arrive if the client's CloseWrite
	// reached it as EOF while the download direction stayed open.
	port := serveTCP(t, func(c net.Conn) {
		n, err := io.Copy(io.Discard, c)
		if err != nil {
			return
		}
		fmt.Fprintf(c, "got %d\n", n)
		_, _ = c.Write(payload(reply))
	})
	tp := startProxy(t, echoPolicy(port), echoAnswers, nil)
	c, br := connectRaw(t, tp, port, nil)
	if _, err := c.Write(payload(5000)); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "got 5000\n" {
		t.Fatalf("upstream answered %q, %v", line, err)
	}
	rest, err := io.ReadAll(br)
	if err != nil || !bytes.Equal(rest, payload(reply)) {
		t.Fatalf("read %d of %d bytes after the half-close: %v", len(rest), reply, err)
	}
	d := tp.waitDecisions(t, 1)[0]
	if d.BytesUp != 5000 || d.BytesDown != int64(len(line)+reply) || d.Detail != "" {
		t.Fatalf("decision up %d down %d detail %q", d.BytesUp, d.BytesDown, d.Detail)
	}
}

func TestSpliceIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	silent := func(t *testing.T) int { // reads and never answers
		port, _ := sinkServer(t)
		return port
	}
	tests := []struct {
		name     string
		upstream func(*testing.T) int
		client   func(t *testing.T, c *net.UnixConn, br *bufio.Reader) // what the client does before it waits
		cut      bool                                                  // the idle timeout must end the tunnel
		wantUp   int64                                                 // -1: any
		notFor   time.Duration                                         // not cut before this long (bytes still moved one way)
	}{
		{"silent both ways", silent, func(*testing.T, *net.UnixConn, *bufio.Reader) {}, true, 0, 0},
		{"stalls after an exchange", func(t *testing.T) int { return echoServer(t) },
			func(t *testing.T, c *net.UnixConn, br *bufio.Reader) {
				if _, err := c.Write(payload(100 << 10)); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(br, make([]byte, 100<<10)); err != nil {
					t.Fatal(err)
				}
			}, true, 100 << 10, 0},
		{"client stops reading", func(t *testing.T) int { return sourceServer(t, 64<<20) },
			func(_ *testing.T, c *net.UnixConn, _ *bufio.Reader) {
				go func() { // the upload moves for 1.2 s while the download's write is stuck
					for range 12 {
						if _, err := c.Write([]byte{'x'}); err != nil {
							return
						}
						time.Sleep(idle / 3)
					}
				}()
			}, true, -1, 1200 * time.Millisecond},
		{"long download, nothing sent upward", func(t *testing.T) int {
			return serveTCP(t, func(c net.Conn) { // a byte every idle/3 for 1.2 s
				for range 12 {
					if _, err := c.Write([]byte{'y'}); err != nil {
						return
					}
					time.Sleep(idle / 3)
				}
			})
		},
			func(t *testing.T, _ *net.UnixConn, br *bufio.Reader) {
				got, err := io.ReadAll(br)
				if err != nil || string(got) != strings.Repeat("y", 12) {
					t.Fatalf("download cut while it kept flowing: %q, %v", got, err)
				}
				// Whole: then the upload side, never closed, goes idle.
			}, true, 0, 0},
		{"slow but steady", func(t *testing.T) int { return echoServer(t) },
			func(t *testing.T, c *net.UnixConn, br *bufio.Reader) {
				for range 12 { // 1.2 s in all, a byte every idle/3
					if _, err := c.Write([]byte{'x'}); err != nil {
						t.Fatal(err)
					}
					if _, err := br.ReadByte(); err != nil {
						t.Fatalf("tunnel cut while bytes kept flowing: %v", err)
					}
					time.Sleep(idle / 3)
				}
				_ = c.CloseWrite()
			}, false, 12, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.upstream(t)
			tp := startProxy(t, echoPolicy(port), echoAnswers, func(o *Options) { o.IdleTimeout = idle })
			c, br := connectRaw(t, tp, port, nil)
			tt.client(t, c, br)
			start := time.Now()
			d := tp.waitDecisions(t, 1)[0]
			waited := time.Since(start)
			t.Logf("ended after %s: %q", waited, d.Detail)
			// Both directions wait with a deadline; the one that expires
			// first closes the other, whose error relay may report instead.
			cut := strings.Contains(d.Detail, "timeout") || strings.Contains(d.Detail, "closed network connection")
			if cut != tt.cut {
				t.Fatalf("detail %q after %s; want the idle timeout to cut: %v", d.Detail, waited, tt.cut)
			}
			if waited < tt.notFor {
				t.Fatalf("tunnel ended %s after the client's last step, while bytes still moved one way for %s", waited, tt.notFor)
			}
			if tt.cut && (waited < idle/2 || waited > 3*time.Second+tt.notFor) {
				t.Fatalf("tunnel ended %s after the client went quiet; idle is %s", waited, idle)
			}
			if tt.wantUp >= 0 && d.BytesUp != tt.wantUp {
				t.Fatalf("decision up %d, want %d", d.BytesUp, tt.wantUp)
			}
		})
	}
}

// wrappedConn hides the *net.TCPConn under it, as a custom Dial might.
type wrappedConn struct{ net.Conn }

func TestSpliceFallback(t *testing.T) {
	port := echoServer(t)
	tests := []struct {
		name  string
		tweak func(*Options)
	}{
		{"wrapped upstream conn", func(o *Options) {
			var d net.Dialer
			o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return wrappedConn{c}, nil
			}
		}},
		{"in-memory upstream", func(o *Options) {
			o.Dial = func(context.Context, string, string) (net.Conn, error) {
				a, b := net.Pipe()
				go func() { // echo, then hang up at EOF
					defer b.Close()
					_, _ = io.Copy(b, b)
				}()
				return a, nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := startProxy(t, echoPolicy(port), echoAnswers, tt.tweak)
			data := payload(1<<20 + 5)
			before := spliceDirections.Load()
			c, br := connectRaw(t, tp, port, data[:100])
			go func() { _, _ = c.Write(data[100:]) }()
			// Neither upstream can half-close (closeWrite closes them), so
			// read the echo by length and hang up.
			back := make([]byte, len(data))
			if _, err := io.ReadFull(br, back); err != nil || !bytes.Equal(back, data) {
				t.Fatalf("echo: %v (or the content differs)", err)
			}
			c.Close()
			d := tp.waitDecisions(t, 1)[0]
			if d.BytesUp != int64(len(data)) || d.BytesDown != int64(len(data)) {
				t.Fatalf("decision up %d down %d, want %d each", d.BytesUp, d.BytesDown, len(data))
			}
			if n := spliceDirections.Load() - before; n != 0 {
				t.Fatalf("%d directions spliced through a conn splice cannot use", n)
			}
		})
	}
}

func TestBudgetRefund(t *testing.T) {
	tests := []struct {
		name             string
		max              int64
		spend, refund    int
		wantUsed, wantRe int64
	}{
		{"refund part", 100, 60, 20, 40, 60},
		{"refund all", 100, 60, 60, 0, 100},
		{"nothing to refund", 100, 60, 0, 60, 40},
		{"spent stays spent", 100, 100, 30, 100, 0},
		{"overspend attempt stays spent", 100, 150, 30, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := budget{max: tt.max}
			b.spend(tt.spend)
			b.refund(tt.refund)
			if got := b.used.Load(); got != tt.wantUsed {
				t.Fatalf("used %d, want %d", got, tt.wantUsed)
			}
			if got := b.remaining(); got != tt.wantRe {
				t.Fatalf("remaining %d, want %d", got, tt.wantRe)
			}
		})
	}
}
