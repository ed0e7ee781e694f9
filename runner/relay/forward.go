package relay

import (
	"fmt"
	"net/netip"
	"path"
	"strings"
)

// Forward is one loopback listener and the Unix socket its connections go to.
type Forward struct {
	Listen string // loopback address and port, e.g. "127.0.0.1:3128"
	Socket string // absolute path of the Unix socket, e.g. "/agentgate/sock/egress.sock"
}

// String is the command-line form, "127.0.0.1:3128=/agentgate/sock/egress.sock".
func (f Forward) String() string { return f.Listen + "=" + f.Socket }

// ParseForward parses the command-line form LISTEN=SOCKET. LISTEN must be a
// loopback IP literal with a port other than 0; SOCKET an absolute, clean path.
func ParseForward(s string) (Forward, error) {
	listen, sock, ok := strings.Cut(s, "=")
	if !ok {
		return Forward{}, fmt.Errorf("forward %q: want LISTEN=SOCKET", s)
	}
	f := Forward{Listen: listen, Socket: sock}
	if err := f.validate(); err != nil {
		return Forward{}, err
	}
	return f, nil
}

// validate checks that the listener is loopback-only and the socket path is
// absolute and clean.
func (f Forward) validate() error {
	ap, err := netip.ParseAddrPort(f.Listen)
	if err != nil {
		return fmt.Errorf("forward %q: listen address: %w", f.String(), err)
	}
	if !ap.Addr().IsLoopback() || ap.Port() == 0 {
		return fmt.Errorf("forward %q: listen address must be a loopback IP with a port", f.String())
	}
	if !strings.HasPrefix(f.Socket, "/") || path.Clean(f.Socket) != f.Socket || strings.ContainsRune(f.Socket, 0) {
		return fmt.Errorf("forward %q: socket must be an absolute, clean path", f.String())
	}
	return nil
}
