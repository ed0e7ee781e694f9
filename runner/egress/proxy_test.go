package egress

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDeniedBeforeDial proves refusals happen before anything is dialled.
func TestDeniedBeforeDial(t *testing.T) {
	pol := Policy{
		Allow:        []string{"*.allowed.test", "allowed.test", "meta.allowed.test"},
		AllowPrivate: []string{"169.254.0.0/16"}, // even an operator's link-local range does not open metadata
	}
	answers := map[string][]string{
		"private.allowed.test":  {"10.0.0.1"},
		"meta.allowed.test":     {"169.254.169.254"},
		"loop6.allowed.test":    {"::1"},
		"mapped.allowed.test":   {"::ffff:127.0.0.1"},
		"mixed.allowed.test":    {"93.184.216.34,192.168.0.1"},
		"cgnat.allowed.test":    {"100.64.1.1"},
		"zero.allowed.test":     {"0.0.0.0"},
		"nat64.allowed.test":    {"64:ff9b::a9fe:a9fe"},
		"notallowed.other.test": {"93.184.216.34"},
	}
	tests := []struct {
		name, target string
		status       int
		reason       Reason
		body         string
	}{
		{"not allowlisted", "notallowed.other.test:443", 403, ReasonNotAllowed, `host "notallowed.other.test" port 443 is not allowlisted`},
		{"wrong port", "x.allowed.test:22", 403, ReasonNotAllowed, "port 22 is not allowlisted"},
		{"private", "private.allowed.test:443", 403, ReasonPrivate, "private"},
		{"metadata", "meta.allowed.test:443", 403, ReasonPrivate, "metadata"},
		{"ipv6 loopback", "loop6.allowed.test:443", 403, ReasonPrivate, "loopback"},
		{"mapped loopback", "mapped.allowed.test:443", 403, ReasonPrivate, "loopback"},
		{"any private answer", "mixed.allowed.test:443", 403, ReasonPrivate, "private"},
		{"cgnat", "cgnat.allowed.test:443", 403, ReasonPrivate, "private"},
		{"unspecified", "zero.allowed.test:443", 403, ReasonPrivate, "private"},
		{"nat64 metadata", "nat64.allowed.test:443", 403, ReasonPrivate, "private"},
		{"unresolvable", "nx.allowed.test:443", 502, ReasonResolveFailed, "could not resolve"},
		{"ipv4 literal", "127.0.0.1:443", 403, ReasonIPLiteral, "IP literals are not allowed"},
		{"metadata literal", "169.254.169.254:80", 403, ReasonIPLiteral, "IP literals"},
		{"ipv6 literal", "[::1]:443", 403, ReasonIPLiteral, "IP literals"},
		{"decimal literal", "2130706433:443", 403, ReasonIPLiteral, "IP literals"},
		{"hex literal", "0x7f.1:443", 403, ReasonIPLiteral, "IP literals"},
		{"octal literal", "0177.0.0.1:443", 403, ReasonIPLiteral, "IP literals"},
		{"bad name", "a..allowed.test:443", 400, ReasonBadRequest, "bad host name"},
	}
	for _, method := range []string{"CONNECT", "GET"} {
		for _, tt := range tests {
			t.Run(method+"/"+tt.name, func(t *testing.T) {
				if method == "GET" && strings.HasSuffix(tt.target, ":443") {
					tt.target = strings.TrimSuffix(tt.target, ":443") + ":80"
					tt.body = strings.ReplaceAll(tt.body, "port 443", "port 80")
				}
				tp := startProxy(t, pol, answers, nil)
				req := "CONNECT " + tt.target + " HTTP/1.1\r\nHost: " + tt.target + "\r\n\r\n"
				if method == "GET" {
					req = "GET http://" + tt.target + "/x HTTP/1.1\r\nHost: " + tt.target + "\r\n\r\n"
				}
				resp, body := tp.raw(t, req)
				if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
					t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.body)
				}
				if !strings.HasPrefix(body, "agentgate egress: ") {
					t.Errorf("body %q does not say who refused", body)
				}
				if got := resp.Header.Get("X-Agentgate-Egress"); got != string(tt.reason) {
					t.Errorf("X-Agentgate-Egress = %q, want %q", got, tt.reason)
				}
				if d := tp.dial.dialled(); len(d) != 0 {
					t.Fatalf("dialled %v for a refused request", d)
				}
				ds := tp.waitDecisions(t, 1)
				if ds[0].Allowed || ds[0].Reason != tt.reason || ds[0].Status != tt.status || ds[0].Method != method {
					t.Fatalf("decision = %+v", ds[0])
				}
			})
		}
	}
}

func TestConnectTunnel(t *testing.T) {
	port := echoServer(t)
	tp := startProxy(t, Policy{Allow: []string{"echo.test:" + strconv.Itoa(port)}, AllowPrivate: []string{"echo.test"}},
		map[string][]string{"echo.test": {"127.0.0.1"}}, nil)
	c := tp.conn(t)
	// The first payload bytes travel in the same write as the CONNECT, as
	// eager TLS clients do: they must not be lost in the header buffer.
	fmt.Fprintf(c, "CONNECT Echo.Test.:%d HTTP/1.1\r\nHost: echo.test\r\n\r\nhello ", port)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	io.WriteString(c, "world")
	got := make([]byte, len("hello world"))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "hello world" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	c.(*net.UnixConn).CloseWrite()
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after half-close: %q %v", rest, err)
	}
	ds := tp.waitDecisions(t, 1)
	d := ds[0]
	want := "127.0.0.1:" + strconv.Itoa(port)
	if !d.Allowed || d.Reason != ReasonAllowedPrivate || d.Host != "echo.test" || d.Port != port || d.Addr != want ||
		d.BytesUp != 11 || d.BytesDown != 11 || d.Status != 200 || d.Duration <= 0 {
		t.Fatalf("decision = %+v", d)
	}
	st := tp.Stats()
	h := st.Hosts[net.JoinHostPort("echo.test", strconv.Itoa(port))]
	if st.Allowed != 1 || st.Denied != 0 || st.BytesUp != 11 || h.Allowed != 1 || h.BytesDown != 11 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestForwardPlainHTTP(t *testing.T) {
	type seen struct {
		host, uri, proxyAuth, conn, keepAlive, secret, ua string
	}
	seenc := make(chan seen, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenc <- seen{r.Host, r.RequestURI, r.Header.Get("Proxy-Authorization"), r.Header.Get("Connection"),
			r.Header.Get("Keep-Alive"), r.Header.Get("X-Secret"), r.Header.Get("User-Agent")}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("X-End", "kept")
		fmt.Fprintf(w, "hi %s %s", r.URL.Path, body)
	}))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	tp := startProxy(t, Policy{Allow: []string{"web.test:" + strconv.Itoa(port)}, AllowPrivate: []string{"127.0.0.0/8"}},
		map[string][]string{"web.test": {"127.0.0.1"}}, nil)

	c := tp.conn(t)
	br := bufio.NewReader(c)
	target := fmt.Sprintf("http://web.test:%d", port)
	// Two requests on one keep-alive connection; the Host header lies.
	fmt.Fprintf(c, "GET %s/a?q=1 HTTP/1.1\r\nHost: evil.test\r\nProxy-Authorization: Basic c2VjcmV0\r\n"+
		"Connection: keep-alive, X-Secret\r\nX-Secret: s\r\nKeep-Alive: 5\r\n\r\n", target)
	resp, body := readResponse(t, br)
	if resp.StatusCode != 200 || body != "hi /a " || resp.Header.Get("Keep-Alive") != "" ||
		resp.Header.Get("Proxy-Authenticate") != "" || resp.Header.Get("X-End") != "kept" {
		t.Fatalf("first: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	s := <-seenc
	if s.host != "web.test:"+strconv.Itoa(port) || s.uri != "/a?q=1" || s.proxyAuth != "" || s.conn != "close" ||
		s.keepAlive != "" || s.secret != "" || s.ua != "" {
		t.Fatalf("upstream saw %+v", s)
	}
	fmt.Fprintf(c, "POST %s/b HTTP/1.1\r\nHost: web.test\r\nContent-Length: 4\r\nUser-Agent: agent\r\n\r\nbody", target)
	resp, body = readResponse(t, br)
	if resp.StatusCode != 200 || body != "hi /b body" {
		t.Fatalf("second: %d %q", resp.StatusCode, body)
	}
	if s := <-seenc; s.ua != "agent" {
		t.Errorf("User-Agent = %q, want the client's", s.ua)
	}
	ds := tp.waitDecisions(t, 2)
	for _, d := range ds {
		if !d.Allowed || d.Status != 200 || d.BytesUp == 0 || d.BytesDown == 0 || d.Addr != "127.0.0.1:"+strconv.Itoa(port) {
			t.Errorf("decision = %+v", d)
		}
	}
	if ds[1].Method != "POST" {
		t.Errorf("second method = %q", ds[1].Method)
	}
}

// TestHTTPClientThroughProxy drives the proxy with Go's own client, both
// plain HTTP and HTTPS via CONNECT.
func TestHTTPClientThroughProxy(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok "+r.URL.Path) })
	plain := httptest.NewServer(h)
	t.Cleanup(plain.Close)
	tlsSrv := httptest.NewTLSServer(h)
	t.Cleanup(tlsSrv.Close)
	pp := plain.Listener.Addr().(*net.TCPAddr).Port
	tsp := tlsSrv.Listener.Addr().(*net.TCPAddr).Port
	tp := startProxy(t, Policy{
		Allow:        []string{"plain.test:" + strconv.Itoa(pp), "example.com:" + strconv.Itoa(tsp)},
		AllowPrivate: []string{"plain.test", "example.com"},
	}, map[string][]string{"plain.test": {"127.0.0.1"}, "example.com": {"127.0.0.1"}}, nil)

	tr := tlsSrv.Client().Transport.(*http.Transport).Clone() // trusts the test CA, which names example.com
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.invalid"})
	tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", tp.sock)
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, u := range []string{
		fmt.Sprintf("http://plain.test:%d/p", pp),
		fmt.Sprintf("https://example.com:%d/s", tsp),
	} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "ok /") {
			t.Fatalf("GET %s: %d %q", u, resp.StatusCode, b)
		}
	}
	// A host outside the allowlist fails with the proxy's message.
	_, err := client.Get("https://elsewhere.test/")
	if err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("non-allowlisted GET: err = %v", err)
	}
}

// TestResolvesOnce: the address the checks saw is the address dialled,
// whatever the resolver says later (DNS rebinding).
func TestResolvesOnce(t *testing.T) {
	port := echoServer(t)
	tp := startProxy(t, Policy{Allow: []string{"rebind.test:" + strconv.Itoa(port)}, AllowPrivate: []string{"127.0.0.1"}},
		map[string][]string{"rebind.test": {"127.0.0.1", "10.0.0.1", "10.0.0.1"}}, nil)
	connectOK := func() bool {
		c := tp.conn(t)
		fmt.Fprintf(c, "CONNECT rebind.test:%d HTTP/1.1\r\n\r\n", port)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "CONNECT"})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		return resp.StatusCode == 200
	}
	if !connectOK() {
		t.Fatal("first CONNECT refused")
	}
	if n := tp.res.count("rebind.test"); n != 1 {
		t.Fatalf("resolver called %d times for one request, want 1", n)
	}
	if d := tp.dial.dialled(); len(d) != 1 || d[0] != "127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("dialled %v", d)
	}
	if connectOK() {
		t.Fatal("second CONNECT allowed although the name now resolves to 10.0.0.1")
	}
	if d := tp.dial.dialled(); len(d) != 1 {
		t.Fatalf("dialled %v: the rebound answer reached the dialer", d)
	}
}

func TestUpstreamFailures(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// An upstream that answers garbage to plain HTTP.
	bad, _ := net.Listen("tcp", "127.0.0.1:0")
	t.Cleanup(func() { bad.Close() })
	go func() {
		for {
			c, err := bad.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "NOT HTTP AT ALL\r\n\r\n")
			c.Close()
		}
	}()
	badPort := bad.Addr().(*net.TCPAddr).Port
	tp := startProxy(t, Policy{Allow: []string{"down.test:" + strconv.Itoa(closedPort), "bad.test:" + strconv.Itoa(badPort)},
		AllowPrivate: []string{"127.0.0.1"}},
		map[string][]string{"down.test": {"127.0.0.1"}, "bad.test": {"127.0.0.1"}}, nil)

	resp, body := tp.raw(t, fmt.Sprintf("CONNECT down.test:%d HTTP/1.1\r\n\r\n", closedPort))
	if resp.StatusCode != 502 || !strings.Contains(body, `could not connect to host "down.test"`) {
		t.Fatalf("closed port: %d %q", resp.StatusCode, body)
	}
	resp, body = tp.raw(t, fmt.Sprintf("GET http://bad.test:%d/ HTTP/1.1\r\n\r\n", badPort))
	if resp.StatusCode != 502 || !strings.Contains(body, "did not answer with a valid HTTP response") {
		t.Fatalf("garbage upstream: %d %q", resp.StatusCode, body)
	}
	ds := tp.waitDecisions(t, 2)
	if ds[0].Reason != ReasonDialFailed || ds[0].Allowed || ds[1].Reason != ReasonUpstreamFailed {
		t.Fatalf("decisions = %+v", ds)
	}
}

func TestCloseEndsTunnels(t *testing.T) {
	port := echoServer(t)
	tp := startProxy(t, Policy{Allow: []string{"echo.test:" + strconv.Itoa(port)}, AllowPrivate: []string{"echo.test"}},
		map[string][]string{"echo.test": {"127.0.0.1"}}, nil)
	c := tp.conn(t)
	fmt.Fprintf(c, "CONNECT echo.test:%d HTTP/1.1\r\n\r\n", port)
	br := bufio.NewReader(c)
	if resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- tp.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not end an open tunnel")
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("tunnel still open after Close")
	}
	if ds := tp.all(); len(ds) != 1 || !ds[0].Allowed {
		t.Fatalf("the closed tunnel must still be reported: %+v", ds)
	}
	if _, err := net.Dial("unix", tp.sock); err == nil {
		t.Fatal("listener still accepts after Close")
	}
}
