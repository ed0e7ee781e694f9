package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Run listens on every forward, runs the pre-flight, writes the Status line
// to status, and then forwards until ctx ends (nil error). When the
// pre-flight fails it writes a not-ready Status and returns an error with
// the same reason; the caller exits non-zero.
func Run(ctx context.Context, cfg Config, status io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return notReady(status, fmt.Errorf("config: %w", err))
	}
	cfg = cfg.withDefaults()
	fw := newForwarder(cfg.MaxConns, cfg.DialTimeout, cfg.Log)

	var lc net.ListenConfig
	var ls []net.Listener
	closeListeners := func() {
		for _, l := range ls {
			l.Close()
		}
	}
	for _, f := range cfg.Forwards {
		l, err := lc.Listen(ctx, "tcp", f.Listen)
		if err != nil {
			closeListeners()
			return notReady(status, fmt.Errorf("listen: %w", err))
		}
		ls = append(ls, l)
	}
	var serving sync.WaitGroup
	for i, f := range cfg.Forwards {
		serving.Add(1)
		go func() {
			defer serving.Done()
			fw.serve(ls[i], f.Socket)
		}()
	}
	shutdown := func() {
		closeListeners()
		serving.Wait()
		fw.closeAll()
	}

	if err := Preflight(ctx, cfg); err != nil {
		shutdown()
		return notReady(status, fmt.Errorf("pre-flight: %w", err))
	}
	if _, err := status.Write(Status{Ready: true}.line()); err != nil {
		shutdown()
		return fmt.Errorf("relay: write status: %w", err)
	}
	<-ctx.Done()
	shutdown()
	return nil
}

// notReady writes a not-ready Status for err and returns err.
func notReady(status io.Writer, err error) error {
	if _, werr := status.Write(Status{Ready: false, Reason: err.Error()}.line()); werr != nil {
		return errors.Join(err, fmt.Errorf("relay: write status: %w", werr))
	}
	return err
}
