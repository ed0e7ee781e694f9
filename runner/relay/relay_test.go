package relay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
					io.WriteString(c, "HTTP/1.1 "+http.StatusText(status)+"\r\n")
					c.Write([]byte{})
					resp := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}
					_ = resp
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
