package gitops

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// endpoint checks a remote URL and returns the URL go-git should use and the
// credentials to send with it. The token is only ever sent over https, or
// over http to a loopback host; a local path never gets it.
func endpoint(raw, token string) (string, transport.AuthMethod, error) {
	if raw == "" {
		return "", nil, errors.New("empty remote URL")
	}
	if !strings.Contains(raw, "://") {
		// A local path. Refuse scp-like "host:path", which go-git would
		// treat as SSH.
		if i := strings.IndexByte(raw, ':'); i >= 0 && !strings.Contains(raw[:i], "/") {
			return "", nil, errors.New("remote: scp-like URLs are not supported")
		}
		abs, err := filepath.Abs(raw)
		if err != nil {
			return "", nil, fmt.Errorf("remote: %w", err)
		}
		return abs, nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, errors.New("remote: malformed URL")
	}
	switch u.Scheme {
	case "file":
		return raw, nil, nil
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", nil, fmt.Errorf("remote: plain http is only allowed to a loopback host, not %q", u.Hostname())
		}
	default:
		return "", nil, fmt.Errorf("remote: unsupported scheme %q", u.Scheme)
	}
	if u.User != nil {
		return "", nil, errors.New("remote: credentials in the URL are refused; pass the token separately")
	}
	if u.Host == "" {
		return "", nil, errors.New("remote: URL has no host")
	}
	if token == "" {
		return raw, nil, nil
	}
	return raw, &githttp.BasicAuth{Username: "x-access-token", Password: token}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
