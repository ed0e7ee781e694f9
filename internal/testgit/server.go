package testgit

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Authorizer decides whether token may read (write=false) or push to
// (write=true) repo ("owner/name"). token is "" when the client sent no
// credentials; returning false then makes the server ask for them.
type Authorizer func(token, repo string, write bool) bool

// Server is a running git smart-HTTP server.
type Server struct {
	root    string
	home    string // HOME and config isolation for every git the server runs
	auth    Authorizer
	backend *cgi.Handler
	srv     *httptest.Server

	mu        sync.Mutex
	workflows WorkflowsAuthorizer
	// failPushes is how many pushes are still answered 502 (FailPushes).
	failPushes int
}

// FailPushes makes the server answer the next n pushes (their first
// request, the receive-pack advertisement) with 502 Bad Gateway, as
// GitHub's git endpoint does in an outage.
func (s *Server) FailPushes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPushes = n
}

// failPush reports whether this request is a push to fail, counting it.
func (s *Server) failPush(r *http.Request, write bool) bool {
	if !write || r.Method != http.MethodGet {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failPushes <= 0 {
		return false
	}
	s.failPushes--
	return true
}

// BackendPath is where Debian installs git-http-backend.
const BackendPath = "/usr/lib/git-core/git-http-backend"

// New serves bare repositories under root with `git http-backend` behind
// net/http/cgi on a loopback listener. auth nil allows everything.
func New(root string, auth Authorizer) (*Server, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("testgit: %w", err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("testgit: %w", err)
	}
	backend, err := backendPath()
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp("", "testgit-home-")
	if err != nil {
		return nil, fmt.Errorf("testgit: %w", err)
	}
	s := &Server{root: root, home: home, auth: auth}
	hooks, err := installHooks(home)
	if err != nil {
		_ = os.RemoveAll(home)
		return nil, err
	}
	s.backend = &cgi.Handler{
		Path: backend,
		Root: "/",
		Dir:  root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + home,
			// Accept pushes, and check every pushed object as strictly as
			// GitHub does (tree order, names such as .git, identities).
			// A pre-receive hook refuses workflow changes as GitHub
			// does for an app without the workflows permission.
			"GIT_CONFIG_COUNT=3",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
			"GIT_CONFIG_KEY_1=receive.fsckObjects",
			"GIT_CONFIG_VALUE_1=true",
			"GIT_CONFIG_KEY_2=core.hooksPath",
			"GIT_CONFIG_VALUE_2=" + hooks,
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(home)
		return nil, fmt.Errorf("testgit: listen: %w", err)
	}
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s}}
	s.srv.Start()
	return s, nil
}

func backendPath() (string, error) {
	if _, err := os.Stat(BackendPath); err == nil {
		return BackendPath, nil
	}
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("testgit: git not found: %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("testgit: git-http-backend: %w", err)
	}
	return p, nil
}

// URL is the server's base URL, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// Root is the directory holding the bare repositories.
func (s *Server) Root() string { return s.root }

// Close stops the server and removes its private HOME.
func (s *Server) Close() {
	s.srv.Close()
	_ = os.RemoveAll(s.home)
}

// ServeHTTP authenticates the request and hands it to git http-backend.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	repo, write, err := classify(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	token := ""
	user, pass, ok := r.BasicAuth()
	if ok && user == "x-access-token" {
		token = pass
	}
	if s.auth != nil {
		if !s.auth(token, repo, write) {
			if !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="testgit"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			http.Error(w, "permission denied", http.StatusForbidden)
			return
		}
	}
	if s.failPush(r, write) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	s.backendFor(token, repo, write).ServeHTTP(w, r)
}

// classify returns the repository ("owner/name") a smart-HTTP request is
// for and whether it writes (receive-pack).
func classify(r *http.Request) (repo string, write bool, err error) {
	p := r.URL.Path
	i := strings.Index(p, ".git/")
	if i < 0 {
		return "", false, errors.New("not a repository path")
	}
	repo = strings.TrimPrefix(p[:i], "/")
	rest := p[i+len(".git/"):]
	if err := validName(repo); err != nil {
		return "", false, err
	}
	switch {
	case rest == "info/refs":
		switch r.URL.Query().Get("service") {
		case "git-upload-pack":
		case "git-receive-pack":
			write = true
		default:
			return "", false, errors.New("dumb protocol not served")
		}
	case rest == "git-upload-pack":
	case rest == "git-receive-pack":
		write = true
	default:
		return "", false, errors.New("not a smart-HTTP endpoint")
	}
	return repo, write, nil
}

// validName accepts "owner/name" made of safe characters.
func validName(name string) error {
	parts := strings.Split(name, "/")
	if len(parts) != 2 {
		return fmt.Errorf("repository %q: want owner/name", name)
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.HasPrefix(p, "-") {
			return fmt.Errorf("repository %q: bad component", name)
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return fmt.Errorf("repository %q: bad character", name)
			}
		}
	}
	return nil
}
