package deploy_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// serveDNS answers A queries for name with addrs on a loopback UDP port,
// as Docker's embedded DNS answers a scaled service's name.
func serveDNS(t *testing.T, name string, addrs ...[4]byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.EnableCompression()
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if q.Type == dnsmessage.TypeA && strings.EqualFold(q.Name.String(), name+".") {
				for _, a := range addrs {
					_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}, dnsmessage.AResource{A: a})
				}
			}
			msg, err := b.Finish()
			if err == nil {
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

// TestProxyRetriesAnotherIntake runs nginx with deploy/proxy.conf (the
// resolver and ports pointed at the test's) in front of two intake
// stand-ins that share the name "intake", as `--scale intake=2` does: one
// answers 503 (its database is away, or it is draining) and later stops
// listening, the other accepts. Every delivery reaches the one that
// accepts: none is lost to the failing replica.
func TestProxyRetriesAnotherIntake(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("nginx is required under CI=true (apt-get install nginx-light): %v", err)
		}
		t.Skipf("nginx not installed (apt-get install nginx-light): %v", err)
	}
	// Both replicas listen on one port, on two loopback addresses.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := free.Addr().(*net.TCPAddr).Port
	_ = free.Close()
	var failing, accepting atomic.Int64
	serve := func(ip string, status int, n *atomic.Int64) net.Listener {
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
		if err != nil {
			t.Skipf("listen on %s: %v", ip, err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || r.URL.Path != "/webhook" || r.Header.Get("X-GitHub-Delivery") == "" || len(body) == 0 {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			n.Add(1)
			w.WriteHeader(status)
		})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		return ln
	}
	bad := serve("127.0.0.2", http.StatusServiceUnavailable, &failing)
	serve("127.0.0.1", http.StatusAccepted, &accepting)
	dns := serveDNS(t, "intake", [4]byte{127, 0, 0, 2}, [4]byte{127, 0, 0, 1})

	conf, err := os.ReadFile("proxy.conf")
	if err != nil {
		t.Fatal(err)
	}
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frontAddr := front.Addr().String()
	_ = front.Close()
	dir := t.TempDir()
	text := string(conf)
	for old, repl := range map[string]string{
		"resolver 127.0.0.11 ":       "resolver " + dns + " ",
		"http://intake:8080":         fmt.Sprintf("http://intake:%d", port),
		"listen 8080;":               "listen " + frontAddr + ";",
		"pid /var/run/nginx.pid;":    "pid " + filepath.Join(dir, "nginx.pid") + ";",
		"/tmp/client_body":           filepath.Join(dir, "client_body"),
		"proxy_temp_path /tmp/proxy": "proxy_temp_path " + filepath.Join(dir, "proxy"),
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("proxy.conf no longer has %q", old)
		}
		text = strings.ReplaceAll(text, old, repl)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte("user root;\n"+text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", confPath, "-g", "daemon off;")
	logPath := filepath.Join(dir, "nginx.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// A file, not a pipe: nginx's worker processes hold it too.
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // the master stops its workers
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("nginx:\n%s", b)
		}
	})
	client := &http.Client{Timeout: 10 * time.Second}
	deliver := func(i int) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+frontAddr+"/webhook", strings.NewReader(`{"zen":"x"}`))
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("d-%d", i))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := deliver(-1); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	accepting.Store(0)
	failing.Store(0)
	const n = 12
	for i := range n {
		if code, err := deliver(i); err != nil || code != http.StatusAccepted {
			t.Errorf("delivery %d through the proxy: %d %v, want 202", i, code, err)
		}
	}
	if failing.Load() == 0 {
		t.Error("the failing replica got no delivery: the round robin over both addresses was not exercised")
	}
	if accepting.Load() != n {
		t.Errorf("the accepting replica took %d deliveries, want %d", accepting.Load(), n)
	}
	// The failing replica goes away (a stopped container): still none lost.
	_ = bad.Close()
	for i := range n {
		if code, err := deliver(100 + i); err != nil || code != http.StatusAccepted {
			t.Errorf("delivery %d with one replica gone: %d %v, want 202", i, code, err)
		}
	}
	// Probes stay inside: only POST /webhook is passed on.
	resp, err := client.Get("http://" + frontAddr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /readyz through the proxy: %d, want 404", resp.StatusCode)
	}
}
