package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNetProbes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := l.Addr().String()
	l.Close() // now a closed port
	closed := open
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "proxied %s\nsecond line", r.URL.String())
	}))
	defer srv.Close()
	t.Setenv("HTTP_PROXY", srv.URL)
	t.Setenv("NO_PROXY", "")

	tests := []struct {
		name string
		do   func(*bytes.Buffer) error
		want string
	}{
		{"connect ok", func(b *bytes.Buffer) error { return probeConnect(b, strings.TrimPrefix(srv.URL, "http://")) }, "connect " + strings.TrimPrefix(srv.URL, "http://") + " ok\n"},
		{"connect refused", func(b *bytes.Buffer) error { return probeConnect(b, closed) }, "connect " + closed + " fail: "},
		{"proxyget via HTTP_PROXY", func(b *bytes.Buffer) error { return probeProxyGet(b, "http://allowed.test/x") }, "proxyget http://allowed.test/x status=200 body=proxied http://allowed.test/x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.do(&b); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(b.String(), tt.want) {
				t.Fatalf("output %q, want prefix %q", b.String(), tt.want)
			}
		})
	}
}
