package runner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/runner/relayimage"
)

var (
	relayOnce sync.Once
	relayErr  error
)

// relayClient is dockerClient with the relay image built too.
func relayClient(t *testing.T) client.APIClient {
	t.Helper()
	cli := dockerClient(t)
	relayOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, relayErr = relayimage.EnsureImage(ctx, cli)
	})
	if relayErr != nil {
		t.Fatalf("build relay image: %v", relayErr)
	}
	return cli
}

// allowedHost is the one host the stand-in egress proxy lets through.
const allowedHost = "allowed.agentgate.test"

// standInProxy is a stand-in for the run's egress proxy on a Unix socket:
// CONNECT to allowedHost:PORT is tunnelled to upstream, a plain GET for
// allowedHost is answered by the proxy itself, anything else gets 403.
type standInProxy struct {
	allowProbe bool   // misconfigured: let every CONNECT through
	upstream   string // where an allowed CONNECT goes
	requests   atomic.Int64
	lastGet    atomic.Value // string: the last plain GET URL
}

func (p *standInProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	if r.Method == http.MethodConnect {
		host, _, _ := net.SplitHostPort(r.Host)
		if host != allowedHost && !p.allowProbe {
			http.Error(w, "agentgate: "+host+" is not allowlisted", http.StatusForbidden)
			return
		}
		up, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(up, brw)
		io.Copy(c, up)
		return
	}
	if r.URL.Hostname() != allowedHost {
		http.Error(w, "agentgate: "+r.URL.Hostname()+" is not allowlisted", http.StatusForbidden)
		return
	}
	p.lastGet.Store(r.URL.String())
	fmt.Fprintf(w, "stand-in proxy served %s\n", r.URL.String())
}

// serveSocket serves h on dir/name, connectable by the sandbox user.
func serveSocket(t *testing.T, dir, name string, h http.Handler) {
	t.Helper()
	l, err := ListenSocket(dir, name, DefaultUser())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// withNetwork gives s a relayed network whose egress socket is served by p
// (nil: no socket at all) and returns the socket directory.
func withNetwork(t *testing.T, s *sandbox, p *standInProxy) string {
	t.Helper()
	dir, err := MakeSocketDir(t.TempDir(), "sock-", DefaultUser()) // 0710, as the worker's
	if err != nil {
		t.Fatal(err)
	}
	if p != nil {
		serveSocket(t, dir, "egress.sock", p)
	}
	s.spec.Network = &Network{SocketDir: dir, Ports: map[int]string{3128: "egress.sock"}, EgressPort: 3128}
	return dir
}

// hostListener accepts TCP on every host address and closes each connection.
func hostListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "0.0.0.0:0")
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
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// hostAddrs lists the host's own non-loopback IPv4 addresses: eth0's, the
// docker0 bridge gateway and every other network's gateway.
func hostAddrs(t *testing.T) []string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				out = append(out, ipn.IP.String())
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("host has no non-loopback IPv4 address to probe")
	}
	return out
}

// plainContainer runs image on the default bridge with cmd (the test agent
// with task, when task is not empty) and returns its id; removed at cleanup.
func plainContainer(t *testing.T, cli client.APIClient, entrypoint []string, task string) string {
	t.Helper()
	ctx := context.Background()
	hc := &container.HostConfig{NetworkMode: "bridge", CapDrop: []string{"ALL"}}
	cfg := &container.Config{Image: testagent.Image, User: DefaultUserID, Labels: map[string]string{LabelManaged: "true"}}
	if entrypoint != nil {
		cfg.Entrypoint = entrypoint
	}
	if task != "" {
		f := filepath.Join(t.TempDir(), "task.md")
		if err := os.WriteFile(f, []byte(task), 0o644); err != nil {
			t.Fatal(err)
		}
		hc.Mounts = []mount.Mount{{Type: mount.TypeBind, Source: f, Target: TaskPath, ReadOnly: true}}
	}
	created, err := cli.ContainerCreate(ctx, cfg, hc, nil, nil, "")
	if err != nil {
		t.Fatalf("create control container: %v", err)
	}
	t.Cleanup(func() {
		cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start control container: %v", err)
	}
	return created.ID
}

// controlOutput runs the test agent on task in a plain bridge container and
// returns its output.
func controlOutput(t *testing.T, cli client.APIClient, task string) string {
	t.Helper()
	id := plainContainer(t, cli, nil, task)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitCh, errCh := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitCh:
	case err := <-errCh:
		t.Fatalf("control wait: %v", err)
	}
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("control logs: %v", err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		t.Fatalf("control logs: %v", err)
	}
	return out.String()
}

// probeLines returns the "connect ..." result lines of out, by address.
func probeLines(out string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == "connect" {
			m[f[1]] = f[2]
		}
	}
	return m
}

// TestRunNetworkIsolation shows that the relayed sandbox reaches nothing
// but its relay: direct TCP to the host's own addresses, every network's
// gateway and another container fails, while the same probes succeed from
// a plain container on the default bridge (the positive control); names do
// not resolve; the agent sees only lo; HTTP_PROXY leads to the stand-in
// proxy's Unix socket.
func TestRunNetworkIsolation(t *testing.T) {
	cli := relayClient(t)
	ctx := context.Background()

	// A network of our own adds one more host gateway address.
	netName := fmt.Sprintf("agentgate-relaytest-%d", os.Getpid())
	nw, err := cli.NetworkCreate(ctx, netName, network.CreateOptions{Labels: map[string]string{LabelManaged: "true"}})
	if err != nil {
		t.Fatalf("network create: %v", err)
	}
	t.Cleanup(func() { cli.NetworkRemove(context.Background(), nw.ID) })

	port := hostListener(t)
	var targets []string
	for _, a := range hostAddrs(t) {
		targets = append(targets, net.JoinHostPort(a, fmt.Sprint(port)))
	}
	// Another container, listening on the default bridge.
	other := plainContainer(t, cli, []string{"/bin/httpd", "-f", "-p", "8080"}, "")
	inspect, err := cli.ContainerInspect(ctx, other)
	if err != nil || inspect.NetworkSettings == nil || inspect.NetworkSettings.Networks["bridge"] == nil || inspect.NetworkSettings.Networks["bridge"].IPAddress == "" {
		t.Fatalf("inspect target container: %v", err)
	}
	targets = append(targets, net.JoinHostPort(inspect.NetworkSettings.Networks["bridge"].IPAddress, "8080"))

	var task strings.Builder
	for _, a := range targets {
		fmt.Fprintf(&task, "agentgate-test: connect %s\n", a)
	}
	t.Logf("probe targets: %v", targets)
	control := controlOutput(t, cli, task.String())
	got := probeLines(control)
	for _, a := range targets {
		if got[a] != "ok" {
			t.Fatalf("positive control could not reach %s (the test cannot tell isolation from a dead target):\n%s", a, control)
		}
	}

	upstream := hostListener(t)
	proxy := &standInProxy{upstream: fmt.Sprintf("127.0.0.1:%d", upstream)}
	s := newSandbox(t, task.String()+
		"agentgate-test: lookup allowed.agentgate.test\n"+
		"agentgate-test: lookup localhost.agentgate.invalid\n"+
		"agentgate-test: probe-net\n"+
		"agentgate-test: env\n"+
		"agentgate-test: proxyget http://"+allowedHost+"/hello\n"+
		"agentgate-test: proxyget http://denied.agentgate.test/\n")
	withNetwork(t, s, proxy)
	res, err := New(cli).Run(ctx, s.spec, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := string(res.Output)
	if res.ExitCode != 0 {
		t.Fatalf("exit %d:\n%s", res.ExitCode, out)
	}
	got = probeLines(out)
	for _, a := range targets {
		if got[a] != "fail:" {
			t.Errorf("sandbox: connect %s = %q, want fail", a, got[a])
		}
	}
	for _, want := range []string{
		"lookup allowed.agentgate.test fail:",
		"lookup localhost.agentgate.invalid fail:",
		"net interfaces=lo\n",
		"HTTP_PROXY=http://127.0.0.1:3128\n",
		"https_proxy=http://127.0.0.1:3128\n",
		"NO_PROXY=localhost,127.0.0.1\n",
		"proxyget http://" + allowedHost + "/hello status=200 body=stand-in proxy served http://" + allowedHost + "/hello\n",
		"proxyget http://denied.agentgate.test/ status=403 body=agentgate: denied.agentgate.test is not allowlisted\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sandbox output lacks %q:\n%s", want, out)
		}
	}
	if v, _ := proxy.lastGet.Load().(string); v != "http://"+allowedHost+"/hello" {
		t.Errorf("stand-in proxy saw GET %q", v)
	}
	// The pre-flight's CONNECT and the two GETs arrived at the socket.
	if n := proxy.requests.Load(); n != 3 {
		t.Errorf("stand-in proxy saw %d requests, want 3 (pre-flight CONNECT + 2 GETs)", n)
	}
	assertGone(t, cli, s.spec.RunID)
}
