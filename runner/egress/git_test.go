package egress

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A real git client clones over HTTPS through inspection with basic auth
// it never holds: the proxy adds x-access-token:<token>. Without the
// credential binding (the positive control's counterpart) the same clone
// is refused by the server.
func TestGitCloneWithInjectedBasicAuth(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git on this machine")
	}
	out, err := exec.Command(gitBin, "--exec-path").Output()
	if err != nil {
		t.Skip("git --exec-path failed")
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skip("no git-http-backend")
	}
	const token = "git-real-token-0123456789abcdef"
	dir := t.TempDir()
	run := func(dir string, env []string, args ...string) (string, error) {
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append([]string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}, env...)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "README"), []byte("private repository\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "README"}, {"commit", "-qm", "first"}} {
		if o, err := run(src, nil, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, o)
		}
	}
	root := filepath.Join(dir, "srv")
	if o, err := run(dir, nil, "clone", "-q", "--bare", src, filepath.Join(root, "repo.git")); err != nil {
		t.Fatalf("bare clone: %v\n%s", err, o)
	}
	// The server would take a push: only the proxy's rules stop it.
	if o, err := run(filepath.Join(root, "repo.git"), nil, "config", "http.receivepack", "true"); err != nil {
		t.Fatalf("git config: %v\n%s", err, o)
	}

	// The "real" git server: smart HTTP over TLS, basic auth required.
	var authed, refused, pushes atomic.Int32
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	upCA, _ := NewCA("git-upstream", nil)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		if strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			pushes.Add(1)
		}
		(&cgi.Handler{Path: backend, Root: "/", Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}).ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return upCA.leaf(h.ServerName) }}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	roots := x509.NewCertPool()
	roots.AddCert(upCA.Certificate())

	clone := func(t *testing.T, inject *Inject) (string, string, error) {
		ca, err := NewCA("run", []string{"git.internal"})
		if err != nil {
			t.Fatal(err)
		}
		tp := startProxy(t, Policy{
			Allow: []string{"git.internal:" + port}, AllowPrivate: []string{"127.0.0.1/32"},
			Inspect: []Inspection{{Host: "git.internal:" + port, Rules: []string{"GET /repo.git/**", "POST /repo.git/git-upload-pack"}, Inject: inject}},
		}, map[string][]string{"git.internal": {"127.0.0.1"}}, func(o *Options) { o.CA, o.UpstreamRoots = ca, roots })
		// git reaches the proxy over TCP (the relay's loopback port in a run)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = tp.Serve(ln) }()
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "clone")
		o, err := run(dir, []string{"GIT_SSL_CAINFO=" + caFile, "HTTPS_PROXY=http://" + ln.Addr().String()},
			"clone", "-q", fmt.Sprintf("https://git.internal:%s/repo.git", port), dst)
		if err == nil {
			// the rules allow fetching only: a push is refused by the proxy
			_ = os.WriteFile(filepath.Join(dst, "NEW"), []byte("x"), 0o644)
			_, _ = run(dst, nil, "add", "NEW")
			_, _ = run(dst, nil, "commit", "-qm", "second")
			po, perr := run(dst, []string{"GIT_SSL_CAINFO=" + caFile, "HTTPS_PROXY=http://" + ln.Addr().String()}, "push", "-q", "origin", "main")
			if perr == nil || !strings.Contains(po, "403") || pushes.Load() != 0 {
				t.Errorf("push through fetch-only rules: %v, %d pushes reached the server\n%s", perr, pushes.Load(), po)
			}
		}
		return dst, o, err
	}

	t.Run("with the credential", func(t *testing.T) {
		dst, o, err := clone(t, &Inject{Credential: "GIT_TOKEN", Value: token, BasicUser: "x-access-token"})
		if err != nil {
			t.Fatalf("clone: %v\n%s", err, o)
		}
		if b, err := os.ReadFile(filepath.Join(dst, "README")); err != nil || string(b) != "private repository\n" {
			t.Errorf("cloned README %q %v", b, err)
		}
		if authed.Load() == 0 || strings.Contains(o, token) {
			t.Errorf("server authenticated %d requests; git output %q", authed.Load(), o)
		}
	})
	t.Run("without it", func(t *testing.T) {
		before := refused.Load()
		_, o, err := clone(t, nil)
		if err == nil || refused.Load() == before {
			t.Fatalf("clone without the credential: err %v, refused %d\n%s", err, refused.Load()-before, o)
		}
	})
}
