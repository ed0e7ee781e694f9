package app

import (
	"fmt"
	"net"
	"net/http"

	"github.com/agentgate/agentgate/app/runpage"
)

// mountRunPages serves the run pages on the operator listener's mux.
func (s *Server) mountRunPages(mux *http.ServeMux) error {
	h, err := runpage.New(runpage.Config{
		Store: s.db, APIURL: s.cfg.GitHubAPIURL,
		ClientID: s.cfg.OAuthClientID, ClientSecret: s.cfg.OAuthClientSecret,
		PublicURL: s.cfg.PublicURL, AdminToken: s.cfg.AdminToken,
		Logger: s.log.With("component", "runpage"),
	})
	if err != nil {
		return fmt.Errorf("run pages (settings public-url, oauth-client-id, oauth-client-secret): %w", err)
	}
	h.Register(mux)
	return nil
}

// defaultPublicURL is the configured public URL, else http://ADDR when the
// operator listener is on a loopback address (a local install), else "".
func defaultPublicURL(configured string, addr net.Addr) string {
	if configured != "" {
		return configured
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return ""
	}
	return "http://" + tcp.String()
}
