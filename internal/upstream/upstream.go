// Package upstream is the loopback HTTP server the egress benchmarks aim
// at, through the proxy and directly: the one stand-in for "the outside"
// that both the package benchmark and agentgate-demo bench measure against.
package upstream

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
)

// Start listens on a loopback port and answers one request per
// connection: "ok", or payload bytes for GET /big, then hangs up. stop
// closes the listener.
func Start(payload int) (port int, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("upstream: %w", err)
	}
	chunk := make([]byte, 256<<10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c, payload, chunk)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, func() { _ = ln.Close() }, nil
}

// serve answers the one request of c.
func serve(c net.Conn, payload int, chunk []byte) {
	defer c.Close()
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	if req.URL.Path != "/big" {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		return
	}
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", payload)
	for sent := 0; sent < payload; sent += len(chunk) {
		if _, err := c.Write(chunk[:min(len(chunk), payload-sent)]); err != nil {
			return
		}
	}
}
