package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// forwarder accepts on listeners and pipes each connection to its socket.
type forwarder struct {
	sem         chan struct{} // one slot per open connection
	dialTimeout time.Duration
	log         *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{} // open connections, closed on shutdown
	wg    sync.WaitGroup
}

func newForwarder(maxConns int, dialTimeout time.Duration, log *slog.Logger) *forwarder {
	return &forwarder{
		sem:         make(chan struct{}, maxConns),
		dialTimeout: dialTimeout,
		log:         log,
		conns:       map[net.Conn]struct{}{},
	}
}

// serve accepts on l until l is closed, forwarding to socket.
func (fw *forwarder) serve(l net.Listener, socket string) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			fw.log.Error("relay: accept", "listen", l.Addr().String(), "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		select {
		case fw.sem <- struct{}{}:
		default:
			fw.log.Warn("relay: connection limit reached; closing", "listen", l.Addr().String(), "max", cap(fw.sem))
			c.Close()
			continue
		}
		fw.track(c, true)
		fw.wg.Add(1)
		go func() {
			defer fw.wg.Done()
			defer func() { <-fw.sem }()
			defer fw.track(c, false)
			fw.pipe(c, socket)
		}()
	}
}

// pipe connects c to socket and copies both ways until both sides are done.
// A socket that cannot be reached closes c.
func (fw *forwarder) pipe(c net.Conn, socket string) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), fw.dialTimeout)
	d := net.Dialer{}
	u, err := d.DialContext(ctx, "unix", socket)
	cancel()
	if err != nil {
		fw.log.Error("relay: dial socket; closing the connection", "socket", socket, "err", err)
		return
	}
	fw.track(u, true)
	defer fw.track(u, false)
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { copyHalf(u, c); done <- struct{}{} }()
	go func() { copyHalf(c, u); done <- struct{}{} }()
	<-done
	<-done
}

// closeWriter is a connection that can close its sending half.
type closeWriter interface{ CloseWrite() error }

// copyHalf copies src to dst, then closes dst's sending half (or all of
// dst when it cannot half-close) so the far side sees EOF.
func copyHalf(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if cw, ok := dst.(closeWriter); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	dst.Close()
}

// track records c as open (or closed).
func (fw *forwarder) track(c net.Conn, open bool) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if open {
		fw.conns[c] = struct{}{}
	} else {
		delete(fw.conns, c)
	}
}

// closeAll closes every open connection and waits for their goroutines.
func (fw *forwarder) closeAll() {
	fw.mu.Lock()
	for c := range fw.conns {
		c.Close()
	}
	fw.mu.Unlock()
	fw.wg.Wait()
}
