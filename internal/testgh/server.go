package testgh

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// SpecPath is the OpenAPI description; empty means FindSpec from the
	// working directory.
	SpecPath string
	// AppID is the GitHub App id; app JWTs must carry iss = AppID.
	AppID int64
	// AppSlug names the app's bot user "<slug>[bot]"; default "agentgate".
	AppSlug string
	// AppPublicKey, when set, makes the server verify app JWTs (RS256).
	// When nil any bearer token is accepted on the /app endpoints.
	AppPublicKey *rsa.PublicKey
	// ResolveRef, when set, maps a branch name to its commit sha (e.g. by
	// asking the test git server). It is called with the server's lock held
	// and must not call back into the Server. Branches set with SetBranch
	// are consulted first.
	ResolveRef func(owner, repo, branch string) (sha string, ok bool)
	// GitDir, when set, maps a repository to its bare git directory (the
	// test git server's): the Git Data API endpoints read and write it
	// with the git CLI, so their commits and refs are real. It is called
	// with the server's lock held and must not call back into the Server.
	GitDir func(owner, repo string) (dir string, ok bool)
	// ValidateResponses makes the server also check every answer it gives
	// against the description's response schemas; a mismatch is a violation.
	ValidateResponses bool
	// Now is the clock (default time.Now); tests move it to expire tokens.
	Now func() time.Time
	// Logger receives one line per request (never a token); default discards.
	Logger *slog.Logger
}

// Server is the running stand-in. All methods are safe for concurrent use.
type Server struct {
	opts Options
	spec *spec
	http *httptest.Server
	log  *slog.Logger

	mu sync.Mutex
	st state
}

// New loads the description and starts the server on 127.0.0.1:0.
func New(opts Options) (*Server, error) {
	if opts.AppSlug == "" {
		opts.AppSlug = "agentgate"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.SpecPath == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("testgh: %w", err)
		}
		p, err := FindSpec(wd)
		if err != nil {
			return nil, fmt.Errorf("testgh: %w", err)
		}
		opts.SpecPath = p
	}
	sp, err := loadSpec(context.Background(), opts.SpecPath)
	if err != nil {
		return nil, fmt.Errorf("testgh: %w", err)
	}
	s := &Server{opts: opts, spec: sp, log: opts.Logger, st: newState()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testgh: listen: %w", err)
	}
	s.http = httptest.NewUnstartedServer(http.HandlerFunc(s.serveWeb))
	s.http.Listener.Close()
	s.http.Listener = ln
	s.http.Start()
	return s, nil
}

// URL is the server's base, e.g. http://127.0.0.1:port; the API is at
// URL()+"/api/v3/".
func (s *Server) URL() string { return s.http.URL }

// APIURL is URL()+"/api/v3/", the base URL for go-github's WithEnterpriseURLs.
func (s *Server) APIURL() string { return s.http.URL + apiPrefix + "/" }

// Close stops the server.
func (s *Server) Close() { s.http.Close() }

// BotLogin is the login of the app's bot user, "<slug>[bot]".
func (s *Server) BotLogin() string { return s.opts.AppSlug + "[bot]" }

func (s *Server) now() time.Time { return s.opts.Now().UTC() }
