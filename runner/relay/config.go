package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Defaults of Config.
const (
	DefaultProbeHost   = "preflight.agentgate.invalid"
	DefaultMaxConns    = 128
	DefaultDialTimeout = 5 * time.Second
)

// Config is what one relay forwards and checks.
type Config struct {
	Forwards []Forward
	// Egress is the Listen address of the forward that leads to the egress
	// proxy; the pre-flight's CONNECT goes through it.
	Egress string
	// ProbeHost is a host the egress proxy never allows (default
	// DefaultProbeHost); the pre-flight also resolves it.
	ProbeHost string
	// MaxConns bounds the connections open at once over all forwards
	// (default DefaultMaxConns); one more is closed at once.
	MaxConns int
	// DialTimeout bounds connecting to a socket (default DefaultDialTimeout).
	DialTimeout time.Duration

	// Interfaces and Lookup replace net.Interfaces and the pure-Go
	// resolver in tests.
	Interfaces func() ([]net.Interface, error)
	Lookup     func(ctx context.Context, host string) ([]string, error)
	// Log receives connection errors (default slog.Default()).
	Log *slog.Logger
}

// Validate checks that every forward is well formed, listen addresses are
// unique and Egress names one of them.
func (c Config) Validate() error {
	if len(c.Forwards) == 0 {
		return errors.New("no forward given")
	}
	seen := map[string]bool{}
	egress := false
	for _, f := range c.Forwards {
		if err := f.validate(); err != nil {
			return err
		}
		if seen[f.Listen] {
			return fmt.Errorf("listen address %s given twice", f.Listen)
		}
		seen[f.Listen] = true
		egress = egress || f.Listen == c.Egress
	}
	if !egress {
		return fmt.Errorf("egress address %q is not one of the forwards", c.Egress)
	}
	if c.MaxConns < 0 || c.DialTimeout < 0 {
		return errors.New("limits must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.ProbeHost == "" {
		c.ProbeHost = DefaultProbeHost
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Interfaces == nil {
		c.Interfaces = net.Interfaces
	}
	if c.Lookup == nil {
		r := &net.Resolver{PreferGo: true}
		c.Lookup = r.LookupHost
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}
