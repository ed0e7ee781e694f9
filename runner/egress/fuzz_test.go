package egress

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// FuzzProxyRequest feeds arbitrary bytes to a connection: the handler
// must neither panic nor hang, whatever it receives.
func FuzzProxyRequest(f *testing.F) {
	for _, s := range []string{
		"CONNECT a.test:443 HTTP/1.1\r\n\r\n",
		"CONNECT a.test:443 HTTP/1.1\r\n\r\n\x16\x03\x01payload",
		"GET http://a.test/x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n\r\nabcGET http://a.test/ HTTP/1.1\r\n\r\n",
		"GET http://a.test/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"CONNECT [::1]:443 HTTP/1.1\r\n\r\n",
		"GET http://0x7f.1/ HTTP/1.0\r\n\r\n",
		"CONNECT :443 HTTP/1.1\r\n\r\n",
		"GET /x HTTP/1.1\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\n",
		"\r\n\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	up := func(_ context.Context, _, _ string) (net.Conn, error) {
		a, b := net.Pipe()
		go func() { // an upstream that answers once and hangs up
			defer b.Close()
			_ = b.SetDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 4096)
			_, _ = b.Read(buf)
			_, _ = io.WriteString(b, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}()
		return a, nil
	}
	res := &fakeResolver{answers: map[string][]string{"a.test": {"93.184.216.34"}}}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := New(Policy{Allow: []string{"a.test"}}, Options{
			Resolver: res, Dial: up, Logger: slog.New(slog.DiscardHandler),
			HeaderTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond,
			ResponseTimeout: 300 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.admit(server)
		}()
		go func() {
			_ = client.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = client.Write(in)
		}()
		_ = client.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = io.Copy(io.Discard, client)
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("handler still holds the connection after 3s")
			}
		}
		client.Close()
		<-done
		wait := make(chan struct{})
		go func() { p.wg.Wait(); close(wait) }()
		select {
		case <-wait:
		case <-time.After(3 * time.Second):
			t.Fatal("handler did not return")
		}
	})
}
